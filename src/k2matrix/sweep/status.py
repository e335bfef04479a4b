"""The status line of running sweep processes: which trial, which cell, the time spent and
an estimate of the time left, on stderr."""

from __future__ import annotations

import sys
import time
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

__all__ = ["Plan", "StatusLine"]


@dataclass
class Plan:
    """How far a job of ``total`` trial processes has come, for the status line."""

    total: int
    started: float
    finished: int = 0

    def line(self, label: str, progress: Mapping[str, Any], trial_started: float) -> str:
        """The status of the running trial ``label`` from its merged ``progress``."""
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


class StatusLine:
    """One status line on stderr: rewritten in place on a terminal, else printed at most
    every ``every_s`` seconds."""

    def __init__(self, every_s: float = 15.0) -> None:
        self.tty = sys.stderr.isatty()
        self.every_s = every_s
        self.last = 0.0
        self.width = 0

    def show(self, text: str) -> None:
        """Replace the line with ``text`` (off a terminal: print it, at most so often)."""
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
        """What :func:`k2matrix.sweep.launch.run_trial` calls each second: this line shows
        ``plan``'s progress."""
        def show(progress: Mapping[str, Any], trial_started: float) -> None:
            self.show(plan.line(label, progress, trial_started))
        return show

    def say(self, text: str) -> None:
        """A line that stays."""
        if self.tty and self.width:
            sys.stderr.write("\r" + " " * self.width + "\r")
            self.width = 0
        print(text, file=sys.stderr, flush=True)
