"""A fixed-memory latency histogram for per-message delivery latency.

Buckets are 10 µs wide up to 100 ms, then 1 ms wide up to 60 s (anything slower lands in
the last bucket; the exact maximum is kept apart). Recording one value is two comparisons
and a list increment, cheap enough for the delivery callback of every message; memory does
not grow with the message count (the memory cell measures the producer, not the histogram).
"""

from __future__ import annotations

from dataclasses import dataclass

FINE_STEP_S = 1e-5  # 10 µs
FINE_BUCKETS = 10_000  # up to 100 ms
COARSE_STEP_S = 1e-3  # 1 ms
COARSE_BUCKETS = 60_000  # up to 60 s


@dataclass(frozen=True)
class LatencySummary:
    count: int
    p50_ms: float
    p99_ms: float
    p999_ms: float
    max_ms: float

    def as_extra_info(self) -> dict[str, float]:
        return {
            "latency_p50_ms": round(self.p50_ms, 4),
            "latency_p99_ms": round(self.p99_ms, 4),
            "latency_p999_ms": round(self.p999_ms, 4),
            "latency_max_ms": round(self.max_ms, 4),
        }


class LatencyHistogram:
    """Counts of latencies (seconds) in log-ish buckets; percentiles read as the upper edge
    of the bucket that holds them (at most 10 µs high below 100 ms)."""

    def __init__(self) -> None:
        self.fine: list[int] = []
        self.coarse: list[int] = []
        self.count = 0
        self.max_s = 0.0
        self.reset()

    def record(self, seconds: float) -> None:
        self.count += 1
        if seconds > self.max_s:
            self.max_s = seconds
        i = int(seconds * 100_000.0)
        if i < FINE_BUCKETS:
            self.fine[i if i > 0 else 0] += 1
        else:
            j = int(seconds * 1000.0)
            self.coarse[j if j < COARSE_BUCKETS else COARSE_BUCKETS - 1] += 1

    def reset(self) -> None:
        self.fine = [0] * FINE_BUCKETS
        self.coarse = [0] * COARSE_BUCKETS
        self.count = 0
        self.max_s = 0.0

    def percentile(self, q: float) -> float:
        """The latency in seconds at quantile ``q`` (0 < q <= 1); 0.0 with no samples."""
        if not 0.0 < q <= 1.0:
            raise ValueError(f"q={q!r}: a quantile must be in (0, 1]")
        if self.count == 0:
            return 0.0
        rank = max(1, round(q * self.count))
        if rank >= self.count:
            return self.max_s
        seen = 0
        for i, n in enumerate(self.fine):
            seen += n
            if seen >= rank:
                return min((i + 1) * FINE_STEP_S, self.max_s)
        for j, n in enumerate(self.coarse):
            seen += n
            if seen >= rank:
                return min((j + 1) * COARSE_STEP_S, self.max_s)
        return self.max_s  # pragma: no cover - the counts add up to self.count

    def summary(self) -> LatencySummary:
        return LatencySummary(
            count=self.count,
            p50_ms=self.percentile(0.5) * 1000.0,
            p99_ms=self.percentile(0.99) * 1000.0,
            p999_ms=self.percentile(0.999) * 1000.0,
            max_ms=self.max_s * 1000.0,
        )
