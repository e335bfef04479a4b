"""``k2matrix run [--profile NAME] [-n N] [--matrix PATH] [--tests PATH] [--results DIR]
[--trials N] [--clock …] [pytest args…]``: the sweep through pytest (tests/performance
beside the matrix), its results merged; what k2matrix does not know goes to pytest.
``k2matrix run --cell ID``: re-measure a counterexample ``k2matrix explore`` wrote.

Exit codes: pytest's (2 when pytest refused its arguments or on bad input)."""

from __future__ import annotations

import argparse
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from k2matrix.commands.arguments import (
    PREFIX,
    add_clock,
    add_matrix,
    add_profile,
    add_results,
    add_tests,
    add_trials,
    add_workers,
)
from k2matrix.commands.base import EXIT_USAGE, Command
from k2matrix.errors import K2Error
from k2matrix.options import check_clock


@dataclass(frozen=True)
class RunValues:
    matrix: str
    profile: str
    tests: str | None = None
    results: str | None = None  # None: the plugin's default (results/)
    numprocesses: str | None = None
    cell: list[str] = field(default_factory=list)
    trials: int = 1
    clock: str = "wall"
    pytest_args: list[str] = field(default_factory=list)


class RunCommand(Command[RunValues, int]):
    name = "run"
    help = "run a profile's sweep with pytest and merge the results"
    description = ("Run a profile's sweep with pytest (tests/performance beside the matrix) "
                   "and merge its results into results/<run-id>; results/latest points at "
                   "it, and results/latest-<profile> too when every planned cell passed.")
    epilog = ("Every argument k2matrix does not know goes to pytest, as it is: -k EXPR "
              "(pytest's substring match on test ids), -x, -m slow, --k2-run-id ID (a name: "
              "letters, digits, '.', '_', '-'), --k2-draws N, --k2-shard I/N, "
              "--k2-resume DIR and the other --k2-* options (pytest --help lists them). "
              "Workers on other hosts: --px id=H//ssh=HOST//python=PY --tx N*popen//via=H "
              "(docs/hosts.md).")
    passes_unknown = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_matrix(parser)
        add_profile(parser)
        add_workers(parser)
        add_results(parser)
        add_tests(parser)
        parser.add_argument("--cell", action="append", default=[], metavar="ID",
                            help="re-measure a counterexample k2matrix explore wrote "
                                 "(repeatable); looked up in results/*/counterexamples.json")
        add_trials(parser, 1, "trials of every cell, the cells in a random order in each "
                              "(statistics over trials: k2matrix compare)")
        add_clock(parser)
        parser.add_argument("--keep-subjects", action="store_true",
                            help="keep the Schema Registry subjects the sweep registered "
                                 "(deleted at its end by default; docs/cluster.md)")

    def values(self, args: argparse.Namespace) -> RunValues:
        return RunValues(matrix=args.matrix, profile=args.profile, tests=args.tests,
                         results=args.results, numprocesses=args.numprocesses,
                         cell=list(args.cell), trials=args.trials, clock=args.clock,
                         pytest_args=[*args.extra,
                                      *(["--k2-keep-subjects"] if args.keep_subjects else [])])

    def run(self, values: RunValues) -> int:
        return _run(values)

    def finish(self, result: int, values: RunValues) -> int:
        return result  # pytest's exit code


def _run(args: RunValues) -> int:
    import pytest

    from k2matrix.matrix import load_matrix
    from k2matrix.options import check_writable
    from k2matrix.sweep.command import SweepCommand

    matrix_path = Path(args.matrix)
    load_matrix(matrix_path).cells(args.profile)  # fail early: a bad matrix or profile
    check_clock(args.clock)
    if args.tests:
        suites = Path(args.tests)
        if not suites.exists():
            raise K2Error(f"--tests {suites}: no such file or directory; pass the folder or "
                          "file of the benchmark suites (default: tests/performance beside "
                          "the matrix)")
    else:
        suites = matrix_path.resolve().parent / "tests" / "performance"
        if not suites.exists():
            raise K2Error(f"no benchmark suites at {suites} (tests/performance beside "
                          f"{matrix_path}); pass --tests PATH")
    if args.results:
        check_writable("--results", args.results, folder=True)
    command = SweepCommand(
        suites=suites, matrix=matrix_path, profile=args.profile,
        results=Path(args.results) if args.results else None,
        cells=_replay_file(args) if args.cell else None,
        trials=args.trials if args.trials > 1 else None,  # one trial: a plain session
        clock=args.clock, workers=args.numprocesses, pytest_args=tuple(args.pytest_args))
    argv = command.main_args()
    code = int(pytest.main(argv))
    if code == pytest.ExitCode.USAGE_ERROR:  # pytest has printed what it refused
        return EXIT_USAGE
    if code == pytest.ExitCode.NO_TESTS_COLLECTED:
        print(f"{PREFIX}no benchmark ran (pytest exit 5): check the profile and the selection",
              file=sys.stderr)
    return code


def _replay_file(args: RunValues) -> Path:
    """The cells ``--cell ID`` names, found among written counterexamples, in one file."""
    from k2matrix.explore.store import find_cell
    from k2matrix.results.cell_files import write_cells

    results = Path(args.results or "results")
    cells = [find_cell(results, cell_id)[0] for cell_id in args.cell]
    path = Path(".k2matrix") / "replay" / f"{time.strftime('%Y%m%d-%H%M%S')}.cells.json"
    return write_cells(path, cells)
