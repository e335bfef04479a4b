"""Running one trial: a fresh pytest process whose run directory is a trial directory, and
what it tells while it runs.

The process writes ``progress.json`` in its run directory as each cell starts
(:func:`write_progress`: the cell, how many are done and planned); whoever launched it reads
that file once a second (:func:`run_trial`) to show the trial, the cell, the time spent and
an estimate of the time left. The process's own output goes to ``pytest.log`` beside its
results, and its tail is shown when it fails.
"""

from __future__ import annotations

import contextlib
import json
import os
import subprocess
import sys
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

PROGRESS_GLOB = "progress-*.json"
LOG_FILE = "pytest.log"
TICK_S = 1.0


def write_progress(run_dir: Path, worker: str, cell: str, done: int, planned: int) -> None:
    """Record that ``worker`` started ``cell`` having finished ``done`` cells of the
    ``planned`` ones of the run (best effort: progress must never fail a cell)."""
    with contextlib.suppress(OSError):
        run_dir.mkdir(parents=True, exist_ok=True)
        tmp = run_dir / f".progress-{worker}.{os.getpid()}"
        tmp.write_text(json.dumps({"cell": cell, "done": done, "planned": planned,
                                   "at": time.time()}))
        os.replace(tmp, run_dir / f"progress-{worker}.json")


def read_progress(run_dir: Path) -> dict[str, Any]:
    """Every worker's progress together: cells done (summed), planned, the newest cell."""
    merged: dict[str, Any] = {"done": 0, "planned": 0, "cell": None, "at": 0.0}
    for path in run_dir.glob(PROGRESS_GLOB):
        try:
            data = json.loads(path.read_text())
        except (OSError, ValueError):
            continue
        if not isinstance(data, dict):
            continue
        merged["done"] += int(data.get("done", 0))
        merged["planned"] = max(merged["planned"], int(data.get("planned", 0)))
        if float(data.get("at", 0.0)) >= merged["at"]:
            merged["cell"], merged["at"] = data.get("cell"), float(data.get("at", 0.0))
    return merged


@dataclass
class Plan:
    """How far a job of ``total`` trial processes has come, for the status line."""

    total: int
    started: float
    finished: int = 0

    def line(self, label: str, progress: Mapping[str, Any], trial_started: float) -> str:
        now = time.time()
        elapsed = now - self.started
        done, planned = int(progress.get("done", 0)), int(progress.get("planned", 0))
        fraction = done / planned if planned else 0.0
        spent = self.finished + min(fraction, 0.99)
        left = elapsed / spent * (self.total - spent) if spent > 0.05 else None
        cell = progress.get("cell") or "starting"
        return (f"{label}: cell {min(done + 1, planned) if planned else '?'}/{planned or '?'}"
                f" {cell} | elapsed {_clock(elapsed)}"
                f"{f', about {_clock(left)} left' if left is not None else ''}")


def _clock(seconds: float) -> str:
    seconds = int(max(0.0, seconds))
    return f"{seconds // 60}m{seconds % 60:02d}s"


def _start(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None,
           log: IO[str], cpus: Sequence[int] | None = None) -> subprocess.Popen[bytes]:
    pin = None
    if cpus is not None and hasattr(os, "sched_setaffinity"):
        chosen = set(cpus)

        def pin() -> None:
            os.sched_setaffinity(0, chosen)
    return subprocess.Popen(list(cmd), cwd=cwd, env=dict(env) if env is not None else None,
                            stdout=log, stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=pin)


def run_trial(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None, trial_dir: Path,
              show: Callable[[Mapping[str, Any], float], None]) -> int:
    """Run ``cmd`` (a pytest process writing its results to ``trial_dir``) to its end,
    calling ``show(progress, trial_started)`` once a second; returns its exit code."""
    return run_together([TrialProcess(cmd, cwd, env, trial_dir)], show)[0].code


@dataclass(frozen=True)
class TrialProcess:
    """One trial's pytest process: its command, folder, environment, trial directory and,
    optionally, the CPUs it is pinned to."""

    cmd: Sequence[str]
    cwd: Path
    env: Mapping[str, str] | None
    trial_dir: Path
    cpus: Sequence[int] | None = None


@dataclass(frozen=True)
class Ended:
    """How a trial process ended: its exit code, and when it started and ended (epoch s)."""

    code: int
    started: float
    ended: float


def run_together(trials: Sequence[TrialProcess],
                 show: Callable[[Mapping[str, Any], float], None]) -> list[Ended]:
    """Start every trial process at once and wait for all of them (``show`` follows the
    first one's progress); how each ended. Ctrl-C (or SIGTERM through the CLI) stops them
    all."""
    started = time.time()
    with contextlib.ExitStack() as stack:
        logs = [stack.enter_context(_log(t.trial_dir)) for t in trials]
        procs: list[subprocess.Popen[bytes]] = []
        ended: dict[int, float] = {}
        try:
            for t, log in zip(trials, logs, strict=True):
                procs.append(_start(t.cmd, t.cwd, t.env, log, t.cpus))
            while len(ended) < len(procs):
                show(read_progress(trials[0].trial_dir), started)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    next(p for i, p in enumerate(procs) if i not in ended).wait(TICK_S)
                ended.update({i: time.time() for i, p in enumerate(procs)
                              if i not in ended and p.poll() is not None})
        except KeyboardInterrupt:
            for p in procs:
                p.terminate()
            for p in procs:
                p.wait()
            raise
    return [Ended(int(p.returncode), started, ended[i]) for i, p in enumerate(procs)]


@contextlib.contextmanager
def _log(trial_dir: Path) -> Iterator[IO[str]]:
    trial_dir.mkdir(parents=True, exist_ok=True)
    with open(trial_dir / LOG_FILE, "w", encoding="utf-8") as log:
        yield log


def log_tail(trial_dir: Path, lines: int = 25) -> str:
    try:
        text = (trial_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])


class StatusLine:
    """One status line on stderr: rewritten in place on a terminal, else printed at most
    every ``every_s`` seconds."""

    def __init__(self, every_s: float = 15.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every_s = every_s
        self.last = 0.0
        self.width = 0

    def show(self, text: str) -> None:
        now = time.time()
        if self.tty:
            pad = max(0, self.width - len(text))
            sys.stderr.write("\r" + text + " " * pad)
            sys.stderr.flush()
            self.width = len(text)
        elif now - self.last >= self.every_s:
            print(text, file=sys.stderr, flush=True)
            self.last = now

    def follow(self, plan: Plan, label: str) -> Callable[[Mapping[str, Any], float], None]:
        """What :func:`run_trial` calls each second: this line shows ``plan``'s progress."""
        def show(progress: Mapping[str, Any], trial_started: float) -> None:
            self.show(plan.line(label, progress, trial_started))
        return show

    def say(self, text: str) -> None:
        """A line that stays."""
        if self.tty and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            self.width = 0
        print(text, file=sys.stderr, flush=True)
