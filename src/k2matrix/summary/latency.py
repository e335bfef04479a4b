"""What a cell's latency percentiles measure, how many samples they rest on, and which of
them those samples resolve.

Every suite records its latencies as ``latency_p50_ms`` … ``latency_max_ms``, but the items
differ: the producer's are delivery latencies (produce call to broker acknowledgement, one
per message), the pipeline's freshness (produce call to visible in the table, one per row),
the sustained writer's commit latencies (one per commit), a query cell's query latencies
(one per query) and the other cells' round times (one per round). :func:`meaning` names
the kind and counts the samples from the cell's own record.

A percentile of *N* samples is resolved when at least one sample lies beyond it:
``N >= 1 / (1 - q)``, so p99 needs 100 samples and p99.9 1,000. Below that the "p99" is the
largest sample (nearest rank), and the report shows it as "max of N" instead.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from k2matrix.stats import percentile_rank
from k2matrix.summary.units import fmt_seconds

DELIVERY, FRESHNESS, COMMIT, QUERY, ROUND = "delivery", "freshness", "commit", "query", "round"
KINDS: dict[str, str] = {
    DELIVERY: "delivery latency: produce call to broker acknowledgement, per message",
    FRESHNESS: "freshness: produce call to visible in the table, per row",
    COMMIT: "commit latency: one table commit, per commit",
    QUERY: "query latency: one query, per query",
    ROUND: "round time: one timed round, per round",
}
# (label, frame column, quantile): the percentiles a cell may record, lowest first
PERCENTILES: tuple[tuple[str, str, float], ...] = (
    ("p50", "p50_ms", 0.5), ("p90", "p90_ms", 0.9), ("p99", "p99_ms", 0.99),
    ("p99.9", "p999_ms", 0.999), ("p99.99", "p9999_ms", 0.9999))


def prefix(kind: str | None) -> str:
    """The ``extra_info`` prefix of a kind's percentiles: the pipeline records its freshness
    as ``freshness_p50_ms`` … (``latency_p99_ms`` repeats only the p99)."""
    return "freshness" if kind == FRESHNESS else "latency"


def _len(series: Any, name: str) -> int | None:
    values = series.get(name) if isinstance(series, Mapping) else None
    return len(values) if isinstance(values, list) and values else None


def _count(value: Any) -> int | None:
    ok = type(value) in (int, float) and value == value and value > 0
    return int(value) if ok else None


def meaning(component: str, extra: Mapping[str, Any], rounds: int | None
            ) -> tuple[str | None, int | None]:
    """(kind, samples) of the cell's ``latency_*`` figures; (None, None) without any."""
    if not any(str(k).startswith("latency_") for k in extra):
        return None, None
    series = extra.get("series")
    if "freshness_p99_ms" in extra:
        return FRESHNESS, _count(extra.get("items"))
    if component == "producer":
        found = _count(extra.get("messages")) or next(
            (_len(series, n) for n in (series or {}) if "delivery" in str(n)
             and _len(series, n)), None)
        if found is None and rounds and _count(extra.get("items")):
            found = rounds * int(extra["items"])
        return DELIVERY, found
    if component == "query":
        return QUERY, _len(series, "latency_ms") or rounds
    if _len(series, "commit_latency_ms"):
        return COMMIT, _len(series, "commit_latency_ms")
    return ROUND, rounds


def resolves(samples: int | None, q: float) -> bool:
    """Whether ``samples`` samples resolve quantile ``q`` (one sample at least beyond it)."""
    return samples is not None and samples * (1.0 - q) >= 1.0 - 1e-9


def tail(samples: int | None, values: Mapping[str, Any]) -> tuple[str, float] | None:
    """The highest of p99, p99.9 and p99.99 the samples resolve, as (label, ms); else the
    largest sample as ("max of N", ms); None when no maximum was recorded. ``values`` maps
    the frame's columns (``p99_ms`` …, ``latency_max_ms``) to numbers."""
    best: tuple[str, float] | None = None
    for label, column, q in PERCENTILES[2:]:
        value = values.get(column)
        if isinstance(value, int | float) and resolves(samples, q):
            best = (label, float(value))
    if best is not None:
        return best
    top = values.get("latency_max_ms")
    if not isinstance(top, int | float):
        return None
    return (f"max of {samples:,}" if samples else "max (samples unknown)", float(top))


def resolved_points(samples: int | None, values: Mapping[str, Any]
                    ) -> list[tuple[float, float, str]]:
    """(x = 1 / (1 - q), ms, label) of every recorded percentile the samples resolve."""
    out = []
    for label, column, q in PERCENTILES:
        value = values.get(column)
        if isinstance(value, int | float) and resolves(samples, q):
            out.append((1.0 / (1.0 - q), float(value), label))
    return out


def curve(samples: Sequence[float], points: int = 60) -> list[tuple[float, float]]:
    """(x = 1 / (1 - q), value) of raw samples on a log grid of x from 2 to N (nearest rank,
    :func:`k2matrix.stats.percentile_rank`: the last point is the second largest sample; the
    largest is the max, which no percentile short of 100% resolves)."""
    ordered = sorted(samples)
    n = len(ordered)
    if n < 2:
        return []
    out: list[tuple[float, float]] = []
    for i in range(points):
        x = 2.0 * (n / 2.0) ** (i / (points - 1))
        value = float(ordered[percentile_rank(1.0 - 1.0 / x, n) - 1])
        if not out or x > out[-1][0]:
            out.append((x, value))
    return out


# the frame columns :func:`latency_tail` reads
LATENCY_COLUMNS = ("latency_kind", "latency_samples", "p99_ms", "p999_ms", "p9999_ms",
                   "latency_max_ms")


def latency_tail(row: Mapping[str, Any]) -> str:
    """A cells-frame row's tail in words: what it measures and the highest percentile its
    samples resolve ("delivery p99 1.2 ms"), else its largest sample ("round max of 7:
    31.4 ms"); "-" without latencies."""
    found = tail(row.get("latency_samples"), row)
    if found is None:
        return "-"
    label, ms = found
    kind = row.get("latency_kind") or "latency"
    sep = ":" if label.startswith("max") else ""
    return f"{kind} {label}{sep} {fmt_seconds(ms / 1000.0)}"
