"""Compare a run with a baseline, cell by cell (matched by id).

``change`` is the relative change of the median time (+0.25 = 25% slower). The raw rounds
of both runs go through a two-sided Mann-Whitney U test; a change is a regression only when
it is significant (p < ``alpha``) and slower by more than ``fail_threshold``. Cells without
raw rounds (saved without ``--benchmark-save-data``) are "insufficient data", never a
regression. Whether two runs compare at all is the results store's one rule
(:func:`k2matrix.results.merge.check_compatible`), applied by :mod:`.build`.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping

import polars as pl

from k2matrix.errors import ResultsError

MIN_ROUNDS = 3
ALPHA = 0.05
INSUFFICIENT = "insufficient data"


def p_values(rounds: Mapping[str, list[float]], base: Mapping[str, list[float]],
             ids: list[str]) -> dict[str, float]:
    """Mann-Whitney U p-values for the ids with MIN_ROUNDS or more rounds on both sides;
    cells with equal round counts are tested together (one vectorized call per shape)."""
    by_shape: dict[tuple[int, int], list[str]] = defaultdict(list)
    for cell_id in ids:
        a, b = rounds.get(cell_id), base.get(cell_id)
        if a and b and len(a) >= MIN_ROUNDS and len(b) >= MIN_ROUNDS:
            by_shape[(len(a), len(b))].append(cell_id)
    if not by_shape:
        return {}
    import numpy as np  # slow to import; only a comparison with raw rounds needs these
    from scipy.stats import mannwhitneyu

    out: dict[str, float] = {}
    for group in by_shape.values():
        try:
            x = np.array([rounds[i] for i in group], dtype=float)
            y = np.array([base[i] for i in group], dtype=float)
        except (TypeError, ValueError):
            raise ResultsError(
                f"stats.data of one of {', '.join(group[:3])}... holds a value that is not "
                "a number; the raw rounds must be lists of seconds") from None
        with np.errstate(all="ignore"):
            result = mannwhitneyu(x, y, alternative="two-sided", axis=1)
        for cell_id, p in zip(group, np.atleast_1d(result.pvalue), strict=True):
            # identical samples give NaN under some methods: no evidence of a change
            out[cell_id] = float(p) if np.isfinite(p) else 1.0
    return out


def compare(frame: pl.DataFrame, rounds: Mapping[str, list[float]],
            base_frame: pl.DataFrame, base_rounds: Mapping[str, list[float]],
            fail_threshold: float = 0.10, alpha: float = ALPHA) -> pl.DataFrame:
    """One row per cell present in both runs: id, baseline_median_s, median_s, change,
    p_value, significance, regression."""
    joined = frame.select("id", "median_s").join(
        base_frame.select("id", pl.col("median_s").alias("baseline_median_s")),
        on="id", how="inner")
    ids = joined["id"].to_list()
    pvals = p_values(rounds, base_rounds, ids)
    p_series = pl.Series("p_value", [pvals.get(i) for i in ids], dtype=pl.Float64)
    out = joined.with_columns(p_series).with_columns(
        change=pl.when(pl.col("baseline_median_s") > 0)
        .then(pl.col("median_s") / pl.col("baseline_median_s") - 1.0))
    significant = pl.col("p_value") < alpha
    out = out.with_columns(
        significance=pl.when(pl.col("p_value").is_null()).then(pl.lit(INSUFFICIENT))
        .when(significant).then(pl.lit("significant"))
        .otherwise(pl.lit("not significant")),
        regression=(significant & (pl.col("change") > fail_threshold)).fill_null(False),
        improvement=(significant & (pl.col("change") < -fail_threshold)).fill_null(False),
    )
    return out.select("id", "baseline_median_s", "median_s", "change", "p_value",
                      "significance", "regression", "improvement")


def run_shift(comparisons: pl.DataFrame) -> dict[str, float | int | None]:
    """How the run moved as a whole: the median change over the compared cells and the
    shares of cells slower and faster. Most cells moving together points at the machine
    (load, other processes, CPU frequency) at least as much as at the code."""
    import numpy as np

    changes = comparisons.filter(pl.col("change").is_not_null() & pl.col("change").is_finite()
                                 )["change"]
    if changes.len() == 0:
        return {"cells": 0, "median_change": None, "slower_share": None,
                "faster_share": None}
    values = changes.to_numpy()
    return {"cells": int(values.size), "median_change": float(np.median(values)),
            "slower_share": float((values > 0).mean()),
            "faster_share": float((values < 0).mean())}
