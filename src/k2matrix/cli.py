"""The ``k2matrix`` command.

- ``k2matrix cells [--matrix PATH] [--profile NAME] [--format table|json]``: list a profile's
  cells.
- ``k2matrix run [--profile NAME] [-n N] [--matrix PATH] [pytest args…]``: run the sweep
  through pytest (tests/performance next to the matrix) and merge its results.
- ``k2matrix run --cell ID``: re-measure a counterexample ``k2matrix explore`` wrote.
- ``k2matrix explore PROPERTY …``: search a property's space for a performance
  counterexample (:mod:`k2matrix.explore`).
- ``k2matrix merge DIR… --out DIR [--force]``: combine shards or runs into one.
- ``k2matrix summary RUN …``: the Polars summary (see ``k2matrix summary --help``).

Bad input: a message naming the problem and the fix on stderr, exit code 2, no traceback.
"""

from __future__ import annotations

import argparse
import contextlib
import json
import signal
import sys
import threading
import time
from collections.abc import Iterator, Sequence
from pathlib import Path
from typing import Any

from k2matrix.ab.command import add_ab_parsers
from k2matrix.compare.command import add_compare_parser
from k2matrix.errors import K2Error
from k2matrix.explore.command import add_explore_parser
from k2matrix.options import CLOCK_HELP, CLOCKS, check_clock, trials, workers
from k2matrix.summary.command import add_summary_parser

EXIT_OK, EXIT_USAGE = 0, 2


class _Parser(argparse.ArgumentParser):
    def error(self, message: str) -> Any:  # argparse's own errors: exit 2, no traceback
        self.print_usage(sys.stderr)
        print(f"k2matrix: error: {message}", file=sys.stderr)
        raise SystemExit(EXIT_USAGE)


def _cmd_cells(args: argparse.Namespace) -> int:
    from k2matrix.matrix import load_matrix

    matrix = load_matrix(args.matrix)
    cells = matrix.cells(args.profile)
    if args.format == "json":
        out = []
        for c in cells:
            entry = c.axes()
            entry["seed"] = c.seed
            entry["slow"] = c.slow
            entry["targets"] = [t.name for t in matrix.targets_for(c)]
            out.append(entry)
        print(json.dumps(out, indent=2))
        return EXIT_OK
    axes = sorted({k for c in cells for k in c.params if k != "schema"})
    header = ["id", "component", "case", "schema", *axes]
    rows = [[c.id, c.component, c.case, c.schema or "-",
             *[str(c.params.get(a, "-")) for a in axes]] for c in cells]
    widths = [max(len(str(x)) for x in col) for col in zip(header, *rows, strict=False)]
    for row in [header, *rows]:
        print("  ".join(str(x).ljust(w) for x, w in zip(row, widths, strict=True)).rstrip())
    print(f"\n{len(cells)} cells in profile {args.profile!r} of {args.matrix}")
    return EXIT_OK


def _cmd_run(args: argparse.Namespace) -> int:
    import pytest

    from k2matrix.matrix import load_matrix
    from k2matrix.summary.command import check_writable
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
        print("k2matrix: no benchmark ran (pytest exit 5): check the profile and the selection",
              file=sys.stderr)
    return code


def _replay_file(args: argparse.Namespace) -> Path:
    """The cells ``--cell ID`` names, found among written counterexamples, in one file."""
    from k2matrix.explore.store import find_cell
    from k2matrix.results.cell_files import write_cells

    results = Path(args.results or "results")
    cells = [find_cell(results, cell_id)[0] for cell_id in args.cell]
    path = Path(".k2matrix") / "replay" / f"{time.strftime('%Y%m%d-%H%M%S')}.cells.json"
    return write_cells(path, cells)


def _cmd_merge(args: argparse.Namespace) -> int:
    from k2matrix.results.merge import merge_dirs
    from k2matrix.summary.command import check_writable

    check_writable("--out", args.out, folder=True)
    doc = merge_dirs([Path(d) for d in args.dirs], Path(args.out), force=args.force)
    k2 = doc["k2"]
    print(f"merged {len(args.dirs)} runs into {args.out}: {k2['cells_passed']} cells passed, "
          f"{len(k2['failed'])} failed, {len(k2['cells_missing'])} missing")
    return EXIT_OK


def build_parser() -> argparse.ArgumentParser:
    parser = _Parser(prog="k2matrix", description="K2 workload matrix runner")
    sub = parser.add_subparsers(dest="command", required=True, parser_class=_Parser)

    cells = sub.add_parser("cells", help="list the cells of a profile")
    cells.add_argument("--matrix", default="matrix.toml", help="matrix file (matrix.toml)")
    cells.add_argument("--profile", default="smoke", help="profile name (smoke)")
    cells.add_argument("--format", choices=("table", "json"), default="table")
    cells.set_defaults(func=_cmd_cells)

    run = sub.add_parser("run", help="run a profile's sweep with pytest and merge the results")
    run.add_argument("--matrix", default="matrix.toml", help="matrix file (matrix.toml)")
    run.add_argument("--profile", default="smoke", help="profile name (smoke)")
    run.add_argument("-n", "--numprocesses", default=None, type=workers,
                     help="pytest-xdist workers (a number or auto); default: no xdist")
    run.add_argument("--results", default=None, help="results folder (results/)")
    run.add_argument("--tests", default=None,
                     help="benchmark suites (default: tests/performance beside the matrix)")
    run.add_argument("--cell", action="append", default=[], metavar="ID",
                     help="re-measure a counterexample k2matrix explore wrote (repeatable); "
                          "looked up in results/*/counterexamples.json")
    run.add_argument("--trials", type=trials, default=1,
                     help="measure every cell in N trials, each a fresh process, cells in a "
                          "random order (statistics over trials: k2matrix compare)")
    run.add_argument("--clock", choices=CLOCKS, default="wall", help=CLOCK_HELP)
    run.set_defaults(func=_cmd_run)

    merge = sub.add_parser("merge", help="combine shards or runs into one run directory")
    merge.add_argument("dirs", nargs="+", help="run directories")
    merge.add_argument("--out", required=True, help="the merged run directory to write")
    merge.add_argument("--force", action="store_true",
                       help="merge even if matrix, profile or machine kind differ")
    merge.set_defaults(func=_cmd_merge)

    add_summary_parser(sub)  # sets func=run_summary
    add_compare_parser(sub)
    add_ab_parsers(sub)
    add_explore_parser(sub)

    doctor = sub.add_parser("doctor", help="preflight: check every configured backend")
    doctor.add_argument("--matrix", default="matrix.toml", help="default: matrix.toml")
    doctor.set_defaults(func=_cmd_doctor)
    return parser


def _cmd_doctor(args: argparse.Namespace) -> int:
    from k2matrix.tools.doctor import doctor

    return doctor(Path(args.matrix))


@contextlib.contextmanager
def terminate_as_interrupt() -> Iterator[None]:
    """Inside, SIGTERM (``timeout``, a CI runner's limit, ``kill``) takes the way out of
    Ctrl-C: a running trial is stopped and what was measured is folded and kept (by default
    SIGTERM ends the process at once and leaves the trial's pytest running). Only in the
    main thread, where Python delivers signals; the earlier handler comes back after."""
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def _interrupt(signum: int, frame: object) -> None:
        raise KeyboardInterrupt

    before = signal.signal(signal.SIGTERM, _interrupt)
    try:
        yield
    finally:
        signal.signal(signal.SIGTERM, before)


def main(argv: Sequence[str] | None = None) -> int:
    argv = list(sys.argv[1:] if argv is None else argv)
    parser = build_parser()
    if argv and argv[0] == "run":  # what k2matrix does not know goes to pytest
        args, extra = parser.parse_known_args(argv)
        args.pytest_args = extra
    else:
        args = parser.parse_args(argv)
    try:
        with terminate_as_interrupt():
            return int(args.func(args))
    except K2Error as exc:
        print(f"k2matrix: {exc}", file=sys.stderr)
        return EXIT_USAGE
    except KeyboardInterrupt:
        print("k2matrix: interrupted; finished cells are kept in the journal", file=sys.stderr)
        return 130


if __name__ == "__main__":
    sys.exit(main())
