"""Cells that can never run on the configured backends, and why: they are not planned
(:meth:`k2matrix.matrix.model.Matrix.cells` leaves them out) and ``k2matrix cells`` lists them
with the reason, instead of a sweep skipping them every time.

- a Glue catalog on the local disk: Glue keeps its tables on S3, so the cell would measure
  the same thing as its ``-s3`` twin;
- an S3 delay (``s3_latency_ms``) on a cell that uses no S3: nothing to delay.
"""

from __future__ import annotations

from k2matrix.cell import Cell


def _on_s3(cell: Cell) -> bool:
    return cell.params.get("storage") == "s3" or cell.params.get("catalog") == "glue"


def never_runs(cell: Cell) -> str | None:
    """Why ``cell`` can never run on the backends of this matrix (None: it can)."""
    if cell.params.get("catalog") == "glue" and cell.params.get("storage") == "local":
        return ("Glue keeps its tables on S3: the cell with storages = s3 measures it "
                "(catalogs = glue, storages = local)")
    delay = cell.params.get("s3_latency_ms", 0)
    if isinstance(delay, int | float) and delay > 0 and not _on_s3(cell):
        return (f"s3_latency_ms = {delay:g} delays S3 requests and this cell uses no S3 "
                "(storages = local): the cell with storages = s3 measures the delay")
    return None
