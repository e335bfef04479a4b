"""Running an A/B: trial *i* of each side, the two in a random order, for i = 1..N, on one
machine, then the sides' trials folded (each side a run directory of its own) and compared
in pairs (trial *i* of A beside trial *i* of B, which ran minutes apart at most).

With ``duet`` (duet benchmarking, Bulej et al.) trial *i* of both sides runs at the same
time instead, each side pinned to its own half of the CPUs (which half is drawn anew for
each trial) with its libraries' threads capped to that half: whatever slows the machine
slows both sides of a pair alike, and the paired comparison cancels it. Both sides run
their cells in the same order.

``results/<run-id>/`` holds ``baseline/`` and ``candidate/`` (each with ``trials/tNN/``,
``meta.json`` and ``benchmarks.json``), ``ab.json`` (the specs, the order the trials ran
in, their exit codes) and ``comparison.json`` (``compare``'s document). A side that fails
part way keeps every trial it finished.
"""

from __future__ import annotations

import os
import random
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from k2matrix.ab.spec import Side, SpecError
from k2matrix.plugin.threads import THREAD_VARIABLES
from k2matrix.results import store
from k2matrix.results.folding import trial_dir
from k2matrix.results.jsonfile import write_json_atomic
from k2matrix.results.meta import affinity
from k2matrix.sweep.command import SweepCommand
from k2matrix.sweep.launch import TrialProcess, log_tail, run_together
from k2matrix.sweep.status import Plan, StatusLine

USAGE, NO_TESTS = 4, 5  # pytest's exit codes for a usage error and for no test collected


@dataclass
class Job:
    run_dir: Path
    sides: tuple[Side, Side]
    trials: int
    profile: str
    keyword: str | None = None
    workers: str | None = None
    pytest_args: list[str] = field(default_factory=list)
    seed: int | None = None
    duet: bool = False
    suites: Path = Path("tests") / "performance"  # relative: in each side's project


def side_command(job: Job, side: Side, trial: int) -> list[str]:
    """The pytest command of one trial of one side (both sides' trial *i* run their cells
    in one order: the seed is the A/B's)."""
    command = SweepCommand(suites=side.project / job.suites, matrix=side.matrix,
                           profile=job.profile, python=side.python, quiet=True,
                           workdir=side.workdir, keyword=job.keyword, workers=job.workers,
                           pytest_args=tuple(job.pytest_args))
    return command.for_trial(job.run_dir / side.name, trial, job.trials,
                             seed_key=job.run_dir.name).argv()


def duet_cpus() -> tuple[list[int], list[int]]:
    """The two halves of this process's CPUs, one a side of a duet."""
    cpus = sorted(affinity())
    if len(cpus) < 2:
        raise SpecError(f"--duet runs the two sides at once, one on each half of the CPUs; "
                        f"this process may use {len(cpus)} CPU: leave --duet out")
    half = len(cpus) // 2
    return cpus[:half], cpus[half:]


def _env(side: Side, cpus: list[int] | None) -> dict[str, str]:
    env = {**os.environ, **side.env}
    if cpus is not None:  # a duet side's libraries get its half of the CPUs (unless set)
        for name in THREAD_VARIABLES:
            env.setdefault(name, str(len(cpus)))
    return env


def run_job(job: Job) -> list[dict[str, Any]]:
    """Run every trial of both sides (interleaved in random order within each pair, or at
    the same time with ``duet``) and fold each side; returns what ran (trial, side, exit
    code, seconds)."""
    rng = random.Random(job.seed if job.seed is not None else time.time_ns())
    halves = duet_cpus() if job.duet else None
    status = StatusLine()
    plan = Plan(total=job.trials * (1 if job.duet else 2), started=time.time())
    ran: list[dict[str, Any]] = []
    try:
        for k in range(1, job.trials + 1):
            order = list(job.sides)
            rng.shuffle(order)
            groups = [order] if halves is not None else [[side] for side in order]
            for group in groups:
                label = f"trial {k} of {job.trials}, {'+'.join(s.name for s in group)}"
                procs = [TrialProcess(side_command(job, side, k), side.project,
                                      _env(side, halves[i] if halves else None),
                                      trial_dir(job.run_dir / side.name, k),
                                      halves[i] if halves else None)
                         for i, side in enumerate(group)]
                ends = run_together(procs, status.follow(plan, label))
                plan.finished += 1
                for side, end, proc in zip(group, ends, procs, strict=True):
                    ran.append({"trial": k, "side": side.name, "exit": end.code,
                                "seconds": round(end.ended - end.started, 1),
                                "started": round(end.started, 3), "ended": round(end.ended, 3),
                                **({"duet": True, "cpus": proc.cpus} if halves else {})})
                    status.say(f"k2matrix ab: trial {k} of {job.trials}, {side.name}: exit "
                               f"{end.code} in {ran[-1]['seconds']} s")
                for side, end in zip(group, ends, strict=True):
                    if (code := end.code) in (USAGE, NO_TESTS):
                        folder = trial_dir(job.run_dir / side.name, k)
                        raise SpecError(
                            f"--{side.name} {side.spec}: its trial {k} "
                            f"{'was refused by pytest' if code == USAGE else 'ran no test'} "
                            f"(exit {code}):\n{log_tail(folder)}\ncheck the selection (-k, "
                            "--profile) and that this side's matrix has the cells")
    finally:
        write_json_atomic(job.run_dir / "ab.json", {
            "sides": {s.name: {"spec": s.spec, "python": s.python, "project": str(s.project),
                               "matrix": str(s.matrix), "env": sorted(s.env)}
                      for s in job.sides},
            "trials": job.trials, "profile": job.profile, "keyword": job.keyword,
            "workers": job.workers, "duet": job.duet, "pytest_args": job.pytest_args,
            "ran": ran})
        for side in job.sides:
            store.finish_trials(job.run_dir / side.name, job.trials, link_latest=False)
    return ran
