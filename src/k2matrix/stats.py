"""The measurement contract: one definition each of a percentile, a latency summary,
throughput and efficiency. Every suite, the bench helpers and the summary use these, so a
``p99_ms`` target judges the same quantity wherever it was measured.

- A percentile is the *nearest rank*: the smallest sample with at least ``q`` of the samples
  at or below it (rank ``ceil(q * n)``, 1-based). It is always an observed value (no
  interpolation), the rule HdrHistogram and most latency tools report. A latency histogram
  (:mod:`k2matrix.producer.latency`, an HdrHistogram) reads the same rank and reports the
  highest value equivalent to the bucket that holds it (3 significant digits).
- The time of a cell is the median of its rounds as pytest-benchmark computes it (the mean
  of the middle two for an even count), so that figures and pytest-benchmark's JSON agree.
- Throughput is items per second of that time.
- Efficiency is a throughput divided by the in-run reference (the ceiling) measured with the
  same items: 1.0 means as fast as the reference. The reference runs one round before each
  of the cell's rounds, and the efficiency is the median of the per-round ratios
  (:func:`paired_ceiling_info`), so a slower minute of the machine slows both sides of a
  ratio and cancels out. A ceiling bounds the cell: it does a part of the cell's work.
"""

from __future__ import annotations

import math
import statistics
from collections.abc import Iterable, Sequence

# (name in extra_info, quantile) of a latency summary, in order.
LATENCY_QUANTILES: tuple[tuple[str, float], ...] = (
    ("p50", 0.50), ("p90", 0.90), ("p99", 0.99), ("p999", 0.999),
)
DIGITS = 4  # decimals kept in extra_info figures
SIGNIFICANT = 6  # significant digits kept in a ratio (an efficiency of 0.0068 keeps 0.00680412)


def significant(value: float, digits: int = SIGNIFICANT) -> float:
    """``value`` rounded to ``digits`` significant digits (a ratio compared across trials:
    rounding to 4 decimals moved an efficiency of 0.0068 by up to 0.7%)."""
    return float(f"{value:.{digits}g}")


def _check_quantile(q: float) -> None:
    if not 0.0 < q <= 1.0:
        raise ValueError(f"q={q!r}: a quantile must be in (0, 1], e.g. 0.99 for p99")


def percentile_rank(q: float, count: int) -> int:
    """The 1-based rank of quantile ``q`` among ``count`` sorted samples (nearest rank)."""
    _check_quantile(q)
    if count < 1:
        raise ValueError(f"count={count!r}: a percentile needs at least one sample")
    # round() first: 0.99 * 100 is 98.99999999999999 in floating point, and its rank is 99
    return max(1, min(count, math.ceil(round(q * count, 9))))


def percentiles(values: Iterable[float], *qs: float) -> list[float]:
    """The nearest-rank percentile of ``values`` at each of ``qs`` (one sort)."""
    ordered = sorted(values)
    if not ordered:
        raise ValueError("a percentile needs at least one sample")
    return [float(ordered[percentile_rank(q, len(ordered)) - 1]) for q in qs]


def percentile(values: Iterable[float], q: float) -> float:
    """The nearest-rank percentile of ``values`` at quantile ``q`` (0 < q <= 1)."""
    return percentiles(values, q)[0]


def median(values: Iterable[float]) -> float:
    """The median of round times (pytest-benchmark's definition: ``statistics.median``)."""
    ordered = list(values)
    if not ordered:
        raise ValueError("a median needs at least one sample")
    return float(statistics.median(ordered))


def latency_summary(latencies_ms: Sequence[float]) -> dict[str, float]:
    """``latency_p50_ms``, ``latency_p90_ms``, ``latency_p99_ms``, ``latency_p999_ms``,
    ``latency_max_ms`` and ``latency_mean_ms`` of per-item latencies in milliseconds; empty
    for no samples."""
    if not latencies_ms:
        return {}
    names = [name for name, _ in LATENCY_QUANTILES]
    values = percentiles(latencies_ms, *(q for _, q in LATENCY_QUANTILES))
    out = {f"latency_{name}_ms": round(v, DIGITS) for name, v in zip(names, values, strict=True)}
    out["latency_max_ms"] = round(float(max(latencies_ms)), DIGITS)
    out["latency_mean_ms"] = round(math.fsum(latencies_ms) / len(latencies_ms), DIGITS)
    return out


def throughput(items: float, seconds: float) -> float:
    """Items per second; 0.0 when no time was measured."""
    return float(items) / seconds if seconds > 0 else 0.0


def efficiency(measured: float, ceiling: float) -> float | None:
    """``measured`` throughput as a fraction of the ``ceiling`` throughput; None without a
    ceiling."""
    return float(measured) / ceiling if ceiling > 0 else None


def paired_efficiency(seconds: Sequence[float], reference_seconds: Sequence[float]
                      ) -> float | None:
    """The median over rounds of reference time / cell time, each cell round paired with
    the reference round that ran just before it (the last ``n`` of either list are
    paired); None without a pair."""
    n = min(len(seconds), len(reference_seconds))
    ratios = [r / s for s, r in zip(seconds[-n:], reference_seconds[-n:], strict=True)
              if s > 0] if n else []
    return median(ratios) if ratios else None


def paired_ceiling_info(items: float, seconds: Sequence[float],
                        reference_seconds: Sequence[float]) -> dict[str, float]:
    """``throughput`` (items over the median round), ``efficiency``
    (:func:`paired_efficiency`) and the ``ceiling_throughput`` it implies
    (throughput / efficiency); only the throughput without a reference round."""
    measured = throughput(items, median(seconds))
    out = {"throughput": round(measured, 1)}
    ratio = paired_efficiency(seconds, reference_seconds)
    if ratio:
        out["efficiency"] = significant(ratio)
        out["ceiling_throughput"] = round(measured / ratio, 1)
    return out
