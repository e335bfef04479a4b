"""Each cell's status against the targets embedded in the run (vectorized per target).

``pass``, ``below_target``, ``below_critical``; ``no_target`` where no target applies and
``no_data`` where one applies but its metric was not measured. With several targets on a
cell the worst status wins (between equal statuses, the one with the least headroom) and
``target`` names the target that decided it; the deciding target's metric, the cell's
figure in it, the target and critical values, the direction and the headroom (how many
times the figure could worsen and still meet the target: below 1 when it does not) are
columns too (:data:`DECIDING`).
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
# a figure measured without a capability its case needs (``extra_info["not_judged"]``): shown
# with the reason, never held against a target nor counted in the verdict
NOT_JUDGED = "not_judged"

DECIDING = ("target_metric", "target_figure", "target_value", "target_critical",
            "target_direction", "target_unit", "headroom")

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


def _headroom(target: Target) -> pl.Expr:
    """target / figure for lower-is-better, figure / target for higher (null: no figure)."""
    value = METRIC_EXPR[target.metric].cast(pl.Float64)
    ratio = (pl.lit(float(target.target)) / value if target.direction == "lower"
             else value / float(target.target))
    return pl.when(value.is_null() | value.is_nan()).then(None).otherwise(ratio)


def _badness(target: Target, mask: pl.Expr) -> pl.Expr:
    """The status rank plus a fraction below 1 that grows as the headroom shrinks: the
    largest over a cell's targets is its worst status and, among equals, the tightest."""
    tightness = (0.999 / (1.0 + _headroom(target))).fill_null(0.5)
    return pl.when(mask).then(_rank(target) + tightness).otherwise(0.0)


def _unit(target: Target) -> pl.Expr:
    if target.metric == "throughput":
        return pl.lit(target.unit) if target.unit else pl.col("unit")
    return pl.lit("ms")


def apply_targets(frame: pl.DataFrame, targets: Sequence[Target]) -> pl.DataFrame:
    """``frame`` with ``status``, ``target``, ``sustained_critical`` and the
    :data:`DECIDING` columns added."""
    keys = frame["key"].unique().to_list() if frame.height else []
    ranks: list[tuple[Target, pl.Expr, pl.Expr]] = []
    for target in targets:
        mask = _applies(frame, target, keys)
        if mask is not None:
            ranks.append((target, pl.when(mask).then(_rank(target)).otherwise(0),
                          _badness(target, mask)))
    if not ranks:
        return _unjudged(frame.with_columns(
            status=pl.lit("no_target"), target=pl.lit(None, dtype=pl.String),
            sustained_critical=pl.lit(False),
            **{c: pl.lit(None, dtype=pl.String if c in ("target_metric", "target_direction",
                                                        "target_unit") else pl.Float64)
               for c in DECIDING}))
    rank_cols = [f"_rank{i}" for i in range(len(ranks))]
    bad_cols = [f"_bad{i}" for i in range(len(ranks))]
    out = frame.with_columns([expr.alias(c) for (_, expr, _), c in zip(ranks, rank_cols,
                                                                       strict=True)]
                             + [bad.alias(c) for (_, _, bad), c in zip(ranks, bad_cols,
                                                                       strict=True)])
    worst = pl.max_horizontal(rank_cols)
    tightest = pl.max_horizontal(bad_cols)

    def of_deciding(value: Any) -> pl.Expr:
        """The value (an expression of each target) of the target that decided the cell."""
        return pl.coalesce([
            pl.when((pl.col(c) == tightest) & (worst > 0)).then(value(t))
            for (t, _, _), c in zip(ranks, bad_cols, strict=True)])

    sustained = [pl.col(c) == _RANK["below_critical"]
                 for (t, _, _), c in zip(ranks, rank_cols, strict=True) if t.sustained]
    out = out.with_columns(
        status=worst.replace_strict(list(_RANK.values()), list(_RANK), return_dtype=pl.String),
        target=of_deciding(lambda t: pl.lit(t.name)),
        sustained_critical=pl.any_horizontal(sustained) if sustained else pl.lit(False),
        target_metric=of_deciding(lambda t: pl.lit(t.metric)),
        target_figure=of_deciding(lambda t: METRIC_EXPR[t.metric].cast(pl.Float64)),
        target_value=of_deciding(lambda t: pl.lit(float(t.target))),
        target_critical=of_deciding(lambda t: pl.lit(float(t.critical))),
        target_direction=of_deciding(lambda t: pl.lit(t.direction)),
        target_unit=of_deciding(_unit),
        headroom=of_deciding(_headroom),
    )
    return _unjudged(out.drop(rank_cols + bad_cols))


def _unjudged(frame: pl.DataFrame) -> pl.DataFrame:
    """Cells measured without a capability their case needs get :data:`NOT_JUDGED`."""
    if "not_judged" not in frame.columns:
        return frame
    flagged = pl.col("not_judged").is_not_null()
    return frame.with_columns(
        status=pl.when(flagged).then(pl.lit(NOT_JUDGED)).otherwise(pl.col("status")),
        sustained_critical=pl.when(flagged).then(pl.lit(False))
        .otherwise(pl.col("sustained_critical")))
