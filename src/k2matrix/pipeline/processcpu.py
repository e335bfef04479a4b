"""The CPU a local process (a broker the command started) spent over a run, and how it
changed during the run.

A broker on the same machine competes with the pipeline for its cores, and its cost per
message need not be constant: a broker whose CPU grows through a run at a constant offered
rate makes the rate it sustains depend on how long it is offered (docs/pipeline.md has
Tansu's). :class:`ProcessCpu` samples the process's cumulative CPU seconds (user + system)
every ``interval_s`` on a thread; :meth:`ProcessCpu.over` gives the CPU seconds in a window
and the share of one core in each quarter of it.
"""

from __future__ import annotations

import bisect
import itertools
import threading
import time
from typing import Any

import psutil

QUARTERS = 4


class ProcessCpu(threading.Thread):
    def __init__(self, pid: int, interval_s: float = 0.5) -> None:
        super().__init__(name="k2-process-cpu", daemon=True)
        self.pid, self.interval_s = pid, interval_s
        self.samples: list[tuple[float, float]] = []  # (wall time, cumulative CPU seconds)
        self._process = psutil.Process(pid)
        self._stop_event = threading.Event()
        self._lock = threading.Lock()

    def sample(self) -> None:
        try:
            cpu = self._process.cpu_times()
        except psutil.Error:  # the process ended: nothing more to count
            self._stop_event.set()
            return
        with self._lock:
            self.samples.append((time.time(), float(cpu.user + cpu.system)))

    def run(self) -> None:
        while not self._stop_event.is_set():
            self.sample()
            self._stop_event.wait(self.interval_s)

    def stop(self) -> None:
        self._stop_event.set()
        if self.ident is not None:
            self.join(timeout=5)

    def __enter__(self) -> ProcessCpu:
        self.sample()
        self.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self.stop()

    def cpu_at(self, at: float) -> float | None:
        """Cumulative CPU seconds at wall time ``at``, interpolated between the samples
        around it (None outside them)."""
        with self._lock:
            samples = list(self.samples)
        times = [t for t, _ in samples]
        i = bisect.bisect_left(times, at)
        if not samples or at < times[0] or at > times[-1]:
            return None
        if times[i] == at or i == 0:
            return samples[i][1]
        (t0, c0), (t1, c1) = samples[i - 1], samples[i]
        return c0 + (c1 - c0) * (at - t0) / (t1 - t0)

    def over(self, start: float, end: float) -> dict[str, Any]:
        """``cpu_s`` spent from ``start`` to ``end`` (wall times), ``cpu_share`` of one core
        over the window and ``cpu_share_by_quarter`` (first to last quarter); an empty dict
        when the samples do not cover the window."""
        self.sample()
        if end <= start:
            return {}
        edges = [start + (end - start) * q / QUARTERS for q in range(QUARTERS + 1)]
        cpu = [self.cpu_at(t) for t in edges]
        if any(c is None for c in cpu):
            return {}
        known = [float(c) for c in cpu if c is not None]
        step = (end - start) / QUARTERS
        return {"pid": self.pid, "cpu_s": round(known[-1] - known[0], 3),
                "cpu_share": round((known[-1] - known[0]) / (end - start), 3),
                "cpu_share_by_quarter": [round((b - a) / step, 3)
                                         for a, b in itertools.pairwise(known)]}


def add_broker_cpu(figures: dict[str, Any], meter: ProcessCpu | None) -> None:
    """Add ``broker_process``, the metered broker's CPU from the run's first produce
    (``started_at``) over its ``seconds``, to a run's figures (nothing without a meter or
    samples covering the run)."""
    if meter is None or "started_at" not in figures:
        return
    start = float(figures["started_at"])
    cpu = meter.over(start, start + float(figures["seconds"]))
    if cpu:
        figures["broker_process"] = cpu
