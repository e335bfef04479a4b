"""How time grows with the work, per (component, case, schema and every other axis).

The size axis of a case is the first of batch_size, dataset_size, selectivity that takes two
or more values in it. Per group: the exponent of a log-log least-squares fit of median time
against size, the fixed overhead and per-item cost of a linear fit (and its R², null for two
points, which any line fits), the bend
point (the size where the log-log slope changes most, if by more than ``BEND_MIN``) and the
V2/V1 cost ratio (geometric mean over the cells that differ only in schema).
"""

from __future__ import annotations

import polars as pl

SIZE_AXES = ("batch_size", "dataset_size", "selectivity")
BEND_MIN = 0.3  # the smallest change of log-log slope called a bend
MIN_POINTS_R2 = 3  # R² of fewer points is 1 by construction: reported as null

_X, _T, _LX, _LT = "_x", "_t", "_lx", "_lt"


def size_axes(frame: pl.DataFrame) -> dict[tuple[str, str], str]:
    """(component, case) -> the size axis it is fitted against."""
    cand = [a for a in SIZE_AXES if a in frame.columns and frame.schema[a].is_numeric()]
    if not cand or not frame.height:
        return {}
    counts = frame.group_by("component", "case", maintain_order=True).agg(
        [pl.col(a).drop_nulls().n_unique().alias(a) for a in cand])
    out: dict[tuple[str, str], str] = {}
    for row in counts.iter_rows(named=True):
        for axis in cand:
            if row[axis] >= 2:
                out[(row["component"], row["case"])] = axis
                break
    return out


def _group_keys(axes: list[str], size: str) -> list[str]:
    return ["component", "case", "schema", *[a for a in axes if a != size]]


def fit_scaling(frame: pl.DataFrame, axes: list[str]) -> pl.DataFrame:
    """One row per fitted group (two or more sizes with positive times)."""
    chosen = size_axes(frame)
    parts: list[pl.DataFrame] = []
    pairs = _schema_pairs(frame, axes)
    for size in dict.fromkeys(chosen.values()):
        cases = pl.DataFrame(
            [(c, k) for (c, k), a in chosen.items() if a == size],
            schema={"component": pl.String, "case": pl.String}, orient="row")
        keys = _group_keys(axes, size)
        sub = (frame.join(cases, on=["component", "case"])
               .filter(pl.col(size).is_not_null() & (pl.col(size) > 0)
                       & (pl.col("median_s") > 0))
               .with_columns(pl.col(size).cast(pl.Float64).alias(_X),
                             pl.col("median_s").alias(_T))
               .with_columns(pl.col(_X).log().alias(_LX), pl.col(_T).log().alias(_LT))
               .sort([*keys, _X], nulls_last=True))
        sub = sub.with_columns(
            ((pl.col(_LT).diff() / pl.col(_LX).diff()).over(keys)).alias("_slope"),
            pl.col(_X).shift(1).over(keys).alias("_vertex"),
        ).with_columns(pl.col("_slope").diff().abs().over(keys).alias("_bend"))
        fit = sub.group_by(keys, maintain_order=True).agg(
            points=pl.len(),
            size_min=pl.col(_X).min(), size_max=pl.col(_X).max(),
            exponent=pl.cov(_LX, _LT) / pl.col(_LX).var(),
            r2_loglog=pl.corr(_LX, _LT) ** 2,
            per_item_s=pl.cov(_X, _T) / pl.col(_X).var(),
            _mean_x=pl.col(_X).mean(), _mean_t=pl.col(_T).mean(),
            r2=pl.corr(_X, _T) ** 2,
            bend_at=pl.col("_vertex").filter(
                (pl.col("_bend") == pl.col("_bend").max()) & (pl.col("_bend") > BEND_MIN)
            ).first(),
            bend_slope_change=pl.col("_bend").max(),
        ).filter(pl.col("points") >= 2)
        few = pl.col("points") < MIN_POINTS_R2  # two points fit any line: R² says nothing
        fit = fit.with_columns(
            size_axis=pl.lit(size),
            fixed_s=pl.col("_mean_t") - pl.col("per_item_s") * pl.col("_mean_x"),
            r2=pl.when(few).then(None).otherwise(pl.col("r2")),
            r2_loglog=pl.when(few).then(None).otherwise(pl.col("r2_loglog")),
        ).drop("_mean_x", "_mean_t")
        # The V2/V1 ratio of the group: the cells that differ from it only in schema.
        ratio_keys = [k for k in keys if k != "schema"]
        ratios = pairs.join(cases, on=["component", "case"]).group_by(ratio_keys).agg(
            v2_v1_ratio=pl.col("_lr").mean().exp())
        parts.append(fit.join(ratios, on=ratio_keys, how="left", nulls_equal=True))
    if not parts:
        return pl.DataFrame(schema={"component": pl.String, "case": pl.String,
                                    "schema": pl.String})
    return pl.concat(parts, how="diagonal_relaxed")


def _schema_pairs(frame: pl.DataFrame, axes: list[str]) -> pl.DataFrame:
    """Cells that differ only in schema, paired: their identity and axes, and ``_lr``, the
    log of the V2/V1 median-time ratio."""
    on = ["component", "case", *axes]
    v1 = frame.filter(pl.col("schema") == "v1").select(*on, pl.col("median_s").alias("_v1"))
    v2 = frame.filter(pl.col("schema") == "v2").select(*on, pl.col("median_s").alias("_v2"))
    return v2.join(v1, on=on, how="inner", nulls_equal=True).filter(
        (pl.col("_v1") > 0) & (pl.col("_v2") > 0)
    ).with_columns((pl.col("_v2") / pl.col("_v1")).log().alias("_lr"))


def schema_ratios(frame: pl.DataFrame, axes: list[str]) -> pl.DataFrame:
    """V2/V1 median-time ratios of cells that differ only in schema, by (component, case):
    the geometric mean, min and max over the pairs."""
    return _schema_pairs(frame, axes).group_by("component", "case", maintain_order=True).agg(
        v2_v1_ratio=pl.col("_lr").mean().exp(), min_ratio=pl.col("_lr").min().exp(),
        max_ratio=pl.col("_lr").max().exp(), pairs=pl.len())
