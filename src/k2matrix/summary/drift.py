"""Drift over a sustained run, from the cells' ``extra_info["series"]`` (e.g.
``commit_latency_ms``): the mean of the last tenth against the first tenth, and the slope
of a least-squares line through the samples (per sample)."""

from __future__ import annotations

import polars as pl

MIN_SAMPLES = 4


def series_frame(series: dict[str, dict[str, list[float]]]) -> pl.DataFrame:
    """Long form: id, series, index, value."""
    ids: list[str] = []
    names: list[str] = []
    index: list[int] = []
    values: list[float] = []
    for cell_id, by_name in series.items():
        for name, samples in by_name.items():
            n = len(samples)
            ids.extend([cell_id] * n)
            names.extend([name] * n)
            index.extend(range(n))
            values.extend(samples)
    return pl.DataFrame({"id": ids, "series": names, "index": index, "value": values},
                        schema={"id": pl.String, "series": pl.String, "index": pl.Int64,
                                "value": pl.Float64})


def drift(series: dict[str, dict[str, list[float]]]) -> pl.DataFrame:
    """One row per (cell, series) with at least MIN_SAMPLES samples."""
    long = series_frame(series)
    n = pl.len()
    tenth = pl.max_horizontal(pl.lit(1), n // 10)
    idx = pl.col("index")
    out = long.group_by("id", "series", maintain_order=True).agg(
        samples=n,
        first_mean=pl.col("value").filter(idx < tenth).mean(),
        last_mean=pl.col("value").filter(idx >= n - tenth).mean(),
        slope_per_sample=pl.cov("index", "value") / idx.cast(pl.Float64).var(),
        mean=pl.col("value").mean(),
    ).filter(pl.col("samples") >= MIN_SAMPLES)
    return out.with_columns(
        ratio=pl.when(pl.col("first_mean") != 0)
        .then(pl.col("last_mean") / pl.col("first_mean")))
