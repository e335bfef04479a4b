"""``k2matrix ab`` and ``k2matrix noise``.

- ``k2matrix ab --baseline SPEC --candidate SPEC [--trials N] [--profile P] [-k EXPR]
  [-n W | --duet] [--matrix PATH] [--threshold 5%] [--confidence 0.99] [--format ...]``:
  the two sides' trials interleaved (or, with ``--duet``, run at the same time on the two
  halves of the CPUs), compared in pairs; ``compare``'s output and exit codes.
- ``k2matrix noise [--trials N] [--profile P] [-k EXPR] [-n W] [--matrix PATH]``: an A/A
  of this checkout; per cell the smallest change it can resolve here (``noise.json``,
  ``results/noise-latest``), which ``compare``, ``ab`` and ``summary`` then report.
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path
from typing import Any

from k2matrix.compare.command import add_options, emit, noise_for
from k2matrix.errors import K2Error
from k2matrix.options import CLOCK_HELP, CLOCKS, check_clock, check_writable, trials, workers

AB_TRIALS = 5


def _common(parser: argparse.ArgumentParser, default_trials: int) -> None:
    parser.add_argument("--trials", type=trials, default=default_trials,
                        help=f"trials a side (default {default_trials})")
    parser.add_argument("--profile", default="smoke", help="profile name (smoke)")
    parser.add_argument("-k", dest="keyword", default=None, metavar="EXPR",
                        help="only the cells whose test id matches EXPR (pytest -k)")
    parser.add_argument("-n", "--numprocesses", default=None, type=workers,
                        help="pytest-xdist workers per trial; default: no xdist")
    parser.add_argument("--matrix", default="matrix.toml", help="matrix file (matrix.toml)")
    parser.add_argument("--results", default="results", help="results folder (results/)")
    parser.add_argument("--run-id", default=None, help="the run directory's name")
    parser.add_argument("--seed", type=int, default=None,
                        help="seed of the random order of the sides (default: random)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall", help=CLOCK_HELP)
    parser.add_argument("--duet", action="store_true",
                        help="run trial i of both sides at the same time, each pinned to "
                             "its own half of the CPUs (duet benchmarking: the machine's "
                             "slowdowns hit both sides of a pair alike); not with -n")


def add_ab_parsers(subparsers: Any) -> None:
    ab = subparsers.add_parser(
        "ab", help="A/B in one job: both sides' trials interleaved on this machine",
        description="Run trials of BASELINE and CANDIDATE interleaved in random order and "
                    "compare them in pairs. SPEC: git:REF, python:PATH, "
                    "env:NAME=VALUE[,...] or set:KEY=VALUE[,...]. Exit 0 no regression, 1 "
                    "a regression, 2 bad input.")
    ab.add_argument("--baseline", required=True, metavar="SPEC", help="the baseline side")
    ab.add_argument("--candidate", required=True, metavar="SPEC", help="the candidate side")
    _common(ab, AB_TRIALS)
    add_options(ab)
    ab.add_argument("--noise", metavar="DIR",
                    help="noise floors from this `k2matrix noise` run (default: "
                         "results/noise-latest when it applies; 'none' for none)")
    ab.set_defaults(func=run_ab)

    noise = subparsers.add_parser(
        "noise", help="measure the noise floor of each cell here (an A/A)",
        description="An A/A of this checkout: trials of two identical sides interleaved; "
                    "per cell the smallest change a comparison resolves here at the chosen "
                    "confidence. Written to results/<run-id>/noise.json and "
                    "results/noise-latest.")
    _common(noise, AB_TRIALS)
    add_options(noise)
    noise.add_argument("--side", default="set:", metavar="SPEC",
                       help="the configuration measured, a SPEC as ab takes it (default "
                            "set:, this checkout's matrix unchanged); an A/B whose sides "
                            "have the same matrix then finds these floors")
    noise.set_defaults(func=run_noise)


def _job(args: argparse.Namespace, kind: str, specs: tuple[str, str]) -> Any:
    from k2matrix.ab.run import Job
    from k2matrix.ab.spec import check_matrix, prepare, write_matrix
    from k2matrix.matrix import load_matrix

    matrix = Path(args.matrix)
    if args.duet and args.numprocesses is not None:
        raise K2Error(f"--duet with -n {args.numprocesses}: a duet runs each side in one "
                      "process on its half of the CPUs; leave out -n or --duet")
    if args.duet and args.clock == "instructions":
        raise K2Error("--duet with --clock instructions: a count does not depend on what "
                      "runs beside it; leave out --duet")
    check_clock(args.clock)
    load_matrix(matrix).cells(args.profile)  # a bad matrix or profile: before any work
    project = matrix.resolve().parent
    if not (project / "tests" / "performance").is_dir():
        raise K2Error(f"--matrix {matrix}: no tests/performance beside it; run from the "
                      "project folder or pass its matrix.toml")
    results = Path(args.results)
    check_writable("--results", str(results), folder=True)
    if args.out:
        check_writable("--out", args.out)
    run_id = args.run_id or time.strftime("%Y%m%d-%H%M%S") + f"-{kind}-{args.profile}"
    run_dir = results.resolve() / run_id  # absolute: a git side runs in its own worktree
    if run_dir.exists():
        raise K2Error(f"--run-id {run_id}: {run_dir} exists; choose another run id")
    cache = project / ".k2matrix" / "ab"
    sides = tuple(prepare(name, spec, project, matrix.resolve(), cache)
                  for name, spec in zip(("baseline", "candidate"), specs, strict=True))
    for side in sides:
        check_matrix(side)
    for side in sides:
        write_matrix(side, run_dir / side.name)
    return Job(run_dir=run_dir, sides=(sides[0], sides[1]), trials=args.trials,
               profile=args.profile, keyword=args.keyword, workers=args.numprocesses,
               seed=args.seed, duet=args.duet,
               # wall is the default: an older side (git:REF) may not know --k2-clock
               pytest_args=[] if args.clock == "wall" else [f"--k2-clock={args.clock}"]
               ), results


def _compare(job: Any, args: argparse.Namespace, noise_option: str | None) -> dict[str, Any]:
    from k2matrix.compare.runs import compare_runs
    from k2matrix.results.jsonfile import write_json_atomic
    from k2matrix.results.load import load_run

    base, cand = (load_run(job.run_dir / s.name) for s in job.sides)
    models, notes = noise_for(noise_option, job.run_dir.parent, cand.k2)
    doc = compare_runs(base, cand, threshold=args.threshold, confidence=args.confidence,
                       paired=True, noise=models, force=True, notes=notes,
                       metric=args.metric)
    doc["run_dir"] = str(job.run_dir)
    doc["specs"] = {s.name: s.spec for s in job.sides}
    write_json_atomic(job.run_dir / "comparison.json", doc)
    return doc


def run_ab(args: argparse.Namespace) -> int:
    from k2matrix.ab.run import run_job
    from k2matrix.compare.runs import exit_code

    job, _ = _job(args, "ab", (args.baseline, args.candidate))
    run_job(job)
    doc = _compare(job, args, args.noise)
    emit(doc, args.format, args.out)
    return exit_code(doc)


def run_noise(args: argparse.Namespace) -> int:
    from k2matrix.ab.run import run_job
    from k2matrix.compare import noise
    from k2matrix.compare.trial_figures import trial_values
    from k2matrix.results.load import load_run

    job, _ = _job(args, "noise", (args.side, args.side))
    run_job(job)
    doc = _compare(job, args, "none")  # the A/A itself: judged on its own trials
    runs = [load_run(job.run_dir / s.name) for s in job.sides]
    models = {}
    for metric, suffix in (("time", ""), ("relative", noise.RELATIVE_KEY)):
        base, cand = (trial_values(run, metric) for run in runs)
        models.update({cid + suffix: m for cid in cand if cid in base
                       if (m := noise.measure(base[cid], cand[cid], "measured")) is not None})
    k2 = load_run(job.run_dir / "candidate").k2
    path = noise.write_noise(job.run_dir, models, args.confidence, k2)
    floors = {cid: m.floor(m.trials, args.confidence) for cid, m in models.items()}
    for row in doc["comparisons"]:
        if row.get("metric") == "instructions":  # its floor is the counted spread itself
            continue
        key = row["id"] + (noise.RELATIVE_KEY if row.get("metric") == "relative" else "")
        row["noise_floor"] = floors.get(key, row["noise_floor"])
        row["noise_floor_source"] = "measured" if key in floors else None
    doc["notes"].append(f"noise floors written to {path} (and {job.run_dir.parent}/"
                        f"{noise.NOISE_LATEST})")
    emit(doc, args.format, args.out)
    return 0
