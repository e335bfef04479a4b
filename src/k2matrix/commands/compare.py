"""``k2matrix compare CANDIDATE --baseline BASELINE [--threshold 5%] [--confidence 0.99]
[--format table|json|markdown] [--metric time|relative] [--noise DIR|none] [--force]
[--out FILE]``: two runs compared cell by cell over their trials
(:func:`k2matrix.compare.runs.compare_runs`). :class:`ComparisonCommand` is what
``compare``, ``ab`` and ``noise`` share: the comparison options and the document's output.

Exit codes: 0 no regression, 1 a cell is a regression, 2 bad input (no traceback).
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from k2matrix.commands.arguments import add_confidence, add_threshold
from k2matrix.commands.base import Command

V = TypeVar("V")
METRICS = ("time", "relative")
METRIC_HELP = ("what a trial contributes: the median round time (default), or the cell's "
               "time relative to its in-run reference, round by round, where the cell has "
               "one (drift of the machine cancels; a change the reference shares cancels too)")


@dataclass(frozen=True)
class Judging:
    """How a comparison judges: the smallest change that counts, the intervals'
    confidence, what a trial contributes."""

    threshold: float
    confidence: float
    metric: str = "time"

    @classmethod
    def of(cls, args: argparse.Namespace) -> Judging:
        return cls(args.threshold, args.confidence, args.metric)


class ComparisonCommand(Command[V, dict[str, Any]]):
    """A command whose result is a comparison document (``compare``, ``ab``, ``noise``)."""

    formats: ClassVar[tuple[str, ...]] = ("table", "json", "markdown")
    writes_out: ClassVar[bool] = True

    def add_judging(self, parser: argparse.ArgumentParser) -> None:
        add_threshold(parser)
        add_confidence(parser)
        parser.add_argument("--metric", choices=METRICS, default="time", help=METRIC_HELP)

    def render(self, result: dict[str, Any], fmt: str) -> str:
        from k2matrix.compare.render import render

        return render(result, fmt) + "\n"

    def headline(self, result: dict[str, Any], fmt: str, text: str) -> str:
        from k2matrix.compare.render import table

        return table(result).splitlines()[-1] if fmt != "table" else text.removesuffix("\n")

    def finish(self, result: dict[str, Any], values: V) -> int:
        from k2matrix.compare.runs import exit_code

        return exit_code(result)


@dataclass(frozen=True)
class CompareValues:
    candidate: str
    baseline: str
    judging: Judging
    noise: str | None = None
    force: bool = False


class CompareCommand(ComparisonCommand[CompareValues]):
    name = "compare"
    help = "compare a run with a baseline over their trials"
    description = ("Compare CANDIDATE with BASELINE cell by cell over their trials (run them "
                   "with --trials N): change, interval, noise floor and a verdict per cell. "
                   "Exit 0 no regression, 1 a regression, 2 bad input.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("candidate", metavar="CANDIDATE",
                            help="a results directory (results/<run-id>) or a "
                                 "pytest-benchmark JSON file")
        parser.add_argument("--baseline", metavar="BASELINE", required=True,
                            help="the run to compare with")
        self.add_judging(parser)
        parser.add_argument("--noise", metavar="DIR",
                            help="noise floors from this `k2matrix noise` run (default: "
                                 "results/noise-latest beside the candidate when it "
                                 "applies; 'none' for none)")
        parser.add_argument("--force", action="store_true",
                            help="compare even when the matrix, the profile, the kind of "
                                 "machine or the backends' modes differ (the output says so)")

    def values(self, args: argparse.Namespace) -> CompareValues:
        return CompareValues(args.candidate, args.baseline, Judging.of(args), args.noise,
                             args.force)

    def run(self, values: CompareValues) -> dict[str, Any]:
        from k2matrix.compare.noise import noise_for
        from k2matrix.compare.runs import compare_runs
        from k2matrix.results.load import load_run

        baseline, candidate = load_run(values.baseline), load_run(values.candidate)
        results = Path(values.candidate).resolve().parent
        models, notes = noise_for(values.noise, results, candidate.k2)
        judging = values.judging
        return compare_runs(baseline, candidate, threshold=judging.threshold,
                            confidence=judging.confidence, noise=models, force=values.force,
                            notes=notes, metric=judging.metric)
