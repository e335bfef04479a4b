"""``k2matrix ab --baseline SPEC --candidate SPEC [--trials N] [--profile P] [-k EXPR]
[-n W | --duet] [--matrix PATH] [--threshold 5%] [--confidence 0.99] [--format ...]
[--out FILE] [--force]``: the two sides' trials interleaved (or, with ``--duet``, run at the same
time on the two halves of the CPUs), compared in pairs; ``compare``'s output and exit
codes. The job is :mod:`k2matrix.ab.job`; :func:`add_job_arguments` and
:func:`job_request` are what ``ab`` and ``noise`` share.
"""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2matrix.commands.arguments import (
    RESULTS_DEFAULT,
    add_clock,
    add_matrix,
    add_profile,
    add_results,
    add_seed,
    add_tests,
    add_trials,
    add_workers,
    seed_value,
)
from k2matrix.commands.compare import ComparisonCommand, Judging
from k2matrix.options import check_writable, run_id

if TYPE_CHECKING:
    from k2matrix.ab.job import JobRequest

AB_TRIALS = 5
NOISE_HELP = ("noise floors from this `k2matrix noise` run (default: results/noise-latest "
              "when it applies; 'none' for none)")


def add_job_arguments(parser: argparse.ArgumentParser) -> None:
    """The arguments of the trials an ``ab`` or a ``noise`` runs."""
    add_trials(parser, AB_TRIALS, "trials a side, trial i of each side run next to the other's")
    add_profile(parser)
    parser.add_argument("-k", dest="keyword", default=None, metavar="EXPR",
                        help="only the cells whose test id matches EXPR (pytest -k)")
    add_workers(parser)
    add_matrix(parser)
    add_tests(parser)  # both sides'; a relative PATH is in each side's project (git: sides)
    add_results(parser)
    parser.add_argument("--run-id", default=None, type=run_id,
                        help="the run directory's name (letters, digits, '.', '_', '-')")
    add_seed(parser)
    add_clock(parser)
    parser.add_argument("--duet", action="store_true",
                        help="run trial i of both sides at the same time, each pinned to "
                             "its own half of the CPUs (duet benchmarking: the machine's "
                             "slowdowns hit both sides of a pair alike); not with -n")


def job_request(args: argparse.Namespace, kind: str, specs: tuple[str, str]) -> JobRequest:
    """The job an ``ab`` or ``noise`` command line asks for, as plain values."""
    from k2matrix.ab.job import JobRequest

    results = args.results or RESULTS_DEFAULT
    check_writable("--results", results, folder=True)
    return JobRequest(kind=kind, specs=specs, matrix=Path(args.matrix), profile=args.profile,
                      trials=args.trials, results=Path(results), seed=seed_value(args),
                      clock=args.clock, keyword=args.keyword, workers=args.numprocesses,
                      run_id=args.run_id, duet=args.duet, force=getattr(args, "force", False),
                      tests=Path(args.tests) if args.tests else None)


@dataclass(frozen=True)
class AbValues:
    job: JobRequest
    judging: Judging
    noise: str | None = None


class AbCommand(ComparisonCommand[AbValues]):
    name = "ab"
    help = "A/B in one job: both sides' trials interleaved on this machine"
    description = ("Run trials of BASELINE and CANDIDATE interleaved in random order and "
                   "compare them in pairs. SPEC: git:REF, python:PATH, "
                   "env:NAME=VALUE[,...] or set:KEY=VALUE[,...]. --tests PATH: a relative "
                   "PATH is taken in each side's project (a git: side runs its own suites). "
                   "Exit 0 no regression, 1 a regression, 2 bad input.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("--baseline", required=True, metavar="SPEC",
                            help="the baseline side")
        parser.add_argument("--candidate", required=True, metavar="SPEC",
                            help="the candidate side")
        add_job_arguments(parser)
        self.add_judging(parser)
        parser.add_argument("--noise", metavar="DIR", help=NOISE_HELP)
        parser.add_argument("--force", action="store_true",
                            help="compare even when the sides' backends run in different "
                                 "modes (a mock cluster and a broker, say); the output says "
                                 "it was forced")

    def values(self, args: argparse.Namespace) -> AbValues:
        return AbValues(job_request(args, "ab", (args.baseline, args.candidate)),
                        Judging.of(args), args.noise)

    def run(self, values: AbValues) -> dict[str, Any]:
        from k2matrix.ab.job import compare_sides, prepare_job
        from k2matrix.ab.run import run_job

        job = prepare_job(values.job)
        run_job(job)
        judging = values.judging
        return compare_sides(job, threshold=judging.threshold,
                             confidence=judging.confidence, metric=judging.metric,
                             noise=values.noise, force=values.job.force)
