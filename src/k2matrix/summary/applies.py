"""Which of a run's targets apply to which cell (``Target.applies`` on the cells as they were
recorded): the target and critical lines of the charts."""

from __future__ import annotations

from k2matrix.cell import Cell
from k2matrix.matrix import Target
from k2matrix.results.load import Run


def targets_by_cell(run: Run) -> dict[str, list[Target]]:
    """Cell id -> the targets that apply to it (cells without a k2 cell record: none)."""
    if not run.targets:
        return {}
    out: dict[str, list[Target]] = {}
    for bench in run.benchmarks:
        extra = bench.get("extra_info")
        k2 = extra.get("k2") if isinstance(extra, dict) else None
        record = k2.get("cell") if isinstance(k2, dict) else None
        if not isinstance(record, dict) or "id" not in record:
            continue
        try:
            cell = Cell.from_dict({"seed": 0, **record})
        except (KeyError, TypeError, ValueError):
            continue
        found = [t for t in run.targets if t.applies(cell)]
        if found:
            out[cell.id] = found
    return out
