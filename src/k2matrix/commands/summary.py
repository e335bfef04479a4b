"""``k2matrix summary RUN [--baseline RUN] [--format table|markdown|json|html] [--out FILE]
[--plots DIR] [--export-gab FILE] [--threshold 5%] [--confidence 0.99] [--force]
[--fail-on LEVEL]``: the Polars summary of a run (:mod:`k2matrix.summary`). ``python -m
k2matrix.summary`` is the same command.

Exit codes: 0 fine; 1 a regression against the baseline or a verdict at ``--fail-on`` or
worse (default: blocking); 2 bad input (missing file, not a results file, incompatible
baseline), with a message and no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING

from k2matrix.commands.arguments import add_confidence, add_threshold
from k2matrix.commands.base import Command
from k2matrix.options import check_writable

if TYPE_CHECKING:
    from k2matrix.summary.build import Summary


@dataclass(frozen=True)
class SummaryValues:
    run: str
    baseline: str | None
    threshold: float
    confidence: float
    force: bool = False
    plots: Path | None = None
    export_gab: Path | None = None
    fail_on: str = "Blocking"


class SummaryCommand(Command[SummaryValues, "Summary"]):
    name = "summary"
    help = "scaling, verdict and baseline comparison of a run"
    description = ("Summarize a run: the environment it measured in, per-cell timings and "
                   "status against the targets, scaling fits, the K2 verdict with the cells "
                   "that decided it and, with --baseline, regressions. Exit 0 fine, 1 a "
                   "regression or a verdict at --fail-on or worse (default blocking), 2 bad "
                   "input.")
    formats = ("table", "markdown", "json", "html")
    writes_out = True

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("run", metavar="RUN",
                            help="a results directory (results/<run-id>) or a "
                                 "pytest-benchmark JSON file")
        parser.add_argument("--baseline", metavar="RUN",
                            help="compare with this run (raw rounds: --benchmark-save-data)")
        parser.add_argument("--plots", metavar="DIR", help="write PNG plots into DIR")
        parser.add_argument("--export-gab", metavar="FILE",
                            help="write github-action-benchmark customSmallerIsBetter JSON")
        add_threshold(parser, "--fail-threshold")
        add_confidence(parser)
        parser.add_argument("--force", action="store_true",
                            help="compare even when the matrix, the profile, the kind of "
                                 "machine or the backends' modes differ (the output says so)")
        parser.add_argument("--fail-on", type=_level, default="Blocking", metavar="LEVEL",
                            help="exit 1 when the verdict is LEVEL or worse: good, counted, "
                                 "acceptable, incomplete, needs-investigation or blocking "
                                 "(default: blocking), for CI")

    def values(self, args: argparse.Namespace) -> SummaryValues:
        plots = check_writable("--plots", args.plots, folder=True) if args.plots else None
        gab = check_writable("--export-gab", args.export_gab) if args.export_gab else None
        return SummaryValues(args.run, args.baseline, args.threshold, args.confidence,
                             args.force, plots, gab, args.fail_on)

    def run(self, values: SummaryValues) -> Summary:
        from k2matrix.summary.build import build_summary

        return build_summary(values.run, values.baseline, threshold=values.threshold,
                             confidence=values.confidence, force=values.force,
                             fail_on=values.fail_on)

    def render(self, result: Summary, fmt: str) -> str:
        if fmt == "json":
            # compact: the C encoder (indent= falls back to the pure-Python one, 10x slower)
            return json.dumps(result.to_dict(), allow_nan=False) + "\n"
        if fmt == "markdown":
            from k2matrix.summary.render import render_markdown

            return render_markdown(result)
        if fmt == "html":
            from k2matrix.summary.html import render_html

            return render_html(result)
        from k2matrix.summary.render import render_table

        return render_table(result)

    def headline(self, result: Summary, fmt: str, text: str) -> str:
        from k2matrix.summary.render import headline

        return "\n".join(headline(result))

    def finish(self, result: Summary, values: SummaryValues) -> int:
        if values.plots is not None:
            from k2matrix.summary.plots import write_plots

            paths = write_plots(result, values.plots)
            print(f"Wrote {len(paths)} plot(s) to {values.plots}", file=sys.stderr)
        if values.export_gab is not None:
            from k2matrix.summary.export import write_gab

            write_gab(result, values.export_gab)
        return result.exit_code


def _level(text: str) -> str:
    """``--fail-on``: a verdict level (checked without loading Polars)."""
    from k2matrix.summary.verdict import level

    return level(text)
