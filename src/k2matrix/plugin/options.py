"""The plugin's command-line options and what they mean: ``--k2-*``, the shard and trial
specs, and how ``-m`` selects the slow cells."""

from __future__ import annotations

import os
import shlex
from collections.abc import Callable, Iterable

import pytest
from _pytest.mark import MarkMatcher  # pytest's own -m evaluation (pytest is pinned)
from _pytest.mark.expression import Expression

from k2matrix.matrix import CaseDef
from k2matrix.options import CLOCKS, run_id


def pytest_addoption(parser: pytest.Parser) -> None:
    group = parser.getgroup("k2matrix", "k2matrix workload matrix")
    group.addoption("--k2-matrix", metavar="PATH", default=None,
                    help="the matrix file (default: matrix.toml at the rootdir)")
    group.addoption("--k2-profile", metavar="NAME", default="smoke",
                    help="the profile whose cells the suites run (default: smoke)")
    group.addoption("--k2-results", metavar="DIR", default=None,
                    help="where run directories go (default: results/ at the rootdir)")
    group.addoption("--k2-run-id", metavar="ID", default=None, type=run_id,
                    help="the run directory's name (default: a timestamp and the profile)")
    group.addoption("--k2-resume", metavar="DIR", default=None,
                    help="resume the run in DIR: run only its missing or failed cells, merge")
    group.addoption("--k2-shard", metavar="I/N", default=None,
                    help="run only shard I of N (a deterministic slice of the cells)")
    group.addoption("--k2-workdir", metavar="DIR", default=None,
                    help="cache folder for datasets and warehouses (default: .k2matrix/)")
    group.addoption("--k2-trials", metavar="N", default=1, type=_positive("--k2-trials"),
                    help="measure every cell in N trials, each a fresh process with the "
                         "cells in a random order; statistics over trials (default: 1)")
    group.addoption("--k2-trial", metavar="K/N", default=None,
                    help="this process is trial K of N (set by --k2-trials and k2matrix ab)")
    group.addoption("--k2-cells", metavar="FILE", default=None,
                    help="run the cells listed in FILE (JSON, as k2matrix explore writes "
                         "them) instead of the profile's: replayed counterexamples, drawn "
                         "workloads")
    group.addoption("--k2-draws", metavar="N", default=0, type=_count("--k2-draws"),
                    help="every grid cell also runs N data shapes drawn from its seed "
                         "(ids end in -dK); default: 0")
    group.addoption("--k2-clock", metavar="CLOCK", default="wall",
                    choices=CLOCKS,
                    help="what a round's figure is: wall (default) time, the process's cpu "
                         "time, or the instructions callgrind counts (the session re-runs "
                         "itself under valgrind; cells that cannot be counted are skipped)")
    group.addoption("--k2-order-seed", metavar="S", default=None, type=int,
                    help="run the cells in an order shuffled by seed S (same S, same order "
                         "in every xdist worker)")
    group.addoption("--k2-keep-subjects", action="store_true", default=False,
                    help="keep the Schema Registry subjects the cells registered (default: "
                         "deleted when the suite ends)")


def _positive(option: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = 0
        if value < 1:
            raise pytest.UsageError(f"{option}={text!r}: use a whole number, 1 or more")
        return value
    return parse


def _count(option: str) -> Callable[[str], int]:
    def parse(text: str) -> int:
        try:
            value = int(text)
        except ValueError:
            value = -1
        if not 0 <= value <= 1000:
            raise pytest.UsageError(f"{option}={text!r}: use a whole number from 0 to 1000")
        return value
    return parse


def parse_shard(text: str | None, option: str = "--k2-shard") -> tuple[int, int] | None:
    if not text:
        return None
    try:
        index_text, count_text = text.split("/")
        index, count = int(index_text), int(count_text)
    except ValueError:
        raise pytest.UsageError(f"{option}={text!r}: write it as I/N, e.g. 1/4") from None
    if count < 1 or not 1 <= index <= count:
        raise pytest.UsageError(f"{option}={text!r}: I must be from 1 to N and N at least 1")
    return index, count


def slow_selection(markexpr: str | None, cases: Iterable[CaseDef]) -> bool | None:
    """What ``-m EXPR`` says about the slow cells, by pytest's own evaluation of EXPR against
    the marks a slow cell carries (``k2(component=..., case=...)`` and ``slow``) and against
    the same marks without ``slow``:

    - True when EXPR selects a slow cell but not the same cell without ``slow`` (``-m slow``):
      the slow cells join the sweep even if the profile leaves them out;
    - False when EXPR selects no slow cell (``-m "not slow"``, ``-m slowish``): pytest would
      deselect them, so they are not planned either;
    - None when ``slow`` makes no difference (no ``-m``, ``-m k2``): the profile decides.
    """
    if not markexpr:
        return None
    try:
        expr = Expression.compile(markexpr)
    except SyntaxError:
        return None  # pytest itself refuses it, naming the error, when it deselects
    answers: set[bool | None] = set()
    for case in cases:
        if not case.slow:
            continue
        k2 = pytest.mark.k2(component=case.component, case=case.name).mark
        selected = expr.evaluate(MarkMatcher.from_markers([k2, pytest.mark.slow.mark]))
        without_slow = expr.evaluate(MarkMatcher.from_markers([k2]))
        answers.add(None if selected and without_slow else selected)
    if True in answers:
        return True
    if None in answers or not answers:
        return None
    return False


def option_given(config: pytest.Config, option: str) -> bool:
    """Whether ``option`` is among everything pytest parsed: the ini file's ``addopts``,
    ``PYTEST_ADDOPTS`` and the command line (under xdist each worker parses the same)."""
    args = [*config.getini("addopts"), *shlex.split(os.environ.get("PYTEST_ADDOPTS", "")),
            *(str(a) for a in config.invocation_params.args)]
    return any(a == option or a.startswith(f"{option}=") for a in args)
