"""The baseline comparison as one chart (``comparison.png``, for ``summary --baseline``):
every compared cell's change with its confidence interval, the ±threshold band a change must
leave to count, each cell's noise floor, coloured by verdict; sorted by change, the largest
changes first when there are more than ``MAX_ROWS`` cells. The axis is the log of the ratio
(candidate / baseline), labelled as changes: -50% and +100% lie equally far from 0, as a
halving and a doubling should."""

from __future__ import annotations

import math
from typing import Any

from k2matrix.summary.build import Summary
from k2matrix.summary.canvas import Chart, figure, legend_outside, png, style

MAX_ROWS = 80
RATIOS = (0.01, 0.02, 0.05, 0.1, 0.2, 0.5, 0.67, 0.8, 0.9, 0.95, 1.0, 1.05, 1.1, 1.25, 1.5,
          2.0, 3.0, 5.0, 10.0, 20.0, 50.0, 100.0)
COMPARISON = "comparison"
COLORS = {"regression": "#c62828", "improvement": "#2e7d32", "unchanged": "#607d8b",
          "inconclusive": "#ef6c00"}


def _rows(doc: dict[str, Any]) -> tuple[list[dict[str, Any]], int]:
    rows = [r for r in doc["comparisons"] if isinstance(r.get("change"), int | float)]
    total = len(rows)
    if total > MAX_ROWS:
        rows = sorted(rows, key=lambda r: -abs(r["change"]))[:MAX_ROWS]
    return sorted(rows, key=lambda r: r["change"]), total


def _x(change: float) -> float:
    """Where a change sits: the log of its ratio (a change of -100% or less is clipped)."""
    return math.log(max(1.0 + change, 1e-3))


def _ticks(reach: float) -> tuple[list[float], list[str]]:
    """Ticks within ±reach on the log-ratio axis, labelled as changes, 0 first and then
    outward, each at least a tenth of the axis from its neighbour (labels never touch)."""
    gap = 2.0 * reach / 10.0
    chosen = [0.0]
    for side in (1, -1):
        last = 0.0
        for r in sorted((r for r in RATIOS if (r > 1.0) == (side > 0) and r != 1.0),
                        key=lambda r: abs(math.log(r))):
            x = math.log(r)
            if abs(x) <= reach and abs(x - last) >= gap:
                chosen.append(x)
                last = x
    chosen.sort()
    return chosen, ["0" if x == 0.0 else f"{math.exp(x) - 1:+.0%}" for x in chosen]


def comparison_charts(summary: Summary) -> list[Chart]:
    doc = summary.comparison
    if doc is None:
        return []
    rows, total = _rows(doc)
    if not rows:
        return []
    fig = figure(11.0, 1.3 + 0.24 * len(rows))
    ax = fig.subplots()
    threshold = float(doc["threshold"])
    ax.axvspan(_x(-threshold), _x(threshold), color="#9e9e9e", alpha=0.18,
               label=f"±{threshold:.0%} threshold")
    ax.axvline(0.0, color="#424242", linewidth=0.8)
    seen: set[str] = set()
    reach = abs(_x(threshold))
    for y, row in enumerate(rows):
        floor = row.get("noise_floor")
        if isinstance(floor, int | float):
            ax.plot([_x(-min(floor, 0.999)), _x(floor)], [y, y], color="#90a4ae",
                    linewidth=5, alpha=0.35, solid_capstyle="butt",
                    label="_" if "floor" in seen else "noise floor")
            seen.add("floor")
        verdict = str(row.get("verdict"))
        x = _x(row["change"])
        low, high = row.get("ci_low"), row.get("ci_high")
        ends = [_x(v) for v in (low, high) if isinstance(v, int | float)]
        err = [[x - ends[0]], [ends[1] - x]] if len(ends) == 2 else None
        ax.errorbar([x], [y], xerr=err, marker="o", markersize=5, capsize=3,
                    color=COLORS.get(verdict, "#424242"),
                    label="_" if verdict in seen else verdict)
        seen.add(verdict)
        reach = max(reach, abs(x), *(abs(e) for e in ends))
    ax.set_yticks(range(len(rows)), [r["id"] for r in rows], fontsize="x-small")
    ax.set_ylim(-0.7, len(rows) - 0.3)
    ax.set_xlim(-reach * 1.1, reach * 1.1)
    positions, labels = _ticks(reach * 1.1)  # every tick, however few, is labelled
    ax.set_xticks(positions, labels)
    ax.minorticks_off()
    shown = "" if total == len(rows) else f" (the {len(rows)} largest of {total})"
    style(ax, "change against the baseline (log scale of candidate / baseline)", "",
          f"Every compared cell's change{shown}")
    ax.grid(False, axis="y")
    legend_outside(ax)
    caption = (f"Dots: the change of the median trial figure; bars: its "
               f"{doc['confidence']:.0%} interval (Student's t on log trial figures); grey "
               f"band: the ±{threshold:.0%} threshold; pale bars: each cell's noise floor. A "
               f"regression's interval lies above 0 and its change beyond the threshold "
               f"and the floor")
    return [Chart("comparison.png", COMPARISON, "Against the baseline", caption, png(fig))]
