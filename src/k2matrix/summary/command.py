"""The ``k2matrix summary`` subcommand: arguments, output, exit codes.

Exit codes: 0 fine; 1 a regression against the baseline or a Blocking verdict; 2 bad input
(missing file, not a results file, incompatible baseline), with a message and no traceback.
"""

from __future__ import annotations

import argparse
import json
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2matrix.compare.command import confidence
from k2matrix.compare.statistics import DEFAULT_CONFIDENCE, DEFAULT_THRESHOLD
from k2matrix.errors import ResultsError
from k2matrix.options import check_writable, fraction, write_text

if TYPE_CHECKING:
    from k2matrix.summary.build import Summary

__all__ = ["add_summary_parser", "check_writable", "main", "run_summary"]
FORMATS = ("table", "markdown", "json", "html")


def add_summary_parser(subparsers: Any) -> None:
    """Register ``summary`` on an argparse subparsers object (``run_summary`` runs it)."""
    parser = subparsers.add_parser(
        "summary", help="scaling, verdict and baseline comparison of a run",
        description="Summarize a run: per-cell timings and status against the targets, "
                    "scaling fits, the K2 verdict and, with --baseline, regressions. "
                    "Exit 0 fine, 1 regression or Blocking verdict, 2 bad input.")
    configure_parser(parser)


def configure_parser(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("run", metavar="RUN",
                        help="a results directory (results/<run-id>) or a pytest-benchmark "
                             "JSON file")
    parser.add_argument("--baseline", metavar="RUN",
                        help="compare with this run (raw rounds: --benchmark-save-data)")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="output format (default: table)")
    parser.add_argument("--out", metavar="PATH",
                        help="write the output here instead of stdout (the verdict is still "
                             "printed)")
    parser.add_argument("--plots", metavar="DIR", help="write PNG plots into DIR")
    parser.add_argument("--export-gab", metavar="PATH",
                        help="write github-action-benchmark customSmallerIsBetter JSON")
    parser.add_argument("--threshold", "--fail-threshold", dest="threshold", type=fraction,
                        default=DEFAULT_THRESHOLD, metavar="FRACTION",
                        help="the smallest change that counts (default 5%%), as in "
                             "k2matrix compare")
    parser.add_argument("--confidence", type=confidence, default=DEFAULT_CONFIDENCE,
                        help="confidence of the comparison's intervals (default 0.99)")
    parser.add_argument("--force", action="store_true",
                        help="compare even when the matrix, the profile or the kind of machine "
                             "differ")
    parser.set_defaults(func=run_summary)


def render(summary: Summary, fmt: str) -> str:
    if fmt == "json":
        # compact: the C encoder (indent= falls back to the pure-Python one, 10x slower)
        return json.dumps(summary.to_dict(), allow_nan=False) + "\n"
    if fmt == "markdown":
        from k2matrix.summary.render import render_markdown

        return render_markdown(summary)
    if fmt == "html":
        from k2matrix.summary.html import render_html

        return render_html(summary)
    from k2matrix.summary.render import render_table

    return render_table(summary)


def run_summary(args: argparse.Namespace) -> int:
    """Run the subcommand; the exit code (ResultsError -> message on stderr, 2)."""
    from k2matrix.summary.build import build_summary

    try:
        out = getattr(args, "out", None)
        for option, value, folder in (("--out", out, False),
                                      ("--plots", getattr(args, "plots", None), True),
                                      ("--export-gab", getattr(args, "export_gab", None), False)):
            if value:
                check_writable(option, value, folder=folder)
        summary = build_summary(args.run, args.baseline,
                                threshold=getattr(args, "threshold", DEFAULT_THRESHOLD),
                                confidence=getattr(args, "confidence", DEFAULT_CONFIDENCE),
                                force=getattr(args, "force", False))
        text = render(summary, getattr(args, "format", "table"))
        if out:
            write_text(Path(out), text)
            from k2matrix.summary.render import headline

            print("\n".join(headline(summary)))
            print(f"Wrote {out}")
        else:
            sys.stdout.write(text)
        if getattr(args, "plots", None):
            from k2matrix.summary.plots import write_plots

            paths = write_plots(summary, args.plots)
            print(f"Wrote {len(paths)} plot(s) to {args.plots}", file=sys.stderr)
        if getattr(args, "export_gab", None):
            from k2matrix.summary.export import write_gab

            write_gab(summary, args.export_gab)
    except ResultsError as exc:
        print(f"k2matrix summary: error: {exc}", file=sys.stderr)
        return 2
    return summary.exit_code


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m k2matrix.summary RUN [...]``: the subcommand without the k2matrix CLI."""
    parser = argparse.ArgumentParser(prog="python -m k2matrix.summary")
    configure_parser(parser)
    return run_summary(parser.parse_args(argv))
