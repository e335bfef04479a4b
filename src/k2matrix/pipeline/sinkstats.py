"""What the pipeline's sink measures: its counts, its commits (with the produce timestamps
of their rows, for freshness), consumer lag over time, latency histograms, and the seconds
each of its stages took."""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np

from k2matrix.producer.latency import LatencyHistogram


@dataclass
class CommitInfo:
    """One Iceberg commit of the sink: snapshot sequence number, rows, commit latency, and
    the produce timestamps (ms) of its rows as (unique values, counts)."""

    sequence: int
    rows: int
    latency_ms: float
    at: float
    ts_values: np.ndarray
    ts_counts: np.ndarray


@dataclass
class SinkStats:
    consumed: int = 0
    committed: int = 0
    holes: int = 0  # offsets the broker skipped with no message dropped
    commits: list[CommitInfo] = field(default_factory=list)
    lag: list[tuple[float, int]] = field(default_factory=list)
    consume_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    commit_latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    # seconds spent per stage: consume (CPU of the sink's thread in the calls that returned
    # messages, and their checks), decode (wall, the decode thread), commit (wall, the
    # commit thread)
    stages_s: dict[str, float] = field(
        default_factory=lambda: {"consume": 0.0, "decode": 0.0, "commit": 0.0})


def record_ms(hist: LatencyHistogram, values_ms: np.ndarray) -> None:
    """Record latencies given in ms (negative ones, from clock skew, as 0)."""
    if values_ms.size:
        uniq, counts = np.unique(np.maximum(values_ms, 0), return_counts=True)
        for v, c in zip(uniq.tolist(), counts.tolist(), strict=True):
            hist.record(v / 1e3, int(c))
