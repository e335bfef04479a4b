"""Starting a sweep's pytest processes: the one place they are started, followed and stopped.

A trial process (:func:`run_trial`, :func:`run_together`) writes its output to
``pytest.log`` in its trial directory, beside its results; whoever launched it reads the
trial's progress files once a second (:func:`k2matrix.results.progress.read_progress`) and
hands them to a ``show`` callback (:meth:`k2matrix.sweep.status.StatusLine.follow`). The
log's tail (:func:`log_tail`) is what is shown when a trial fails. A process that writes to
a log of the caller's choosing and may be cut short (:func:`run_logged`), or one that shares
this process's terminal (:func:`run_attached`, the session re-run under callgrind), is
started the same way. Ctrl-C (or SIGTERM through the CLI) stops every process started here
before the interrupt goes on.

The commands come from :class:`k2matrix.sweep.command.SweepCommand`.
"""

from __future__ import annotations

import contextlib
import os
import subprocess
import time
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any

from k2matrix.results.progress import read_progress

__all__ = ["LOG_FILE", "TICK_S", "Ended", "TrialProcess", "log_tail", "run_attached",
           "run_logged", "run_together", "run_trial", "start", "stop"]

LOG_FILE = "pytest.log"
TICK_S = 1.0


def start(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None,
          log: IO[str] | None = None,
          cpus: Sequence[int] | None = None) -> subprocess.Popen[bytes]:
    """Start ``cmd`` in ``cwd`` with ``env`` (None: this process's). With a ``log`` its
    output goes there and it reads nothing; without one it shares this process's standard
    streams. ``cpus``: the CPUs it is pinned to (where the platform can)."""
    pin = None
    if cpus is not None and hasattr(os, "sched_setaffinity"):
        chosen = set(cpus)

        def pin() -> None:
            os.sched_setaffinity(0, chosen)
    environ = dict(env) if env is not None else None
    if log is None:
        return subprocess.Popen(list(cmd), cwd=cwd, env=environ, preexec_fn=pin)
    return subprocess.Popen(list(cmd), cwd=cwd, env=environ, stdout=log,
                            stderr=subprocess.STDOUT, stdin=subprocess.DEVNULL,
                            preexec_fn=pin)


def stop(procs: Sequence[subprocess.Popen[bytes]]) -> None:
    """Terminate every process, then wait for each to end."""
    for p in procs:
        p.terminate()
    for p in procs:
        p.wait()


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


def run_trial(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None, trial_dir: Path,
              show: Callable[[Mapping[str, Any], float], None]) -> int:
    """Run ``cmd`` (a pytest process writing its results to ``trial_dir``) to its end,
    calling ``show(progress, trial_started)`` once a second; returns its exit code."""
    return run_together([TrialProcess(cmd, cwd, env, trial_dir)], show)[0].code


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
                procs.append(start(t.cmd, t.cwd, t.env, log, t.cpus))
            while len(ended) < len(procs):
                show(read_progress(trials[0].trial_dir), started)
                with contextlib.suppress(subprocess.TimeoutExpired):
                    next(p for i, p in enumerate(procs) if i not in ended).wait(TICK_S)
                ended.update({i: time.time() for i, p in enumerate(procs)
                              if i not in ended and p.poll() is not None})
        except KeyboardInterrupt:
            stop(procs)
            raise
    return [Ended(int(p.returncode), started, ended[i]) for i, p in enumerate(procs)]


def run_logged(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None, log: IO[str],
               timeout_s: float) -> int | None:
    """Run ``cmd`` with its output in ``log``; its exit code, or None when it ran longer
    than ``timeout_s`` and was killed. Ctrl-C stops it."""
    proc = start(cmd, cwd, env, log)
    try:
        return proc.wait(timeout_s)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()
        return None
    except KeyboardInterrupt:
        stop([proc])
        raise


def run_attached(cmd: Sequence[str], cwd: Path, env: Mapping[str, str] | None) -> int:
    """Run ``cmd`` on this process's terminal (its output is the session's) to its end;
    its exit code. Ctrl-C (or SIGTERM through the CLI) stops it."""
    proc = start(cmd, cwd, env)
    try:
        return proc.wait()
    except KeyboardInterrupt:
        stop([proc])
        raise


@contextlib.contextmanager
def _log(trial_dir: Path) -> Iterator[IO[str]]:
    trial_dir.mkdir(parents=True, exist_ok=True)
    with open(trial_dir / LOG_FILE, "w", encoding="utf-8") as log:
        yield log


def log_tail(trial_dir: Path, lines: int = 25) -> str:
    """The last ``lines`` lines of a trial's ``pytest.log`` ("" when there is none)."""
    try:
        text = (trial_dir / LOG_FILE).read_text(encoding="utf-8", errors="replace")
    except OSError:
        return ""
    return "\n".join(text.splitlines()[-lines:])
