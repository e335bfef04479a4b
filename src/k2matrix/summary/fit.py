"""The numbers of a scaling fit: time = fixed + per_unit * size with both costs
non-negative, the log-log exponent, and percentile intervals from a bootstrap over each
point's trials or rounds.

- Non-negative least squares in closed form for two parameters (:func:`nnls_line`): the
  ordinary fit when both costs come out non-negative; otherwise the optimum lies on the
  boundary (the problem is convex), so it is the better of "fixed only" (the mean time) and
  "per unit only" (the fit through the origin). Vectorized over bootstrap draws; equal to
  ``scipy.optimize.nnls`` (a unit test checks).
- The bootstrap (:func:`resample_medians`): each point's samples (the trial medians of a run
  of several trials, else its rounds) are resampled with replacement and their median taken,
  ``DRAWS`` times, from a generator with a fixed seed (the same run gives the same
  intervals); each draw is fitted, and the interval is the 2.5th to 97.5th percentile of
  the fitted values (``LEVEL``). Points without samples stay at their median. The interval
  says how far the fit moves with the measurement noise of these trials or rounds; it says
  nothing about sizes that were not measured.
"""

from __future__ import annotations

import math
from collections.abc import Sequence

import numpy as np
from numpy.typing import NDArray

DRAWS = 400
LEVEL = 0.95
SEED = 20261205  # fixed: the same run gives the same intervals
CHUNK = 500  # cells resampled at once (memory: CHUNK * DRAWS * rounds floats)
Array = NDArray[np.float64]


def nnls_line(x: Array, t: Array) -> tuple[Array, Array]:
    """(fixed, per_unit) >= 0 minimizing the squared error of ``fixed + per_unit * x``
    against each row of ``t`` (shape (draws, points) or (points,))."""
    t2 = np.atleast_2d(np.asarray(t, dtype=float))
    xs = np.asarray(x, dtype=float)
    mx, mt = xs.mean(), t2.mean(axis=1)
    dx = xs - mx
    sxx = float(np.sum(dx * dx))
    b = (t2 - mt[:, None]) @ dx / sxx if sxx > 0 else np.zeros(len(t2))
    a = mt - b * mx
    ok = (a >= 0) & (b >= 0)
    if not ok.all():
        # the boundary candidates: fixed only (b = 0), per unit only (a = 0), or nothing
        x2 = float(np.sum(xs * xs))
        b0 = np.maximum(t2 @ xs / x2, 0.0) if x2 > 0 else np.zeros(len(t2))
        a0 = np.maximum(mt, 0.0)
        sse_fixed = np.sum((t2 - a0[:, None]) ** 2, axis=1)
        sse_unit = np.sum((t2 - b0[:, None] * xs) ** 2, axis=1)
        fixed_wins = sse_fixed <= sse_unit
        a = np.where(ok, a, np.where(fixed_wins, a0, 0.0))
        b = np.where(ok, b, np.where(fixed_wins, 0.0, b0))
    return a, b


def loglog_slope(x: Array, t: Array) -> Array:
    """The least-squares slope of log t against log x, per row of ``t`` (all positive)."""
    lx = np.log(np.asarray(x, dtype=float))
    lt = np.log(np.atleast_2d(np.asarray(t, dtype=float)))
    d = lx - lx.mean()
    slope: Array = (lt - lt.mean(axis=1)[:, None]) @ d / float(np.sum(d * d))
    return slope


def r_squared(x: Array, t: Array, fixed: float, per_unit: float) -> float | None:
    """R² of the constrained line at the points (None when the times do not vary)."""
    ts = np.asarray(t, dtype=float)
    total = float(np.sum((ts - ts.mean()) ** 2))
    if total <= 0:
        return None
    resid = ts - (fixed + per_unit * np.asarray(x, dtype=float))
    return 1.0 - float(np.sum(resid * resid)) / total


def resample_medians(samples: Sequence[Sequence[float]], seed: int = SEED,
                     draws: int = DRAWS) -> Array:
    """``draws`` bootstrap medians of each of ``samples`` (equal lengths, at least 2): shape
    (len(samples), draws). One generator seeded with ``seed`` draws every cell's picks
    independently, in the order given."""
    values = np.asarray(samples, dtype=float)
    n, r = values.shape
    rng = np.random.default_rng(seed)
    out = np.empty((n, draws))
    for start in range(0, n, CHUNK):
        block = values[start:start + CHUNK]
        picks = rng.integers(0, r, size=(len(block), draws, r))
        drawn = np.sort(np.take_along_axis(block[:, None, :], picks, axis=2), axis=2)
        out[start:start + CHUNK] = (drawn[..., (r - 1) // 2] + drawn[..., r // 2]) / 2.0
    return out


def intervals(values: Array) -> list[tuple[float, float] | None]:
    """The central ``LEVEL`` percentile interval of each row of bootstrap values; None for a
    row that does not vary (no samples to resample) or is not finite."""
    rows = np.sort(np.atleast_2d(values), axis=1)  # nearest rank, as stats.percentile
    n = rows.shape[1]
    tail = (1.0 - LEVEL) / 2.0
    low = rows[:, max(0, math.ceil(round(tail * n, 9)) - 1)]
    high = rows[:, min(n, math.ceil(round((1.0 - tail) * n, 9))) - 1]
    with np.errstate(invalid="ignore"):
        varies = np.isfinite(rows).all(axis=1) & (rows[:, -1] > rows[:, 0])
    return [(float(lo), float(hi)) if ok else None
            for lo, hi, ok in zip(low, high, varies, strict=True)]


def interval(values: Array) -> tuple[float, float] | None:
    """:func:`intervals` of one row."""
    return intervals(values)[0]


def fit_points(x: Sequence[float] | Array, t: Sequence[float] | Array, draws: Array | None = None
               ) -> dict[str, float | None]:
    """Fixed and per-item costs (non-negative), R², the exponent, and with ``draws`` (shape
    (draws, points): the bootstrap medians) their intervals (``fixed_low`` …
    ``exponent_high``; None where the draws do not vary)."""
    xs, ts = np.asarray(x, dtype=float), np.asarray(t, dtype=float)
    a, b = nnls_line(xs, ts)
    out: dict[str, float | None] = {
        "fixed_s": float(a[0]), "per_item_s": float(b[0]),
        "r2": r_squared(xs, ts, float(a[0]), float(b[0])),
        "exponent": float(loglog_slope(xs, ts)[0]) if (ts > 0).all() else None,
    }
    stems = ("fixed", "per_item", "exponent")
    out.update({f"{s}_{end}": None for s in stems for end in ("low", "high")})
    if draws is None:
        return out
    da, db = nnls_line(xs, draws)
    rows = [da, db]
    if (draws > 0).all():
        rows.append(loglog_slope(xs, draws))
    for stem, found in zip(stems, intervals(np.vstack(rows)), strict=False):
        if found is not None:
            out[f"{stem}_low"], out[f"{stem}_high"] = found
    return out


def ratio_interval(top: Array, bottom: Array) -> tuple[float, float] | None:
    """The interval of the geometric mean ratio top / bottom over pairs, from bootstrap
    draws of each side (shape (DRAWS, pairs))."""
    if (top <= 0).any() or (bottom <= 0).any():
        return None
    logs = np.log(top) - np.log(bottom)
    return interval(np.exp(logs.mean(axis=1)))
