"""A pipeline run as figures: ``extra_info`` for a cell, and a system for the rate search.

:func:`extra_info` gives the keys the summary reads (``items``, ``unit``, ``throughput``)
and the pipeline's own: ``freshness_p50_ms`` … ``freshness_p9999_ms``, ``freshness_max_ms``,
``consume_latency_*`` (produce-to-consume), ``delivery_latency_*`` (produce call to broker
acknowledgement, merged from every worker's HdrHistogram), ``commit_latency_*``,
``commits_per_s``, ``lost``, ``duplicated``, ``unexpected``, ``restarts``, ``workers``,
per-worker offered and achieved rates, and ``series`` (``lag`` over time, ``lag_t_s``, and
``commit_latency_ms`` per commit).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from k2matrix.backends.config import Backends
from k2matrix.pipeline.run import PipelineConfig, PipelineResult, run_pipeline
from k2matrix.ratesearch import Step


def extra_info(result: PipelineResult) -> dict[str, Any]:
    s, v = result.stats, result.verified
    lag_t0 = result.started
    out: dict[str, Any] = {
        "items": result.acknowledged, "unit": "rows/s",
        "throughput": round(result.throughput, 1),
        "seconds": round(result.seconds, 3),
        "offered_rate": result.config.rate,
        "workers": result.config.workers,
        "worker_rates": [round(float(sh["achieved_rate"]), 1) for sh in result.shares],
        "commits": len(s.commits),
        "commits_per_s": round(len(s.commits) / result.seconds, 3),
        "commit_interval_ms": result.config.commit_interval_ms,
        "commit_rows": result.config.commit_rows,
        "lost": v.lost, "duplicated": v.duplicated, "unexpected": v.unexpected,
        "restarts": result.restarts, "dropped_at_restart": result.dropped_at_restart,
        "probe_polls": result.probe_polls,
        "max_lag": max((lag for _, lag in s.lag), default=0),
        "offset_holes": s.holes,
        "verified": v.describe() + " (count, id set, checksum)",
        "series": {
            "lag": [float(lag) for _, lag in s.lag],
            "lag_t_s": [round(t - lag_t0, 3) for t, _ in s.lag],
            "commit_latency_ms": [round(c.latency_ms, 3) for c in s.commits],
        },
    }
    out.update(result.freshness.summary().as_extra_info("freshness"))
    out.update(s.consume_latency.summary().as_extra_info("consume_latency"))
    out.update(result.delivery.summary().as_extra_info("delivery_latency"))
    out.update(s.commit_latency.summary().as_extra_info("commit_latency"))
    out["latency_p99_ms"] = out["freshness_p99_ms"]  # the summary's p99 column: freshness
    return out


class PipelineSystem:
    """The pipeline as a :class:`~k2matrix.ratesearch.LoadSystem`: one run per step; the
    backlog is the largest consumer lag seen, the p99 the freshness p99. A step whose run
    failed verification raises (a rate is never reported over lost rows)."""

    def __init__(self, config: PipelineConfig, backends: Backends) -> None:
        self.config, self.backends = config, backends
        self.runs: list[PipelineResult] = []

    def run(self, rate: float, seconds: float) -> Step:
        result = run_pipeline(replace(self.config, rate=rate, seconds=seconds), self.backends)
        self.runs.append(result)
        if not result.verified.ok:
            from k2matrix.errors import VerificationError
            raise VerificationError(f"at {rate:g} rows/s: {result.verified.describe()}")
        lag = max((lag for _, lag in result.stats.lag), default=0)
        return Step(rate, seconds, result.throughput, float(lag),
                    result.freshness.summary().p99_ms, {"commits": len(result.stats.commits)})
