"""How time grows with the work, per (component, case, schema and every other axis).

The size axis of a case is the first of batch_size, dataset_size, selectivity that takes two
or more values in it. A group of ``MIN_FIT_SIZES`` sizes or more is fitted
(:mod:`k2matrix.summary.fit`): the fixed and per-unit costs of ``time = fixed + per_unit *
size``, both constrained non-negative, with R²; the log-log exponent (``r2_loglog``); the
bend (the size where the log-log slope changes most, if by more than ``BEND_MIN``); each
with a bootstrap interval over the points' trials or rounds where they were recorded. A
group of two sizes says only how much slower the larger one is (``time_ratio`` against
``size_ratio``): two points fit any line, so their "costs" are not measurements.

Selectivity is a fraction of the rows (0 to 1): its cost is per percentage point selected
(``per_percent_s``, ``fixed_s`` the time at 0%), never "per unit".

``v2_v1_ratio``: the geometric mean of the V2/V1 median-time ratios of the group's cells
and the cells that differ from them only in schema, with its interval and pair count.
"""

from __future__ import annotations

import weakref
from collections.abc import Sequence
from typing import Any

import numpy as np
import polars as pl

from k2matrix.summary.fit import (
    DRAWS,
    SEED,
    fit_points,
    interval,
    ratio_interval,
    resample_medians,
)

SIZE_AXES = ("batch_size", "dataset_size", "selectivity")
SELECTIVITY = "selectivity"
BEND_MIN = 0.3  # the smallest change of log-log slope called a bend
MIN_FIT_SIZES = 3  # fewer sizes: the ratio only
RATIO_ONLY = "2 sizes: ratio only"
_FLOATS = ("size_min", "size_max", "size_ratio", "time_ratio", "time_ratio_low",
           "time_ratio_high", "exponent", "exponent_low", "exponent_high", "r2_loglog",
           "fixed_s", "fixed_low", "fixed_high", "per_item_s", "per_item_low", "per_item_high",
           "per_percent_s", "per_percent_low", "per_percent_high", "r2", "bend_at",
           "bend_slope_change", "v2_v1_ratio", "v2_v1_low", "v2_v1_high")
_INTS = ("points", "v2_v1_pairs")
_STRINGS = ("size_axis", "fit", "interval_from")


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


class Draws:
    """Bootstrap medians of every cell (:func:`k2matrix.summary.fit.resample_medians`),
    drawn once for the run in its order (scaling and ratios share them); a cell without two
    samples keeps its median in every draw."""

    def __init__(self, frame: pl.DataFrame) -> None:
        ids = frame["id"].to_list() if frame.height else []
        medians = frame["median_s"].to_list() if frame.height else []
        samples = (frame["samples_s"].to_list() if "samples_s" in frame.columns
                   else [None] * len(ids))
        self._row = {cell_id: i for i, cell_id in enumerate(ids)}
        self._draws = np.repeat(np.asarray(medians, dtype=float)[:, None], DRAWS, axis=1)
        by_length: dict[int, list[int]] = {}
        for i, values in enumerate(samples):
            if values is not None and len(values) >= 2:
                by_length.setdefault(len(values), []).append(i)
        for length, rows in sorted(by_length.items()):
            self._draws[rows] = resample_medians([samples[i] or [] for i in rows],
                                                 seed=SEED + length)

    @classmethod
    def of(cls, frame: pl.DataFrame) -> Draws:
        """The draws of ``frame``, shared by the calls on the same frame object (scaling,
        then ratios: a 10K-cell run is resampled once)."""
        global _LAST
        if _LAST is not None and _LAST[0]() is frame:
            return _LAST[1]
        draws = cls(frame)
        _LAST = (weakref.ref(frame), draws)
        return draws

    def matrix(self, ids: Sequence[str]) -> np.ndarray[Any, Any]:
        """Shape (DRAWS, len(ids)): column j the draws of ``ids[j]``."""
        return np.asarray(self._draws[[self._row[i] for i in ids]].T)


_LAST: tuple[weakref.ref[pl.DataFrame], Draws] | None = None


def _bend(x: np.ndarray[Any, Any], t: np.ndarray[Any, Any]) -> tuple[float | None, float | None]:
    """(the size at the largest change of log-log slope if above BEND_MIN, that change)."""
    if len(x) < 3:
        return None, None
    slopes = np.diff(np.log(t)) / np.diff(np.log(x))
    change = np.abs(np.diff(slopes))
    i = int(np.argmax(change))
    biggest = float(change[i])
    return (float(x[i + 1]) if biggest > BEND_MIN else None), biggest


def _source(samples: list[tuple[str | None, int]]) -> str | None:
    """Where a group's intervals come from: "3 trials", "7 rounds" (the fewest), or None."""
    found = [(kind, n) for kind, n in samples if kind]
    if not found:
        return None
    kind = "trials" if all(k == "trials" for k, _ in found) else "rounds"
    counts = {n for _, n in found}
    return f"{min(counts)}+ {kind}" if len(counts) > 1 else f"{counts.pop()} {kind}"


def _fit_group(size: str, points: list[tuple[Any, ...]], draws: Draws) -> dict[str, Any]:
    """The fit of one group's points: (size, median, id, samples_of, sample count) each; one
    point per size (two cells of one size, rare, count as the first of them)."""
    points = sorted(points, key=lambda p: float(p[0]))
    kept = [p for i, p in enumerate(points) if i == 0 or p[0] != points[i - 1][0]]
    x = np.array([float(p[0]) for p in kept])
    t = np.array([float(p[1]) for p in kept])
    boot = draws.matrix([p[2] for p in kept])
    row: dict[str, Any] = {"size_axis": size, "points": len(x), "size_min": float(x[0]),
                           "size_max": float(x[-1]), "size_ratio": float(x[-1] / x[0]),
                           "time_ratio": float(t[-1] / t[0]),
                           "interval_from": _source([(p[3], p[4]) for p in kept])}
    found = interval(boot[:, -1] / boot[:, 0])
    row["time_ratio_low"], row["time_ratio_high"] = found or (None, None)
    if len(x) < MIN_FIT_SIZES:
        row["fit"] = RATIO_ONLY
        return row
    row["fit"] = "line"
    row.update(fit_points(x, t, boot))
    lx, lt = np.log(x), np.log(t)
    row["r2_loglog"] = (float(np.corrcoef(lx, lt)[0, 1] ** 2)
                        if np.ptp(lt) > 0 else None)
    row["bend_at"], row["bend_slope_change"] = _bend(x, t)
    if size == SELECTIVITY:  # per percentage point of the rows selected
        for stem in ("s", "low", "high"):
            value = row.pop(f"per_item_{stem}", None)
            row[f"per_percent_{stem}"] = None if value is None else value / 100.0
    return row


def _schema_pairs(frame: pl.DataFrame, axes: list[str]) -> pl.DataFrame:
    """Cells that differ only in schema, paired: their identity, axes and ids, and ``_lr``,
    the log of the V2/V1 median-time ratio."""
    on = ["component", "case", *axes]
    v1 = frame.filter(pl.col("schema") == "v1").select(
        *on, pl.col("median_s").alias("_v1"), pl.col("id").alias("_id1"))
    v2 = frame.filter(pl.col("schema") == "v2").select(
        *on, pl.col("median_s").alias("_v2"), pl.col("id").alias("_id2"))
    return v2.join(v1, on=on, how="inner", nulls_equal=True).filter(
        (pl.col("_v1") > 0) & (pl.col("_v2") > 0)
    ).with_columns((pl.col("_v2") / pl.col("_v1")).log().alias("_lr"))


def _ratio_rows(pairs: pl.DataFrame, keys: list[str], draws: Draws) -> pl.DataFrame:
    """Per ``keys``: the geometric mean V2/V1 ratio, its interval, min, max and pairs."""
    groups: dict[tuple[Any, ...], list[tuple[str, str, float]]] = {}
    for row in pairs.select(*keys, "_id2", "_id1", "_lr").iter_rows():
        groups.setdefault(row[:len(keys)], []).append(row[len(keys):])
    out = []
    for key, members in groups.items():
        found = ratio_interval(draws.matrix([m[0] for m in members]),
                               draws.matrix([m[1] for m in members]))
        lr = np.array([m[2] for m in members])
        out.append((*key, float(np.exp(lr.mean())), *(found or (None, None)),
                    float(np.exp(lr.min())), float(np.exp(lr.max())), len(lr)))
    schema: dict[str, Any] = {**{k: pairs.schema[k] for k in keys},
              **dict.fromkeys(("v2_v1_ratio", "v2_v1_low", "v2_v1_high", "min_ratio",
                               "max_ratio"), pl.Float64), "pairs": pl.Int64}
    return pl.DataFrame(out, schema=schema, orient="row")


def _sample_columns(frame: pl.DataFrame) -> list[pl.Expr]:
    """samples_of and the sample count (literals when the frame has no samples)."""
    if "samples_s" not in frame.columns:
        return [pl.lit(None, dtype=pl.String).alias("samples_of"), pl.lit(0).alias("_n")]
    return [pl.col("samples_of"), pl.col("samples_s").list.len().fill_null(0).alias("_n")]


def fit_scaling(frame: pl.DataFrame, axes: list[str]) -> pl.DataFrame:
    """One row per group with two or more sizes (positive times): fitted from three."""
    chosen = size_axes(frame)
    rows: list[dict[str, Any]] = []
    key_types: dict[str, Any] = {}
    draws = Draws.of(frame)
    pairs = _schema_pairs(frame, axes)
    for size in dict.fromkeys(chosen.values()):
        cases = pl.DataFrame([(c, k) for (c, k), a in chosen.items() if a == size],
                             schema={"component": pl.String, "case": pl.String}, orient="row")
        keys = ["component", "case", "schema", *[a for a in axes if a != size]]
        key_types.update({k: frame.schema[k] for k in keys})
        sub = (frame.join(cases, on=["component", "case"])
               .filter(pl.col(size).is_not_null() & (pl.col(size) > 0)
                       & (pl.col("median_s") > 0))
               .select(*keys, size, "median_s", "id", *_sample_columns(frame)))
        ratio_keys = [k for k in keys if k != "schema"]
        ratios = {tuple(r[k] for k in ratio_keys): r for r in _ratio_rows(
            pairs.join(cases, on=["component", "case"]), ratio_keys, draws).to_dicts()}
        groups: dict[tuple[Any, ...], list[tuple[Any, ...]]] = {}
        for values in sub.iter_rows():
            groups.setdefault(values[:len(keys)], []).append(values[len(keys):])
        for key, points in groups.items():
            if len({p[0] for p in points}) < 2:
                continue
            row = dict(zip(keys, key, strict=True))
            row.update(_fit_group(size, points, draws))
            ratio = ratios.get(tuple(row[k] for k in ratio_keys))
            if ratio is not None:
                row.update(v2_v1_ratio=ratio["v2_v1_ratio"], v2_v1_low=ratio["v2_v1_low"],
                           v2_v1_high=ratio["v2_v1_high"], v2_v1_pairs=ratio["pairs"])
            rows.append(row)
    if not rows:
        return pl.DataFrame(schema={"component": pl.String, "case": pl.String,
                                    "schema": pl.String})
    schema = {**key_types, **dict.fromkeys(_STRINGS, pl.String),
              **dict.fromkeys(_INTS, pl.Int64), **dict.fromkeys(_FLOATS, pl.Float64)}
    return pl.DataFrame([{c: r.get(c) for c in schema} for r in rows], schema=schema)


def schema_ratios(frame: pl.DataFrame, axes: list[str]) -> pl.DataFrame:
    """V2/V1 median-time ratios of cells that differ only in schema, by (component, case):
    the geometric mean with its bootstrap interval, min and max over the pairs, and pairs."""
    return _ratio_rows(_schema_pairs(frame, axes), ["component", "case"], Draws.of(frame))
