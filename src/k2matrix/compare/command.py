"""``k2matrix compare CANDIDATE --baseline BASELINE [--threshold 5%] [--confidence 0.99]
[--format table|json|markdown] [--metric time|relative] [--noise DIR|none] [--force]
[--out PATH]``.

Exit codes: 0 no regression, 1 a cell is a regression, 2 bad input (no traceback).
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

from k2matrix.compare.statistics import DEFAULT_CONFIDENCE, DEFAULT_THRESHOLD, NoiseModel
from k2matrix.options import check_writable, fraction, probability, write_text

FORMATS = ("table", "json", "markdown")


def confidence(text: str) -> float:
    value = probability(text)
    if value < 0.5:
        raise argparse.ArgumentTypeError(
            f"{text!r}: a confidence is a probability such as 0.99 or 0.95 (not a "
            "significance level: 0.01 means 99%)")
    return value


def add_options(parser: argparse.ArgumentParser) -> None:
    """The options ``compare``, ``ab`` and ``noise`` share."""
    parser.add_argument("--threshold", type=fraction, default=DEFAULT_THRESHOLD,
                        metavar="FRACTION",
                        help="the smallest change that counts, as 0.05 or 5%% (default 5%%)")
    parser.add_argument("--confidence", type=confidence, default=DEFAULT_CONFIDENCE,
                        help="confidence of the intervals (default 0.99)")
    parser.add_argument("--format", choices=FORMATS, default="table",
                        help="output format (default: table)")
    parser.add_argument("--metric", choices=("time", "relative"), default="time",
                        help="what a trial contributes: the median round time (default), or "
                             "the cell's time relative to its in-run reference, round by "
                             "round, where the cell has one (drift of the machine cancels; "
                             "a change the reference shares cancels too)")
    parser.add_argument("--out", metavar="PATH", help="also write the output to PATH")


def add_compare_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "compare", help="compare a run with a baseline over their trials",
        description="Compare CANDIDATE with BASELINE cell by cell over their trials "
                    "(run them with --trials N): change, interval, noise floor and a verdict "
                    "per cell. Exit 0 no regression, 1 a regression, 2 bad input.")
    parser.add_argument("candidate", metavar="CANDIDATE",
                        help="a results directory (results/<run-id>) or a pytest-benchmark "
                             "JSON file")
    parser.add_argument("--baseline", metavar="BASELINE", required=True,
                        help="the run to compare with")
    add_options(parser)
    parser.add_argument("--noise", metavar="DIR",
                        help="noise floors from this `k2matrix noise` run (default: "
                             "results/noise-latest beside the candidate when it applies; "
                             "'none' for none)")
    parser.add_argument("--force", action="store_true",
                        help="compare even when the matrix, the profile or the kind of "
                             "machine differ")
    parser.set_defaults(func=run_compare)


def noise_for(option: str | None, results: Path, k2: Any) -> tuple[dict[str, NoiseModel],
                                                                    list[str]]:
    """The noise models a comparison uses, and what to say about them."""
    from k2matrix.compare import noise

    if option == "none":
        return {}, []
    if option:
        doc = noise.read_noise(Path(option))
        differs = noise.mismatch(doc, k2)
        notes = [f"--noise {option}: measured for another setting ({'; '.join(differs)})"
                 ] if differs else []
        return noise.models(doc), [*notes, f"noise floors from {option}"]
    models, note = noise.find_noise(results, k2)
    return models, [note]


def emit(doc: dict[str, Any], fmt: str, out: str | None) -> None:
    from k2matrix.compare.render import render, table

    text = render(doc, fmt)
    if out:
        write_text(Path(out), text + "\n")
        print(table(doc).splitlines()[-1] if fmt != "table" else text)
        print(f"Wrote {out}")
    else:
        sys.stdout.write(text + "\n")


def run_compare(args: argparse.Namespace) -> int:
    from k2matrix.compare.runs import compare_runs, exit_code
    from k2matrix.results.load import load_run

    if args.out:
        check_writable("--out", args.out)
    baseline, candidate = load_run(args.baseline), load_run(args.candidate)
    results = Path(args.candidate).resolve().parent
    models, notes = noise_for(args.noise, results, candidate.k2)
    doc = compare_runs(baseline, candidate, threshold=args.threshold,
                       confidence=args.confidence, noise=models, force=args.force,
                       notes=notes, metric=args.metric)
    emit(doc, args.format, args.out)
    return exit_code(doc)
