"""The rate search's steps, each in a fresh process.

A search is tens of pipeline runs. Run one after another in one process, the later ones
measured a process that had aged: on the embedded mock cluster the driver's resident memory
grew from 1.4 to 2.3 GB over about fifty runs, and a rate that held five times in the first
two searches failed twice in the third (docs/pipeline.md). So each step is one run of
``python -m k2matrix.tools.pipeline`` (the same command a user runs once), started afresh
with the search's options and the step's rate and seconds; its JSON figures become the
step (:func:`k2matrix.pipeline.bench.step_of`). The brokers are the search's: the embedded
mock cluster is the step's own (one per process, as in every single run), a ``--bootstrap``
or ``--tansu`` broker is shared and its CPU metered from this process.

A step that lost or duplicated a row (exit 1) raises a VerificationError; one that could
not finish (exit 2, or killed) a PipelineError with the step's last error line. A step is
stopped with SIGTERM (its brokers and workers unwind) when this process is stopped.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
from typing import Any

from k2matrix.errors import VerificationError
from k2matrix.pipeline.bench import step_of
from k2matrix.pipeline.processcpu import ProcessCpu, add_broker_cpu
from k2matrix.pipeline.run import PipelineConfig, PipelineError
from k2matrix.ratesearch import Step

STOP_WAIT_S = 60.0  # how long a stopped step may take to unwind before it is killed


class ProcessSystem:
    """The search's :class:`~k2matrix.ratesearch.LoadSystem`: each step a fresh process.
    ``runs`` keeps each step's figures."""

    def __init__(self, config: PipelineConfig, warehouse: str, bootstrap: str | None,
                 meter: ProcessCpu | None = None) -> None:
        self.config, self.warehouse, self.bootstrap, self.meter = (config, warehouse,
                                                                    bootstrap, meter)
        self.runs: list[dict[str, Any]] = []

    def command(self, rate: float, seconds: float) -> list[str]:
        c = self.config
        argv = [sys.executable, "-m", "k2matrix.tools.pipeline", "--rate", f"{rate:g}",
                "--seconds", f"{seconds:g}", "--workers", str(c.workers),
                "--schema", c.schema, "--commit-interval-ms", str(c.commit_interval_ms),
                "--commit-rows", str(c.commit_rows), "--warehouse", self.warehouse]
        if self.bootstrap:
            argv += ["--bootstrap", self.bootstrap]
        if c.scheduler:
            argv += ["--scheduler", c.scheduler]
        return argv

    def run(self, rate: float, seconds: float) -> Step:
        timeout = step_timeout(self.config, seconds)
        proc = subprocess.Popen(self.command(rate, seconds), stdout=subprocess.PIPE,
                                stderr=subprocess.PIPE, text=True)
        try:
            out, err = proc.communicate(timeout=timeout)
        except BaseException:  # stopped, or the step hung: let it unwind, then kill it
            _stop(proc)
            raise
        last = next((line for line in reversed(err.strip().splitlines())
                     if line.startswith("k2matrix:")), err.strip()[-500:])
        if proc.returncode == 1:
            raise VerificationError(f"at {rate:g} rows/s: a row was lost or duplicated "
                                    f"({last})")
        if proc.returncode != 0:
            raise PipelineError(f"the step at {rate:g} rows/s failed (exit "
                                f"{proc.returncode}): {last}")
        figures: dict[str, Any] = json.loads(out)
        add_broker_cpu(figures, self.meter)
        self.runs.append(figures)
        return step_of(figures, rate, seconds)


def step_timeout(config: PipelineConfig, seconds: float) -> float:
    """The longest a step may take: its rows' generation, the run, and the drain."""
    return config.ready_timeout_s + 3 * seconds + config.drain_timeout_s + 60.0


def _stop(proc: subprocess.Popen[str]) -> None:
    if proc.poll() is None:
        proc.send_signal(signal.SIGTERM)
        try:
            proc.wait(timeout=STOP_WAIT_S)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
