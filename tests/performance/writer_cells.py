"""What the writer suites ask of a cell."""

from __future__ import annotations

from k2matrix.cell import Cell


def on_s3(cell: Cell) -> bool:
    """Whether the cell's tables live on object storage (its storage, or a Glue catalog)."""
    return cell.params.get("storage") == "s3" or cell.params.get("catalog") == "glue"
