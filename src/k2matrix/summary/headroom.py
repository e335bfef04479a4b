"""What a cell's status says, in words: its figure against the deciding target, and how
much room is left (:mod:`k2matrix.summary.status` decides the status and the target)::

    pass: 18 ms ≤ 200 ms, 11x headroom
    below_target: 250 ms > 200 ms, 1.3x off target (critical 1 s)
    below_critical: 2K msg/s < 5K msg/s critical, 5.0x off target (10K msg/s)
    no_data: p99_ms not recorded (target 10 ms)
    no_target

The headroom is how many times the figure could worsen and still meet the target; "off
target", how many times it must improve to meet it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import polars as pl

from k2matrix.summary.units import finite, fmt_number, fmt_seconds, fmt_times

_ROW = ("status", "not_judged", "times", "target_metric", "target_figure", "target_value",
        "target_critical", "target_direction", "target_unit", "headroom")


def figure_text(value: Any, metric: Any, unit: Any) -> str:
    """A figure of a target's metric: milliseconds as a time, a throughput with its unit."""
    if not finite(value):
        return "-"
    if metric in ("median_ms", "p99_ms"):
        return fmt_seconds(float(value) / 1000.0)
    return f"{fmt_number(value)} {unit}".rstrip() if unit else fmt_number(value)


def status_text(row: Mapping[str, Any]) -> str:
    """The status of one cell with its figure, target and headroom (a row of the cells
    frame, or a dict with the same keys); a cell that times k2matrix's own code while the
    matrix names another implementation says so first."""
    text = _status_text(row)
    if row.get("times") == "k2matrix":
        return f"k2matrix's own code (not the implementation named): {text}"
    return text


def _status_text(row: Mapping[str, Any]) -> str:
    status = str(row.get("status") or "no_target")
    metric, unit = row.get("target_metric"), row.get("target_unit")
    if status == "not_judged":
        return f"not_judged: measured without {row.get('not_judged')}"
    if status == "no_target" or metric is None:
        return status
    target = figure_text(row.get("target_value"), metric, unit)
    if status == "no_data":
        return f"no_data: {metric} not recorded (target {target})"
    figure = figure_text(row.get("target_figure"), metric, unit)
    lower = row.get("target_direction") == "lower"
    headroom: Any = row.get("headroom")
    if status == "pass":
        return f"pass: {figure} {'≤' if lower else '≥'} {target}, {fmt_times(headroom)} headroom"
    off = fmt_times(1.0 / headroom) if finite(headroom) and headroom > 0 else "unbounded"
    critical = figure_text(row.get("target_critical"), metric, unit)
    worse = ">" if lower else "<"
    if status == "below_critical":
        return (f"below_critical: {figure} {worse} {critical} critical, {off} off target "
                f"({target})")
    return f"below_target: {figure} {worse} {target}, {off} off target (critical {critical})"


def status_texts(frame: pl.DataFrame) -> list[str]:
    """:func:`status_text` of every row of the cells frame."""
    if not frame.height:
        return []
    present = [c for c in _ROW if c in frame.columns]
    return [status_text(row) for row in frame.select(present).iter_rows(named=True)]
