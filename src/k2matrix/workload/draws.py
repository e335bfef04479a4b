"""``--k2-draws N``: every grid cell also runs N data shapes drawn from the ranges the
workload strategies vary (:data:`SHAPE_RANGES`, which :func:`~k2matrix.workload.strategies.
workload_specs` draws from too), so a sweep covers more than the grid's corners.

The draws are made from the cell's seed with NumPy's generator, not by Hypothesis: every
xdist worker must parametrize the same cells, and a Hypothesis draw differs between
processes. Draw *k* of cell ``C`` is the cell ``C-dk`` (its own seed, derived from the id),
with the grid cell's axis values and the drawn ``symbols``, ``skew``, ``null_ratio``,
``disorder`` and ``rows_per_second``.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import replace
from typing import Any

import numpy as np

from k2matrix.cell import Cell, derive_seed
from k2matrix.matrix import Matrix

__all__ = ["DRAW_SUFFIX", "SHAPE_RANGES", "draw_shape", "grid_id", "with_draws"]

# (low, high) of each varied data-shape key; symbols' high is the matrix's own count
SHAPE_RANGES: dict[str, tuple[float, float]] = {
    "symbols": (1, 0), "skew": (0.0, 3.0), "null_ratio": (0.0, 1.0), "disorder": (0.0, 1.0),
    "rows_per_second": (1, 100_000),
}
DRAW_SUFFIX = re.compile(r"-d(\d+)$")


def draw_shape(base: dict[str, Any], seed: int) -> dict[str, Any]:
    """One data shape drawn from ``seed`` over :data:`SHAPE_RANGES` (``base``: the cell's
    settings, which bound the symbol count)."""
    rng = np.random.default_rng(seed)
    top = max(1, int(base.get("symbols", 500)))
    return {
        "symbols": int(np.exp(rng.uniform(0.0, np.log(top))).round()) or 1,
        "skew": round(float(rng.uniform(*SHAPE_RANGES["skew"])), 3),
        "null_ratio": round(float(rng.uniform(*SHAPE_RANGES["null_ratio"])), 3),
        "disorder": round(float(rng.uniform(*SHAPE_RANGES["disorder"])), 3),
        "rows_per_second": int(np.exp(rng.uniform(0.0, np.log(100_000))).round()) or 1,
    }


def with_draws(matrix: Matrix, cells: Sequence[Cell], draws: int) -> list[Cell]:
    """Each grid cell followed by its ``draws`` drawn cells."""
    out: list[Cell] = []
    for cell in cells:
        out.append(cell)
        for k in range(1, draws + 1):
            cell_id = f"{cell.id}-d{k}"
            seed = derive_seed(cell.seed, cell_id)
            shape = draw_shape(dict(cell.settings), seed)
            out.append(replace(cell, id=cell_id, seed=derive_seed(matrix.seed, cell_id),
                               settings={**cell.settings, **shape}))
    return out


def grid_id(cell_id: str) -> str:
    """The grid cell a drawn cell's id belongs to (``…-d3`` -> ``…``)."""
    return DRAW_SUFFIX.sub("", cell_id)
