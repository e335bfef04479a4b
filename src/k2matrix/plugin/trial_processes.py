"""``--k2-trials N``: the session is run N times, each trial a fresh pytest process (with
its own xdist workers under ``-n``) writing a run directory of its own under
``<run>/trials/tNN/``, with the cells in an order shuffled anew for each trial, so that the
machine's drift spreads over every cell instead of landing on whichever ran last. The
trials are then folded into the run's ``benchmarks.json`` (:mod:`k2matrix.results.folding`).

Statistics over trials, never over the pooled rounds of one process, is what makes a
comparison trustworthy on a noisy machine (:mod:`k2matrix.compare`).
"""

from __future__ import annotations

import time

import pytest

from k2matrix.errors import ResultsError
from k2matrix.plugin.identity import new_run
from k2matrix.results import store
from k2matrix.results.folding import trial_dir
from k2matrix.sweep.command import SweepCommand, child_args
from k2matrix.sweep.launch import log_tail, run_trial
from k2matrix.sweep.status import Plan, StatusLine

_STOP = (pytest.ExitCode.INTERRUPTED, pytest.ExitCode.INTERNAL_ERROR,
         pytest.ExitCode.USAGE_ERROR)


def launch_trials(config: pytest.Config) -> int:
    """Run the trials, fold them, return the worst exit code."""
    trials = int(config.getoption("k2_trials"))
    if config.getoption("k2_resume"):
        raise pytest.UsageError("--k2-resume cannot be combined with --k2-trials: resume a "
                                "trial's own directory (results/<run-id>/trials/tNN) instead")
    run_id, run_dir = new_run(config, config.getoption("k2_profile"))
    if (run_dir / "trials").exists():
        raise pytest.UsageError(f"--k2-run-id={run_id}: {run_dir} already holds trials; choose "
                                "another run id (or leave it out for a new one)")
    # the session again, without what each trial is given anew (sweep.command.child_args)
    base = SweepCommand(session=tuple(child_args([str(a) for a in
                                                  config.invocation_params.args])))
    status = StatusLine()
    plan = Plan(total=trials, started=time.time())
    codes: list[int] = []
    interrupted = False
    try:
        for k in range(1, trials + 1):
            folder = trial_dir(run_dir, k)
            label = f"trial {k} of {trials}"
            code = run_trial(base.for_trial(run_dir, k, trials, seed_key=run_id).argv(),
                             config.invocation_params.dir, None, folder,
                             status.follow(plan, label))
            plan.finished += 1
            codes.append(code)
            status.say(f"k2matrix: {label} ended with exit code {code} ({folder})")
            if code in _STOP or code == pytest.ExitCode.NO_TESTS_COLLECTED:
                status.say(log_tail(folder))
                break
    except KeyboardInterrupt:  # Ctrl-C or SIGTERM: fold the trials that finished, then stop
        interrupted = True
    try:
        doc = store.finish_trials(run_dir, trials)
    except ResultsError as exc:
        status.say(f"k2matrix: folding the trials failed: {exc}")
        return int(pytest.ExitCode.INTERNAL_ERROR)
    if interrupted:
        status.say(f"k2matrix: interrupted after {len(codes)} trial(s); folded in {run_dir}")
        raise KeyboardInterrupt
    if doc is not None:
        k2 = doc["k2"]
        status.say(f"k2matrix: run {run_id}: {len(codes)} trial(s), {k2['cells_passed']} "
                   f"cells passed, {len(k2['failed'])} failed: {run_dir / 'benchmarks.json'}")
    failing = [c for c in codes if c != 0]
    return max(failing, key=lambda c: c in _STOP) if failing else 0
