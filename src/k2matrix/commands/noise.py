"""``k2matrix noise [--side SPEC] [--trials N] [--profile P] [-k EXPR] [-n W]
[--matrix PATH] [--format ...] [--out FILE]``: an A/A of this checkout; per cell the
smallest change it can resolve here (``noise.json``, ``results/noise-latest``), which
``compare``, ``ab`` and ``summary`` then report. Exit 0, or 2 on bad input."""

from __future__ import annotations

import argparse
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from k2matrix.commands.ab import add_job_arguments, job_request
from k2matrix.commands.compare import ComparisonCommand, Judging

if TYPE_CHECKING:
    from k2matrix.ab.job import JobRequest


@dataclass(frozen=True)
class NoiseValues:
    job: JobRequest
    judging: Judging


class NoiseCommand(ComparisonCommand[NoiseValues]):
    name = "noise"
    help = "measure the noise floor of each cell here (an A/A)"
    description = ("An A/A of this checkout: trials of two identical sides interleaved; per "
                   "cell the smallest change a comparison resolves here at the chosen "
                   "confidence. Written to results/<run-id>/noise.json and "
                   "results/noise-latest.")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        add_job_arguments(parser)
        self.add_judging(parser)
        parser.add_argument("--side", default="set:", metavar="SPEC",
                            help="the configuration measured, a SPEC as ab takes it "
                                 "(default set:, this checkout's matrix unchanged); an A/B "
                                 "whose sides have the same matrix then finds these floors")

    def values(self, args: argparse.Namespace) -> NoiseValues:
        return NoiseValues(job_request(args, "noise", (args.side, args.side)),
                           Judging.of(args))

    def run(self, values: NoiseValues) -> dict[str, Any]:
        from k2matrix.ab.job import compare_sides, measure_floors, prepare_job
        from k2matrix.ab.run import run_job
        from k2matrix.compare.noise import NOISE_LATEST

        job = prepare_job(values.job)
        run_job(job)
        judging = values.judging
        floors, path = measure_floors(job, judging.confidence)
        # the A/A itself is judged on its own trials; the floors it measured are shown
        return compare_sides(job, threshold=judging.threshold, confidence=judging.confidence,
                             metric=judging.metric, noise="none", floors=floors,
                             notes=(f"noise floors written to {path} (and "
                                    f"{job.run_dir.parent}/{NOISE_LATEST})",))

    def finish(self, result: dict[str, Any], values: NoiseValues) -> int:
        return 0
