"""Drift over a sustained run, from the cells' ``extra_info["series"]`` (e.g.
``commit_latency_ms``): the slope of a least-squares line through the samples (per sample),
and, from ``MIN_TENTHS`` samples (a tenth of three samples or more), the mean of the last
tenth against the first tenth.

Only metrics drift: a series that holds the sampling times of another (``lag_t_s`` for
``lag``: names ending in ``_t_s``) is the x axis of that series, not a row here.
"""

from __future__ import annotations

import polars as pl

MIN_SAMPLES = 4
MIN_TENTHS = 30  # a first and a last tenth of 3 samples or more
TIME_SUFFIX = "_t_s"


def is_metric(name: str) -> bool:
    """Whether series ``name`` is a metric (not the sampling times of another series)."""
    return not name.endswith(TIME_SUFFIX)


def series_frame(series: dict[str, dict[str, list[float]]]) -> pl.DataFrame:
    """Long form of the metric series: id, series, index, value."""
    ids: list[str] = []
    names: list[str] = []
    index: list[int] = []
    values: list[float] = []
    for cell_id, by_name in series.items():
        for name, samples in by_name.items():
            if not is_metric(name):
                continue
            n = len(samples)
            ids.extend([cell_id] * n)
            names.extend([name] * n)
            index.extend(range(n))
            values.extend(samples)
    return pl.DataFrame({"id": ids, "series": names, "index": index, "value": values},
                        schema={"id": pl.String, "series": pl.String, "index": pl.Int64,
                                "value": pl.Float64})


def drift(series: dict[str, dict[str, list[float]]]) -> pl.DataFrame:
    """One row per (cell, metric series) with at least MIN_SAMPLES samples; ``first_mean``,
    ``last_mean`` and ``ratio`` are null below MIN_TENTHS samples."""
    long = series_frame(series)
    n = pl.len()
    tenth = n // 10
    idx = pl.col("index")
    out = long.group_by("id", "series", maintain_order=True).agg(
        samples=n,
        first_mean=pl.col("value").filter(idx < tenth).mean(),
        last_mean=pl.col("value").filter(idx >= n - tenth).mean(),
        slope_per_sample=pl.cov("index", "value") / idx.cast(pl.Float64).var(),
        mean=pl.col("value").mean(),
    ).filter(pl.col("samples") >= MIN_SAMPLES)
    enough = pl.col("samples") >= MIN_TENTHS
    return out.with_columns(
        first_mean=pl.when(enough).then(pl.col("first_mean")),
        last_mean=pl.when(enough).then(pl.col("last_mean")),
    ).with_columns(
        ratio=pl.when(pl.col("first_mean") != 0)
        .then(pl.col("last_mean") / pl.col("first_mean")))
