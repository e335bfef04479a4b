"""Running an A/B: trial *i* of each side, the two in a random order, for i = 1..N, on one
machine, then the sides' trials folded (each side a run directory of its own) and compared
in pairs (trial *i* of A beside trial *i* of B, which ran minutes apart at most).

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
from k2matrix.plugin.trials import order_seed
from k2matrix.results import store
from k2matrix.results.jsonfile import write_json_atomic
from k2matrix.results.launch import Plan, StatusLine, log_tail, run_trial
from k2matrix.results.trials import trial_dir

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


def side_command(job: Job, side: Side, trial: int) -> list[str]:
    """The pytest command of one trial of one side."""
    folder = trial_dir(job.run_dir / side.name, trial)
    cmd = [side.python, "-m", "pytest", str(side.project / "tests" / "performance"),
           f"--k2-matrix={side.matrix}", f"--k2-profile={job.profile}", "--benchmark-only",
           "-p", "no:cacheprovider", "-W", "ignore::pytest.PytestAssertRewriteWarning", "-q",
           f"--k2-results={folder.parent}", f"--k2-run-id={folder.name}",
           f"--k2-trial={trial}/{job.trials}",
           f"--k2-order-seed={order_seed(job.run_dir.name, trial)}"]
    if side.workdir is not None:
        cmd.append(f"--k2-workdir={side.workdir}")
    if job.keyword:
        cmd += ["-k", job.keyword]
    if job.workers is not None:
        cmd += ["-n", job.workers, "--dist", "worksteal"]
    return cmd + job.pytest_args


def run_job(job: Job) -> list[dict[str, Any]]:
    """Run every trial of both sides (interleaved, in random order within each pair) and
    fold each side; returns what ran (trial, side, exit code, seconds)."""
    rng = random.Random(job.seed if job.seed is not None else time.time_ns())
    status = StatusLine()
    plan = Plan(total=job.trials * 2, started=time.time())
    ran: list[dict[str, Any]] = []
    try:
        for k in range(1, job.trials + 1):
            order = list(job.sides)
            rng.shuffle(order)
            for side in order:
                folder = trial_dir(job.run_dir / side.name, k)
                label = f"trial {k} of {job.trials}, {side.name}"
                began = time.time()
                code = run_trial(side_command(job, side, k), side.project,
                                 {**os.environ, **side.env}, folder, status.follow(plan, label))
                plan.finished += 1
                ran.append({"trial": k, "side": side.name, "exit": code,
                            "seconds": round(time.time() - began, 1)})
                status.say(f"k2matrix ab: {label}: exit {code} in {ran[-1]['seconds']} s")
                if code in (USAGE, NO_TESTS):
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
            "workers": job.workers, "ran": ran})
        for side in job.sides:
            store.finish_trials(job.run_dir / side.name, job.trials, link_latest=False)
    return ran
