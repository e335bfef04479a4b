"""The report's charts: scaling curves here, latency and over-the-run charts in
:mod:`k2matrix.summary.latency_plots`, the baseline comparison in
:mod:`k2matrix.summary.compare_plot`; how they look in :mod:`k2matrix.summary.canvas`.
Each is a :class:`~k2matrix.summary.canvas.Chart` (PNG bytes with a title and caption),
written to a directory (``--plots``) or embedded in the HTML report.

Scaling (``scaling_<component>.png``): one panel per case, median time against its size axis,
one line per group (schema and the other axes), error bars the 95% bootstrap interval of
each median over its trials or rounds, the fitted line (dashed) where three sizes or more
were fitted, and the target (green dashes) and critical (red dots) time a target implies:
a ``median_ms`` target directly, a ``throughput`` target as items / rate at each size.
"""

from __future__ import annotations

import re
from pathlib import Path
from typing import Any

import numpy as np
import polars as pl

from k2matrix.errors import ResultsError
from k2matrix.matrix import Target
from k2matrix.summary.applies import targets_by_cell
from k2matrix.summary.build import Summary
from k2matrix.summary.canvas import (
    CRITICAL_STYLE,
    TARGET_STYLE,
    Chart,
    cap,
    figure,
    human_axis,
    human_count,
    legend_outside,
    png,
    style,
    target_line,
)
from k2matrix.summary.fit import intervals
from k2matrix.summary.scaling import SELECTIVITY, Draws, size_axes

MAX_LINES = 8
SCALING = "scaling"
TARGET_COLOR, CRITICAL_COLOR = TARGET_STYLE["color"], CRITICAL_STYLE["color"]


def slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "plot"


def _fit_row(rows: list[dict[str, Any]], first: dict[str, Any], size: str,
             axes: list[str]) -> dict[str, Any] | None:
    """The scaling row of the group ``first`` (a cell of it) belongs to, if it was fitted."""
    for row in rows:
        if (row.get("fit") == "line" and row["size_axis"] == size
                and all(row.get(k) == first.get(k) for k in ("component", "case", "schema"))
                and all(row.get(a) == first.get(a) for a in axes if a != size)):
            return row
    return None


def _target_marks(ax: Any, sub: pl.DataFrame, size: str,
                  targets: dict[str, list[Target]]) -> list[float]:
    """Draw the target and critical times of the targets on these cells; their values."""
    drawn: list[float] = []
    seen: set[str] = set()
    rows = sub.select("id", size, "items", "median_s").to_dicts()
    for target in {t.name: t for r in rows for t in targets.get(r["id"], [])}.values():
        cells = [r for r in rows if target in targets.get(r["id"], [])]
        sizes = sorted(float(r[size]) for r in cells)
        for level, critical in ((target.target, False), (target.critical, True)):
            label = (f"{'critical' if critical else 'target'} {target.name}"
                     if target.name not in seen or critical else None)
            if target.metric == "median_ms":
                value = level / 1000.0
                span = (sizes[0] / 1.25, sizes[-1] * 1.25) if size != SELECTIVITY else None
                target_line(ax, value, label or "_", critical, span)
                drawn.append(value)
            elif target.metric == "throughput" and target.direction == "higher":
                points = sorted((float(r[size]), float(r["items"]) / level) for r in cells
                                if r["items"])
                if points:
                    xs, ts = zip(*points, strict=True)
                    ax.plot(xs, ts, marker="_", markersize=16, markeredgewidth=2,
                            linestyle="none", color=CRITICAL_COLOR if critical else
                            TARGET_COLOR, label=(f"{label} ({human_count(level)}/s)"
                                                 if label else "_"))
                    drawn.extend(ts)
        seen.add(target.name)
    return drawn


def _panel(ax: Any, summary: Summary, component: str, case: str, size: str,
           draws: Draws, fits: list[dict[str, Any]], targets: dict[str, list[Target]]
           ) -> tuple[list[str], set[str]]:
    """One case's panel; returns (notes, where the error bars come from)."""
    frame = summary.frame
    sub = frame.filter((pl.col("component") == component) & (pl.col("case") == case)
                       & pl.col(size).is_not_null() & (pl.col("median_s") > 0)).sort(size)
    varying = [a for a in summary.cells.axes
               if a != size and sub[a].null_count() < sub.height and sub[a].n_unique() > 1]
    groups = list(sub.partition_by(["schema", *varying], maintain_order=True,
                                   as_dict=True).items())
    kept, note = cap(groups, MAX_LINES, lambda n, of: f"{component}.{case}: the first {n} "
                                                     f"of {of} groups")
    values: list[float] = []
    sources: set[str] = set()
    for key, part in kept:
        label = " ".join(f"{v}" for v in key if v not in (None, "")) or case
        x = [float(v) for v in part[size].to_list()]
        t = part["median_s"].to_list()
        found = intervals(draws.matrix(part["id"].to_list()).T)
        low = [t[i] - f[0] if f else 0.0 for i, f in enumerate(found)]
        high = [f[1] - t[i] if f else 0.0 for i, f in enumerate(found)]
        sources.update(s for s in part["samples_of"].to_list() if s)
        bars = ax.errorbar(x, t, yerr=[low, high], marker="o", markersize=4, capsize=3,
                           linewidth=1.2, label=label)
        values += t + [f[1] for f in found if f] + [f[0] for f in found if f]
        fit = _fit_row(fits, part.row(0, named=True), size, summary.cells.axes)
        if fit is not None:
            xs = np.geomspace(min(x), max(x), 40)
            slope = (fit["per_percent_s"] * 100.0 if size == SELECTIVITY
                     else fit["per_item_s"])
            if slope is not None and fit["fixed_s"] is not None:
                ax.plot(xs, fit["fixed_s"] + slope * xs, linestyle="--", linewidth=0.9,
                        color=bars.lines[0].get_color(), label="_")
    values += _target_marks(ax, sub, size, targets)
    human_axis(ax, "x", [float(v) for v in sub[size].to_list()],
               "percent" if size == SELECTIVITY else "count", zero=False, log_span=4.0)
    human_axis(ax, "y", values, "time")
    style(ax, size.replace("_", " ") + (" (share of rows)" if size == SELECTIVITY else ""),
          "median time", f"{component}.{case}")
    legend_outside(ax)
    return ([note] if note else []), sources


def scaling_charts(summary: Summary) -> list[Chart]:
    """``scaling_<component>.png`` for each component with a size axis."""
    frame = summary.frame.filter(pl.col("median_s") > 0)
    chosen = size_axes(frame)
    if not chosen:
        return []
    draws = Draws.of(summary.frame)
    fits = summary.scaling.to_dicts() if "fit" in summary.scaling.columns else []
    targets = targets_by_cell(summary.run)
    out = []
    for component in sorted({c for c, _ in chosen}):
        cases = sorted(k for c, k in chosen if c == component)
        fig = figure(11.0, 3.0 * len(cases) + 0.3)
        panels = fig.subplots(len(cases), 1, squeeze=False)
        notes: list[str] = []
        sources: set[str] = set()
        for i, case in enumerate(cases):
            more, found = _panel(panels[i][0], summary, component, case,
                                 chosen[(component, case)], draws, fits, targets)
            notes += more
            sources |= found
        bars = (f"bars: 95% bootstrap interval of the median over its "
                f"{' or '.join(sorted(sources))}" if sources
                else "no bars: one measurement per point")
        caption = (f"Median time against size, log scales where the values span 20x or "
                   f"more; {bars}; dashed: the fitted line (3 sizes or more); green dashes "
                   f"and red dots: the time a target and its critical level allow"
                   + ("; " + "; ".join(notes) if notes else ""))
        out.append(Chart(f"scaling_{slug(component)}.png", SCALING,
                         f"{component}: scaling", caption, png(fig)))
    return out


def charts(summary: Summary) -> list[Chart]:
    """Every chart of the report, in reading order."""
    from k2matrix.summary.compare_plot import comparison_charts
    from k2matrix.summary.latency_plots import latency_charts, over_run_charts

    return [*comparison_charts(summary), *scaling_charts(summary), *latency_charts(summary),
            *over_run_charts(summary)]


def all_plots(summary: Summary) -> dict[str, bytes]:
    return {chart.name: chart.png for chart in charts(summary)}


def write_plots(summary: Summary, directory: str | Path) -> list[Path]:
    """Write every plot as PNG into ``directory`` (created); return the paths."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, data in all_plots(summary).items():
            path = folder / name
            path.write_bytes(data)
            paths.append(path)
    except OSError as exc:
        raise ResultsError(f"--plots {folder}: cannot write: {exc.strerror or exc}") from None
    return paths
