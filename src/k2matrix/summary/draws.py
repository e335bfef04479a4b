"""How much a cell's figure moved across its drawn data shapes (``--k2-draws N``): one row
per grid cell that has draws (ids ``…-dK``), with the grid cell's median, the smallest and
largest median of the grid cell and its draws together, their spread (largest / smallest)
and the draw that moved it most."""

from __future__ import annotations

import polars as pl

from k2matrix.workload.draws import DRAW_SUFFIX, grid_id

COLUMNS = ("id", "draws", "grid_median_s", "min_median_s", "max_median_s", "spread",
           "worst_draw")


def draw_spread(frame: pl.DataFrame) -> pl.DataFrame:
    """The spread table from the cells frame (empty when the run has no draws)."""
    if not frame.height or "median_s" not in frame.columns:
        return pl.DataFrame()
    rows = []
    ids = frame["id"].to_list()
    medians = dict(zip(ids, frame["median_s"].to_list(), strict=True))
    groups: dict[str, list[str]] = {}
    for cell_id in ids:
        if DRAW_SUFFIX.search(cell_id):
            groups.setdefault(grid_id(cell_id), []).append(cell_id)
    for grid, drawn in groups.items():
        values = {c: medians[c] for c in [grid, *drawn]
                  if c in medians and medians[c] is not None and medians[c] > 0}
        if len(values) < 2:
            continue
        low, high = min(values.values()), max(values.values())
        base = values.get(grid)
        worst = max(drawn, key=lambda c: abs((values.get(c) or 0) - (base or 0)))
        rows.append({"id": grid, "draws": len(drawn), "grid_median_s": base,
                     "min_median_s": low, "max_median_s": high, "spread": high / low,
                     "worst_draw": worst})
    return pl.DataFrame(rows) if rows else pl.DataFrame()
