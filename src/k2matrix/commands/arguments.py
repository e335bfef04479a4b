"""The options several commands take, each defined once here: the same flag, type, default
and help wherever it appears (what differs by command, such as ``--format``'s choices or
the number of ``--trials``, is a parameter). ``--out`` is always a file and ``--results``
always a folder; ``--out DIR`` for a folder still works for one release, with a note."""

from __future__ import annotations

import argparse
import secrets
import sys

from k2matrix.compare.statistics import DEFAULT_CONFIDENCE, DEFAULT_THRESHOLD
from k2matrix.errors import K2Error
from k2matrix.options import CLOCK_HELP, CLOCKS, confidence, fraction, trials, workers

PREFIX = "k2matrix: "  # every message k2matrix itself writes on stderr starts with it
MATRIX_DEFAULT, PROFILE_DEFAULT, RESULTS_DEFAULT = "matrix.toml", "smoke", "results"
MATRIX_HELP = "matrix file (default: matrix.toml)"
PROFILE_HELP = "profile name (default: smoke)"
TESTS_HELP = "benchmark suites (default: tests/performance beside the matrix)"
RESULTS_HELP = "results folder, each run a directory in it (default: results/)"
SEED_HELP = ("seed of the command's random choices (default: a fresh seed, given in the "
             "output; the same seed makes the same choices)")
FORMAT_HELP = "output format (default: table)"
OUT_HELP = ("write the output to FILE instead of stdout (stdout then gets the verdict and "
            "the file's name)")
THRESHOLD_HELP = "the smallest change that counts, as 0.05 or 5%% (default 5%%)"
CONFIDENCE_HELP = "confidence of the comparison's intervals (default 0.99)"
WORKERS_HELP = "pytest-xdist workers per trial (a number or auto); default: no xdist"
DEPRECATED_OUT = (f"{PREFIX}note: `--out DIR` for a folder is deprecated; use --results DIR")


def add_matrix(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--matrix", default=MATRIX_DEFAULT, metavar="PATH", help=MATRIX_HELP)


def add_profile(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--profile", default=PROFILE_DEFAULT, metavar="NAME",
                        help=PROFILE_HELP)


def add_tests(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--tests", default=None, metavar="PATH", help=TESTS_HELP)


def add_results(parser: argparse.ArgumentParser, help: str = RESULTS_HELP,
                folder_alias: bool = False) -> None:
    """``--results DIR``; with ``folder_alias`` also the deprecated ``--out DIR`` (hidden;
    read it with :func:`given_folder`)."""
    parser.add_argument("--results", default=None, metavar="DIR", help=help)
    if folder_alias:
        parser.add_argument("--out", dest="out_folder", default=None, metavar="DIR",
                            help=argparse.SUPPRESS)


def given_folder(args: argparse.Namespace) -> tuple[str, str] | None:
    """The folder ``--results DIR`` (or the deprecated ``--out DIR``, with a note on
    stderr) names, with the option as written; None when neither is given."""
    old, new = args.out_folder, args.results
    if old is None:
        return None if new is None else ("--results", new)
    print(DEPRECATED_OUT, file=sys.stderr)
    if new is not None and new != old:
        raise K2Error(f"--out {old} and --results {new}: two folders; pass one, as "
                      "--results DIR")
    return ("--results", new) if new is not None else ("--out", old)


def add_seed(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--seed", type=int, default=None, metavar="S", help=SEED_HELP)


def seed_value(args: argparse.Namespace) -> int:
    """``--seed``, or a fresh seed when none is given."""
    seed: int | None = args.seed
    return seed if seed is not None else secrets.randbits(32)


def add_trials(parser: argparse.ArgumentParser, default: int, what: str) -> None:
    """``--trials N``: ``what`` the trials are in this command; each runs in fresh
    processes."""
    parser.add_argument("--trials", type=trials, default=default, metavar="N",
                        help=f"{what}; each trial runs in fresh processes (default {default})")


def add_format(parser: argparse.ArgumentParser, choices: tuple[str, ...]) -> None:
    """``--format``, the first choice the default (``table``)."""
    parser.add_argument("--format", choices=choices, default=choices[0], help=FORMAT_HELP)


def add_out(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--out", default=None, metavar="FILE", help=OUT_HELP)


def add_threshold(parser: argparse.ArgumentParser, *aliases: str) -> None:
    parser.add_argument("--threshold", *aliases, dest="threshold", type=fraction,
                        default=DEFAULT_THRESHOLD, metavar="FRACTION", help=THRESHOLD_HELP)


def add_confidence(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--confidence", type=confidence, default=DEFAULT_CONFIDENCE,
                        help=CONFIDENCE_HELP)


def add_workers(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("-n", "--numprocesses", default=None, type=workers, help=WORKERS_HELP)


def add_clock(parser: argparse.ArgumentParser) -> None:
    parser.add_argument("--clock", choices=CLOCKS, default="wall", help=CLOCK_HELP)
