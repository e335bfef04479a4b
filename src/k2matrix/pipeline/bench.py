"""A pipeline run as figures: ``extra_info`` for a cell, and a system for the rate search.

:func:`extra_info` gives the keys the summary reads (``items``, ``unit``, ``throughput``)
and the pipeline's own: ``broker`` (which brokers the figures came from: the embedded mock
cluster or bootstrap servers), ``freshness_p50_ms`` … ``freshness_p9999_ms``,
``freshness_max_ms``, ``consume_latency_*`` (produce-to-consume), ``delivery_latency_*``
(produce call to broker acknowledgement, merged from every worker's HdrHistogram),
``commit_latency_*``, ``commits_per_s``, ``lost``, ``duplicated``, ``unexpected``,
``restarts``, ``workers``, per-worker offered and achieved rates and hosts, ``stages``
(where the time goes, :func:`stages`), ``held`` and, when the sink fell behind the broker's
retention, ``fell_behind_at_s``, ``backlog_at_fall`` and ``sustainable_rate_so_far``; and
``series`` (``lag`` over time, ``lag_t_s``, and ``commit_latency_ms`` per commit).
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from k2matrix.backends.config import Backends
from k2matrix.errors import VerificationError
from k2matrix.pipeline.run import FELL_KEYS, PipelineConfig, PipelineResult, run_pipeline
from k2matrix.ratesearch import Step
from k2matrix.stats import percentile

# The rate search's freshness bound: commit interval + this margin. A pipeline that keeps up
# lands at about the interval plus one decode and commit plus a probe poll (docs/pipeline.md);
# the margin puts the bound above that band, so a step fails when the commit path falls
# behind, not on the noise of a p99 near the bound.
FRESHNESS_MARGIN_MS = 2_000


def freshness_bound_ms(commit_interval_ms: int, margin_ms: float = FRESHNESS_MARGIN_MS
                       ) -> float:
    return float(commit_interval_ms) + margin_ms


def _per_row_us(seconds: float, rows: int) -> float:
    return round(seconds / rows * 1e6, 3) if rows else 0.0


def stages(result: PipelineResult) -> dict[str, dict[str, float]]:
    """Where the time goes, per stage: ``busy_s`` (seconds the stage's thread worked) and
    ``us_per_row`` for produce (the paced produce calls, all shares; ``serialize_s``
    before the clock), consume (CPU of the sink's thread in the consume calls that
    returned messages and their checks), decode and commit (wall, each on its thread); the
    latency a row spends in broker (produce call to acknowledgement), consume (produce call
    to consumed), commit (the Iceberg append) and probe (commit to seen by a catalog poll):
    ``p50_ms``, ``p99_ms``."""
    acked, consumed = result.acknowledged, result.stats.consumed
    busy = result.stats.stages_s
    produce = sum(float(sh.get("stages_s", {}).get("produce", 0.0)) for sh in result.shares)
    serialize = sum(float(sh.get("stages_s", {}).get("serialize", 0.0))
                    for sh in result.shares)
    delivery, consume = result.delivery.summary(), result.stats.consume_latency.summary()
    commit = result.stats.commit_latency.summary()
    visible = result.visible_ms
    out: dict[str, dict[str, float]] = {
        "produce": {"busy_s": round(produce, 3), "us_per_row": _per_row_us(produce, acked),
                    "serialize_s": round(serialize, 3)},
        "broker": {"p50_ms": round(delivery.p50_ms, 3), "p99_ms": round(delivery.p99_ms, 3)},
    }
    if not result.config.sink:
        return out
    out["consume"] = {"busy_s": round(busy["consume"], 3),
                      "us_per_row": _per_row_us(busy["consume"], consumed),
                      "p50_ms": round(consume.p50_ms, 3), "p99_ms": round(consume.p99_ms, 3)}
    out["decode"] = {"busy_s": round(busy["decode"], 3),
                     "us_per_row": _per_row_us(busy["decode"], consumed)}
    out["commit"] = {"busy_s": round(busy["commit"], 3),
                     "us_per_row": _per_row_us(busy["commit"], consumed),
                     "p50_ms": round(commit.p50_ms, 3), "p99_ms": round(commit.p99_ms, 3)}
    out["probe"] = {"p50_ms": round(percentile(visible, 0.5), 3) if visible else 0.0,
                    "p99_ms": round(percentile(visible, 0.99), 3) if visible else 0.0}
    return out


def extra_info(result: PipelineResult) -> dict[str, Any]:
    s, v = result.stats, result.verified
    lag_t0 = result.started
    out: dict[str, Any] = {
        "items": s.committed if result.config.sink else result.acknowledged,
        "unit": "rows/s", "broker": result.broker,
        "throughput": round(result.throughput, 1),
        "producer_rate": round(result.producer_rate, 1),
        "seconds": round(result.seconds, 3),
        "started_at": round(result.started, 3),  # the first produce (epoch seconds)
        "offered_rate": result.config.rate,
        "workers": result.config.workers,
        "worker_rates": [round(float(sh["achieved_rate"]), 1) for sh in result.shares],
        "share_hosts": [str(sh.get("host", "")) for sh in result.shares],
        "share_errors": [str(e) for sh in result.shares for e in sh.get("errors", [])][:5],
        "sink": result.config.sink,
        "commits": len(s.commits),
        "commits_per_s": round(len(s.commits) / result.seconds, 3),
        "commit_interval_ms": result.config.commit_interval_ms,
        "commit_rows": result.config.commit_rows,
        "restarts": result.restarts, "dropped_at_restart": result.dropped_at_restart,
        "probe_polls": result.probe_polls,
        "max_lag": max((lag for _, lag in s.lag), default=0),
        "offset_holes": s.holes,
        "held": result.fell_behind is None,
        "stages": stages(result),
        "series": {
            "lag": [float(lag) for _, lag in s.lag],
            "lag_t_s": [round(t - lag_t0, 3) for t, _ in s.lag],
            "commit_latency_ms": [round(c.latency_ms, 3) for c in s.commits],
        },
    }
    if v is None:
        out["verified"] = "not checked: the producers alone, no sink"
    else:
        out.update(lost=v.lost, duplicated=v.duplicated, unexpected=v.unexpected,
                   verified=v.describe() + " (count, id set, checksum)")
    if result.fell_behind is not None:
        out.update(result.fell_behind.to_dict())
    out.update(result.freshness.summary().as_extra_info("freshness"))
    out.update(s.consume_latency.summary().as_extra_info("consume_latency"))
    out.update(result.delivery.summary().as_extra_info("delivery_latency"))
    out.update(s.commit_latency.summary().as_extra_info("commit_latency"))
    out["latency_p99_ms"] = out["freshness_p99_ms"]  # the summary's p99 column: freshness
    return out


class PipelineSystem:
    """The pipeline as a :class:`~k2matrix.ratesearch.LoadSystem`: one run per step; the
    backlog is the largest consumer lag seen (a step whose sink fell behind the broker's
    retention fails outright, with the lag then), the p99 the freshness p99, the
    achieved rate rows in the table per second of the run; each step's ``extra`` has its
    commits, producer rate, freshness p50 and :func:`stages`. A step whose run failed
    verification raises (a rate is never reported over lost rows)."""

    def __init__(self, config: PipelineConfig, backends: Backends) -> None:
        self.config, self.backends = config, backends
        self.runs: list[PipelineResult] = []

    def run(self, rate: float, seconds: float) -> Step:
        result = run_pipeline(replace(self.config, rate=rate, seconds=seconds), self.backends)
        self.runs.append(result)
        if result.verified is not None and not result.verified.ok:
            raise VerificationError(f"at {rate:g} rows/s: {result.verified.describe()}")
        return step_of(extra_info(result), rate, seconds)


def step_of(figures: dict[str, Any], rate: float, seconds: float) -> Step:
    """A search step from a run's figures (:func:`extra_info`, in this process or printed by
    another): the backlog is the largest consumer lag (the lag then, when the sink fell
    behind the broker's retention: the step fails outright), the p99 the freshness p99, the
    achieved rate rows in the table per second of the run."""
    extra: dict[str, Any] = {key: figures[key] for key in
                             ("commits", "producer_rate", "freshness_p50_ms", "stages",
                              "broker_process") if key in figures}
    p99 = float(figures["freshness_p99_ms"])
    if figures.get("held") is False:
        extra.update({k: v for k, v in figures.items() if k in FELL_KEYS})
        return Step(rate, seconds, float(figures["sustainable_rate_so_far"]),
                    float(figures["backlog_at_fall"]), p99, extra,
                    failed=f"fell behind the broker's retention at "
                           f"{float(figures['fell_behind_at_s']):.1f} s")
    return Step(rate, seconds, float(figures["throughput"]), float(figures["max_lag"]), p99,
                extra)
