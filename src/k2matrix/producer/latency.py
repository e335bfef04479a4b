"""Latency histograms: HdrHistograms (the ``hdrhistogram`` package) that merge exactly.

Every latency k2matrix records per item (the producer's delivery latency, the pipeline's
freshness, produce-to-consume and commit latency) goes into a :class:`LatencyHistogram`.
Values are recorded in microseconds from 1 µs to one hour with 3 significant digits, so a
reported percentile is within 0.1% of the sample at that rank. Histograms recorded in
different processes merge exactly (:meth:`LatencyHistogram.merge`, or across a process
boundary :meth:`LatencyHistogram.encode` / :meth:`LatencyHistogram.decode`, HdrHistogram's
compressed base64 form): the merged counts equal those of one histogram fed every sample.

A percentile is the nearest rank of :func:`k2matrix.stats.percentile_rank` (HdrHistogram's
own rule), reported as the highest value equivalent to the bucket that holds that sample;
the maximum is kept exactly beside the histogram. Recording one value costs about a
microsecond and memory does not grow with the sample count.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass

from hdrh.histogram import HdrHistogram

from k2matrix.stats import DIGITS, percentile_rank

LOWEST_US = 1
HIGHEST_US = 3_600_000_000  # one hour
SIGNIFICANT_DIGITS = 3
# (name, quantile) of the figures a summary reports, p50 through p99.99
SUMMARY_QUANTILES: tuple[tuple[str, float], ...] = (
    ("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999), ("p9999", 0.9999),
)


@dataclass(frozen=True)
class LatencySummary:
    count: int
    p50_ms: float
    p90_ms: float
    p99_ms: float
    p999_ms: float
    p9999_ms: float
    max_ms: float

    def as_extra_info(self, prefix: str = "latency") -> dict[str, float]:
        """``{prefix}_p50_ms`` … ``{prefix}_p9999_ms`` and ``{prefix}_max_ms``."""
        return {
            f"{prefix}_p50_ms": round(self.p50_ms, DIGITS),
            f"{prefix}_p90_ms": round(self.p90_ms, DIGITS),
            f"{prefix}_p99_ms": round(self.p99_ms, DIGITS),
            f"{prefix}_p999_ms": round(self.p999_ms, DIGITS),
            f"{prefix}_p9999_ms": round(self.p9999_ms, DIGITS),
            f"{prefix}_max_ms": round(self.max_ms, DIGITS),
        }


def _new() -> HdrHistogram:
    return HdrHistogram(LOWEST_US, HIGHEST_US, SIGNIFICANT_DIGITS)


def _to_us(seconds: float) -> int:
    return min(HIGHEST_US, max(LOWEST_US, round(seconds * 1e6)))


class LatencyHistogram:
    """Latencies in seconds, kept in an HdrHistogram of microseconds."""

    def __init__(self) -> None:
        self._h = _new()
        self.max_s = 0.0

    @property
    def count(self) -> int:
        return int(self._h.get_total_count())

    @property
    def hdr(self) -> HdrHistogram:
        """The underlying HdrHistogram (microseconds)."""
        return self._h

    def record(self, seconds: float, count: int = 1) -> None:
        """Record ``count`` samples of ``seconds`` (negative clock skew counts as 1 µs)."""
        if count < 1:
            return
        self._h.record_value(_to_us(seconds), count)
        if seconds > self.max_s:
            self.max_s = seconds

    def record_many(self, seconds: Iterable[float]) -> None:
        for s in seconds:
            self.record(s)

    def reset(self) -> None:
        self._h.reset()
        self.max_s = 0.0

    def merge(self, other: LatencyHistogram) -> LatencyHistogram:
        """Add ``other``'s samples to this histogram (exact); returns self."""
        self._h.add(other._h)
        self.max_s = max(self.max_s, other.max_s)
        return self

    def encode(self) -> dict[str, object]:
        """A plain dict (safe across process boundaries): HdrHistogram's base64 form and the
        exact maximum."""
        return {"hdr": self._h.encode().decode("ascii"), "max_s": self.max_s}

    @classmethod
    def decode(cls, data: dict[str, object]) -> LatencyHistogram:
        out = cls()
        encoded = data.get("hdr")
        if not isinstance(encoded, str):
            raise ValueError("a histogram's encoded form needs an 'hdr' string")
        if encoded:
            out._h = HdrHistogram.decode(encoded.encode("ascii"))
        max_s = data.get("max_s", 0.0)
        out.max_s = float(max_s) if isinstance(max_s, int | float) else 0.0
        return out

    def percentile(self, q: float) -> float:
        """The latency in seconds at quantile ``q`` (0 < q <= 1); 0.0 with no samples."""
        return self.percentiles(q)[0]

    def percentiles(self, *qs: float) -> list[float]:
        """:meth:`percentile` of each of ``qs``."""
        count = self.count
        ranks = [percentile_rank(q, max(1, count)) for q in qs]  # checks every q
        if count == 0:
            return [0.0] * len(qs)
        out = []
        for rank in ranks:
            if rank >= count:
                out.append(self.max_s)
                continue
            # HdrHistogram's percentile at 100*rank/count reads exactly this rank
            value_us = self._h.get_value_at_percentile(100.0 * rank / count)
            out.append(min(value_us / 1e6, self.max_s))
        return out

    def summary(self) -> LatencySummary:
        p50, p90, p99, p999, p9999 = self.percentiles(*(q for _, q in SUMMARY_QUANTILES))
        return LatencySummary(count=self.count, p50_ms=p50 * 1e3, p90_ms=p90 * 1e3,
                              p99_ms=p99 * 1e3, p999_ms=p999 * 1e3, p9999_ms=p9999 * 1e3,
                              max_ms=self.max_s * 1e3)


def merge_all(histograms: Iterable[LatencyHistogram]) -> LatencyHistogram:
    """One histogram holding every sample of ``histograms``."""
    out = LatencyHistogram()
    for h in histograms:
        out.merge(h)
    return out
