"""Where a pipeline cell's time goes: one row per cell with ``extra_info["stages"]`` (see
:func:`k2matrix.pipeline.bench.stages`): the broker it ran on, whether its sink held the
rate, its end-to-end and producer rates, the work per row of each thread (produce, consume,
decode, commit), the p99 a row waited in broker, consume, commit and probe, and the busiest
thread (its busy seconds as a share of the run: the stage that caps the rate)."""

from __future__ import annotations

from typing import Any

import polars as pl

from k2matrix.results.load import Run

WORK = ("produce", "consume", "decode", "commit")  # threads that work: us_per_row, busy_s
WAITS = ("broker", "consume", "commit", "probe")  # where a row waits: p99_ms
COLUMNS = ("id", "broker", "held", "throughput", "producer_rate",
           *(f"{s}_us_per_row" for s in WORK), *(f"{s}_p99_ms" for s in WAITS),
           "busiest", "busiest_share")


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _n(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and abs(float(value)) < float("inf") else None


def _busiest(stages: dict[str, Any], seconds: float | None) -> tuple[str, float | None]:
    busy = {s: _n(_d(stages.get(s)).get("busy_s")) or 0.0 for s in WORK}
    name = max(busy, key=lambda s: busy[s])
    if not busy[name]:
        return "-", None
    return name, busy[name] / seconds if seconds else None


def pipeline_stages(run: Run) -> pl.DataFrame:
    """The stage table of ``run`` (empty when no cell recorded stages)."""
    rows = []
    for bench in run.benchmarks:
        extra = _d(_d(bench).get("extra_info"))
        stages = _d(extra.get("stages"))
        if not stages:
            continue
        cell = _d(_d(extra.get("k2")).get("cell"))
        name, share = _busiest(stages, _n(extra.get("seconds")))
        rows.append({
            "id": str(cell.get("id") or bench.get("name") or "?"),
            "broker": str(extra.get("broker") or "-"),
            "held": extra.get("held") is not False,
            "throughput": _n(extra.get("throughput")),
            "producer_rate": _n(extra.get("producer_rate")),
            **{f"{s}_us_per_row": _n(_d(stages.get(s)).get("us_per_row")) for s in WORK},
            **{f"{s}_p99_ms": _n(_d(stages.get(s)).get("p99_ms")) for s in WAITS},
            "busiest": name, "busiest_share": share,
        })
    schema = {c: (pl.Utf8 if c in ("id", "broker", "busiest") else
                  pl.Boolean if c == "held" else pl.Float64) for c in COLUMNS}
    return pl.DataFrame(rows, schema=schema)
