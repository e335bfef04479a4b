"""The ``k2matrix summary`` subcommand: arguments, output, exit codes.

Exit codes: 0 fine; 1 a regression against the baseline or a Blocking verdict; 2 bad input
(missing file, not a results file, incompatible baseline), with a message and no traceback.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2matrix.errors import ResultsError

if TYPE_CHECKING:
    from k2matrix.summary.build import Summary

__all__ = ["add_summary_parser", "main", "run_summary"]
FORMATS = ("table", "markdown", "json", "html")
ALPHA = 0.05  # default significance level (kept here so building the parser loads no Polars)


def _fraction(text: str) -> float:
    """``0.1`` or ``10%``."""
    try:
        value = float(text[:-1]) / 100 if text.endswith("%") else float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a fraction; write 0.10 or 10%") from None
    if not 0 <= value < 10:
        raise argparse.ArgumentTypeError(f"{text!r}: use a fraction such as 0.10 (10%)")
    return value


def _probability(text: str) -> float:
    """A significance level: a number strictly between 0 and 1."""
    try:
        value = float(text)
    except ValueError:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a number; use a probability such as 0.05") from None
    if not 0 < value < 1:  # also refuses nan
        raise argparse.ArgumentTypeError(
            f"{text!r} is out of range; use a probability between 0 and 1, such as 0.05")
    return value


def check_writable(option: str, text: str, folder: bool = False) -> Path:
    """``text`` as the path an option writes (a file, or with ``folder`` a directory that is
    created if missing); a ResultsError naming the option and the fix when it cannot be
    written. Checked before any work, so a long analysis is not lost to a typo."""
    path = Path(text)
    where = f"{option} {text}"
    try:
        problem = _why_unwritable(path, folder)
    except OSError as exc:  # e.g. a folder on the way that may not be searched
        problem = f"cannot be checked ({exc.strerror or exc}); pass a path you may write"
    if problem:
        raise ResultsError(f"{where}: {problem}")
    return path


def _why_unwritable(path: Path, folder: bool) -> str | None:
    if path.exists():
        if folder and not path.is_dir():
            return "is a file; pass a folder (it is created if missing)"
        if not folder and path.is_dir():
            return f"is a directory; pass a file path, e.g. {path / 'out.txt'}"
        if not os.access(path, os.W_OK):
            return "is not writable; pass a path you may write, or fix its permissions"
        return None
    parent = path.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        return f"{parent} is a file, not a folder; pass a path inside a folder"
    if not os.access(parent, os.W_OK | os.X_OK):
        return (f"cannot be created in {parent} (permission denied); pass a path in a "
                "folder you may write")
    return None


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
    parser.add_argument("--fail-threshold", type=_fraction, default=0.10, metavar="FRACTION",
                        help="slowdown beyond which a significant change is a regression "
                             "(default 0.10 = 10%%)")
    parser.add_argument("--alpha", type=_probability, default=ALPHA,
                        help="significance level of the Mann-Whitney U test (default 0.05)")
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
                                fail_threshold=getattr(args, "fail_threshold", 0.10),
                                alpha=getattr(args, "alpha", ALPHA),
                                force=getattr(args, "force", False))
        text = render(summary, getattr(args, "format", "table"))
        if out:
            _write(Path(out), text)
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


def _write(path: Path, text: str) -> None:
    try:
        if path.parent != Path():
            path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    except OSError as exc:
        raise ResultsError(f"--out {path}: cannot write: {exc.strerror or exc}; pass a path "
                           "you may write") from None


def main(argv: Sequence[str] | None = None) -> int:
    """``python -m k2matrix.summary RUN [...]``: the subcommand without the k2matrix CLI."""
    parser = argparse.ArgumentParser(prog="python -m k2matrix.summary")
    configure_parser(parser)
    return run_summary(parser.parse_args(argv))
