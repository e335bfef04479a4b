"""Which of a run's targets apply to which cell (``Target.applies`` on the cells as they were
recorded), and a target's threshold in the units a chart or a table shows: the target and
critical lines of the charts and the thresholds beside the verdict's causes."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

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


def measured(target: Target, row: Mapping[str, Any]) -> float | None:
    """The cell's value of the target's metric (throughput, median_ms or p99_ms)."""
    if target.metric == "median_ms":
        value = row.get("median_s")
        return None if value is None else float(value) * 1000.0
    value = row.get(target.metric)
    return None if value is None else float(value)


def describe(target: Target) -> str:
    """'p99_ms ≤ 10 (critical 50)' or 'throughput ≥ 10000 msg/s (critical 5000)'."""
    sign = "≥" if target.direction == "higher" else "≤"
    unit = f" {target.unit}" if target.unit else ""
    return (f"{target.metric} {sign} {target.target:g}{unit} "
            f"(critical {target.critical:g})")


def headroom(target: Target, value: float) -> float:
    """How far inside its target a value is, as a fraction of the target (negative: short
    of it): 0.2 is 20% of room."""
    if target.target == 0:
        return 0.0
    if target.direction == "higher":
        return value / target.target - 1.0
    return 1.0 - value / target.target
