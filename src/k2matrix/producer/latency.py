"""A fixed-memory latency histogram for per-message delivery latency.

Buckets are 10 µs wide up to 100 ms, then 1 ms wide up to 60 s (anything slower lands in
the last bucket; the exact maximum is kept apart). Recording one value is two comparisons
and a list increment, cheap enough for the delivery callback of every message; memory does
not grow with the message count (the memory cell measures the producer, not the histogram).
"""

from __future__ import annotations

from dataclasses import dataclass

from k2matrix.stats import percentile_rank

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
    """Counts of latencies (seconds) in log-ish buckets. A percentile is the nearest rank of
    :func:`k2matrix.stats.percentile_rank`, read as the upper edge of the bucket that holds
    that sample (at most 10 µs high below 100 ms)."""

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
        return self.percentiles(q)[0]

    def percentiles(self, *qs: float) -> list[float]:
        """:meth:`percentile` of each of ``qs``, in one pass over the buckets."""
        ranks = [percentile_rank(q, max(1, self.count)) for q in qs]  # checks every q
        if self.count == 0:
            return [0.0] * len(qs)
        out = [self.max_s] * len(qs)
        # (rank, position in qs) of the quantiles below the top sample, smallest rank first
        pending = sorted((rank, k) for k, rank in enumerate(ranks) if rank < self.count)
        if not pending:
            return out
        seen = p = 0
        for buckets, step in ((self.fine, FINE_STEP_S), (self.coarse, COARSE_STEP_S)):
            for i, n in enumerate(buckets):
                seen += n
                while seen >= pending[p][0]:
                    out[pending[p][1]] = min((i + 1) * step, self.max_s)
                    p += 1
                    if p == len(pending):
                        return out
        return out  # pragma: no cover - the counts add up to self.count

    def summary(self) -> LatencySummary:
        p50, p99, p999 = self.percentiles(0.5, 0.99, 0.999)
        return LatencySummary(
            count=self.count,
            p50_ms=p50 * 1000.0,
            p99_ms=p99 * 1000.0,
            p999_ms=p999 * 1000.0,
            max_ms=self.max_s * 1000.0,
        )
