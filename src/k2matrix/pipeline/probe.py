"""The query probe: polls the table through the catalog, as any reader's query starts.

Every ``interval_s`` it loads the table from the catalog and reads its current snapshot
(sequence number and ``total-records``): that is what a query's planning sees, so a row is
visible to queries from the first poll whose snapshot contains it. It records each change as
an observation ``(wall time, sequence number, total rows)``; :func:`freshness` pairs them
with the sink's commits: a row's freshness is the time of the first observation at or past
its commit's sequence number minus the row's produce timestamp.
"""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any

import numpy as np

from k2matrix.pipeline.sinkstats import CommitInfo
from k2matrix.producer.latency import LatencyHistogram


class Probe(threading.Thread):
    def __init__(self, catalog: Any, identifier: str, interval_s: float = 0.05) -> None:
        super().__init__(name="k2-probe", daemon=True)
        self.catalog, self.identifier, self.interval_s = catalog, identifier, interval_s
        self.observations: list[tuple[float, int, int]] = []
        self.polls = 0
        self.error: BaseException | None = None
        self._stop_event = threading.Event()

    def poll(self) -> None:
        table = self.catalog.load_table(self.identifier)
        now = time.time()
        self.polls += 1
        snap = table.current_snapshot()
        if snap is None:
            return
        seq = int(snap.sequence_number or 0)
        if not self.observations or self.observations[-1][1] != seq:
            total = int(snap.summary.get("total-records", "0")) if snap.summary else 0
            self.observations.append((now, seq, total))

    def run(self) -> None:
        while not self._stop_event.is_set():
            try:
                self.poll()
            except BaseException as exc:  # the runner reports it; the probe stops
                self.error = exc
                return
            self._stop_event.wait(self.interval_s)

    def stop(self) -> None:
        self._stop_event.set()
        if self.ident is None:  # never started: the run failed before the sink ran
            return
        self.join(timeout=10)
        if self.error is None:
            self.poll()  # a last look, so every commit has been observed


def freshness(commits: Sequence[CommitInfo], observations: Sequence[tuple[float, int, int]]
              ) -> tuple[LatencyHistogram, int]:
    """The freshness histogram of every committed row, and how many rows no observation
    saw (0 after :meth:`Probe.stop`)."""
    hist = LatencyHistogram()
    seqs = np.array([o[1] for o in observations], dtype=np.int64)
    times_ms = np.array([o[0] * 1e3 for o in observations])
    unseen = 0
    for c in commits:
        i = int(np.searchsorted(seqs, c.sequence, side="left")) if seqs.size else 0
        if i >= seqs.size:
            unseen += c.rows
            continue
        delays = times_ms[i] - c.ts_values
        for d, n in zip(delays.tolist(), c.ts_counts.tolist(), strict=True):
            hist.record(max(d, 0.0) / 1e3, int(n))
    return hist, unseen


def visible_delays(commits: Sequence[CommitInfo],
                   observations: Sequence[tuple[float, int, int]]) -> list[float]:
    """Per commit seen by the probe: ms from the commit's end to the first observation of
    its snapshot (the probe stage of freshness)."""
    seqs = np.array([o[1] for o in observations], dtype=np.int64)
    out = []
    for c in commits:
        i = int(np.searchsorted(seqs, c.sequence, side="left")) if seqs.size else 0
        if i < seqs.size:
            out.append(max(0.0, (observations[i][0] - c.at) * 1e3))
    return out
