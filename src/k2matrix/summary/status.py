"""Each cell's status against the targets embedded in the run (vectorized per target).

``pass``, ``below_target``, ``below_critical``; ``no_target`` where no target applies and
``no_data`` where one applies but its metric was not measured. With several targets on a
cell the worst status wins and ``target`` names the target that decided it.
"""

from __future__ import annotations

import fnmatch
from collections.abc import Sequence
from typing import Any

import polars as pl

from k2matrix.cell import param_name
from k2matrix.matrix import Target

STATUSES = ("no_target", "pass", "no_data", "below_target", "below_critical")
_RANK = {name: rank for rank, name in enumerate(STATUSES)}

METRIC_EXPR: dict[str, pl.Expr] = {
    "throughput": pl.col("throughput"),
    "median_ms": pl.col("median_s") * 1000.0,
    "p99_ms": pl.col("p99_ms"),
}


def _is_in(frame: pl.DataFrame, column: str, allowed: Sequence[Any]) -> pl.Expr:
    dtype = frame.schema[column]
    if dtype == pl.String:
        values: list[Any] = [str(v) for v in allowed]
    elif dtype.is_numeric():
        values = [v for v in allowed if isinstance(v, int | float) and not isinstance(v, bool)]
    else:
        values = list(allowed)
    if not values or dtype == pl.Null:
        return pl.lit(False)
    wanted = pl.Series(values, dtype=dtype, strict=False).implode()
    return pl.col(column).is_in(wanted).fill_null(False)


def _applies(frame: pl.DataFrame, target: Target, keys: Sequence[str]) -> pl.Expr | None:
    """The same rule as :meth:`Target.applies`, as a boolean expression."""
    matching = [k for k in keys if any(fnmatch.fnmatchcase(k, p) for p in target.applies_to)]
    if not matching:
        return None
    mask = pl.col("key").is_in(pl.Series(matching, dtype=pl.String).implode())
    for axis, allowed in target.where.items():
        column = param_name(axis)
        if column not in frame.columns:
            return None
        mask = mask & _is_in(frame, column, allowed)
    return mask


def _rank(target: Target) -> pl.Expr:
    value = METRIC_EXPR[target.metric]
    if target.direction == "higher":
        passes, above_critical = value >= target.target, value >= target.critical
    else:
        passes, above_critical = value <= target.target, value <= target.critical
    return (pl.when(value.is_null() | value.is_nan()).then(_RANK["no_data"])
            .when(passes).then(_RANK["pass"])
            .when(above_critical).then(_RANK["below_target"])
            .otherwise(_RANK["below_critical"]))


def apply_targets(frame: pl.DataFrame, targets: Sequence[Target]) -> pl.DataFrame:
    """``frame`` with ``status``, ``target`` and ``sustained_critical`` columns added."""
    keys = frame["key"].unique().to_list() if frame.height else []
    ranks: list[tuple[Target, pl.Expr]] = []
    for target in targets:
        mask = _applies(frame, target, keys)
        if mask is not None:
            ranks.append((target, pl.when(mask).then(_rank(target)).otherwise(0)))
    if not ranks:
        return frame.with_columns(
            status=pl.lit("no_target"), target=pl.lit(None, dtype=pl.String),
            sustained_critical=pl.lit(False))
    rank_cols = [f"_rank{i}" for i in range(len(ranks))]
    out = frame.with_columns([expr.alias(c) for (_, expr), c in zip(ranks, rank_cols,
                                                                    strict=True)])
    worst = pl.max_horizontal(rank_cols)
    deciding = pl.coalesce([
        pl.when((pl.col(c) == worst) & (worst > 0)).then(pl.lit(t.name))
        for (t, _), c in zip(ranks, rank_cols, strict=True)
    ])
    sustained = [pl.col(c) == _RANK["below_critical"]
                 for (t, _), c in zip(ranks, rank_cols, strict=True) if t.sustained]
    out = out.with_columns(
        status=worst.replace_strict(list(_RANK.values()), list(_RANK), return_dtype=pl.String),
        target=deciding,
        sustained_critical=pl.any_horizontal(sustained) if sustained else pl.lit(False),
    )
    return out.drop(rank_cols)
