"""Latency charts: one per kind of latency (:mod:`k2matrix.summary.latency`: delivery,
freshness, commit, query, round time), never two kinds on one axis, and the charts over
the run (commit latency per commit, the pipeline's consumer lag over time).

A latency chart is HdrHistogram's percentile plot: x = 1 / (1 - q) on a log scale labelled
50%, 90%, 99%, 99.9%, y the latency in human units. A line joins the percentiles the cell's
samples resolve (from its raw series where it recorded one, else its recorded percentiles);
a triangle marks its largest sample at x = N ("max of N"), so p99 = p99.9 = max of seven
samples is one honest point, not a flat line. Target and critical lines for ``p99_ms``
targets. Over the run: a CPU time never shares an axis with a latency.
"""

from __future__ import annotations

from typing import Any

import polars as pl

from k2matrix.matrix import Target
from k2matrix.summary.applies import targets_by_cell
from k2matrix.summary.build import Summary
from k2matrix.summary.canvas import (
    Chart,
    cap,
    figure,
    human_axis,
    legend_outside,
    percentile_axis,
    png,
    short_labels,
    style,
    target_line,
)
from k2matrix.summary.drift import is_metric
from k2matrix.summary.latency import KINDS, curve, resolved_points

MAX_LINES = 8
LATENCY, OVER_RUN = "latency", "over the run"
_RAW = {"delivery": "delivery", "query": "latency_ms", "commit": "commit_latency_ms"}


def _raw(summary: Summary, cell_id: str, kind: str) -> list[float] | None:
    """The cell's raw samples of this kind (ms), where it recorded them as a series."""
    by_name = summary.cells.series.get(cell_id, {})
    word = _RAW.get(kind)
    for name, values in by_name.items():
        if word and (name == word or (kind == "delivery" and word in name
                                      and "latency" in name)) and len(values) >= 2:
            return values
    return None


def _line(ax: Any, summary: Summary, row: dict[str, Any], kind: str, name: str
          ) -> list[float]:
    """One cell's percentile line and max marker; the values drawn (s)."""
    raw = _raw(summary, row["id"], kind)
    n = len(raw) if raw is not None else row["latency_samples"]
    top: float | None
    if raw is not None:
        points = [(x, v / 1000.0) for x, v in curve(raw)]
        top = max(raw) / 1000.0
    else:
        points = [(x, v / 1000.0) for x, v, _ in resolved_points(n, row)]
        top = None if row["latency_max_ms"] is None else row["latency_max_ms"] / 1000.0
    label = f"{name} (N={n:,})" if n else name
    color = None
    if points:
        (line,) = ax.plot([p[0] for p in points], [p[1] for p in points], marker="o"
                          if raw is None else None, markersize=4, linewidth=1.3, label=label)
        color = line.get_color()
    if top is not None and n:
        ax.plot([float(n)], [top], marker="^", markersize=7, linestyle="none",
                color=color, label="_" if points else label)
    return [p[1] for p in points] + ([top] if top is not None else [])


def _targets(ax: Any, rows: list[dict[str, Any]], targets: dict[str, list[Target]]
             ) -> list[float]:
    drawn: list[float] = []
    found = {t.name: t for r in rows for t in targets.get(r["id"], [])
             if t.metric == "p99_ms"}
    for target in found.values():
        target_line(ax, target.target / 1000.0, f"target {target.name}: p99 ≤ "
                                                 f"{target.target:g} ms")
        target_line(ax, target.critical / 1000.0, f"critical {target.critical:g} ms",
                    critical=True)
        drawn += [target.target / 1000.0, target.critical / 1000.0]
    return drawn


def _kind_chart(summary: Summary, kind: str, rows: list[dict[str, Any]],
                targets: dict[str, list[Target]]) -> Chart:
    keys = list(dict.fromkeys(f"{r['component']}.{r['case']}" for r in rows))
    fig = figure(11.0, 2.9 * len(keys) + 0.3)
    panels = fig.subplots(len(keys), 1, squeeze=False)
    notes = []
    for i, key in enumerate(keys):
        ax = panels[i][0]
        mine = sorted((r for r in rows if f"{r['component']}.{r['case']}" == key),
                      key=lambda r: -(r["latency_max_ms"] or r["p50_ms"] or 0.0))
        def largest(n: int, of: int, k: str = key) -> str:
            return f"{k}: the {n} with the largest max of {of}"

        kept, note = cap(mine, MAX_LINES, largest)
        notes += [note] if note else []
        values: list[float] = []
        for row, name in zip(kept, short_labels([r["id"] for r in kept]), strict=True):
            values += _line(ax, summary, row, kind, name)
        ax.plot([], [], marker="^", linestyle="none", color="#616161",
                label="largest sample (at x = N)")
        values += _targets(ax, kept, targets)
        counts = [len(_raw(summary, r["id"], kind) or []) or r["latency_samples"] or 2
                  for r in kept]
        percentile_axis(ax, float(max(counts, default=2)), counts)
        human_axis(ax, "y", values, "time")
        style(ax, ax.get_xlabel(), KINDS[kind].split(":")[0], key)
        legend_outside(ax)
    caption = (f"{KINDS[kind]}. Lines: the percentiles each cell's samples resolve (p99 "
               f"needs 100 samples, p99.9 1,000); triangles: the largest sample, at x = N "
               f"(max of N)" + ("; " + "; ".join(notes) if notes else ""))
    return Chart(f"latency_{kind}.png", LATENCY, KINDS[kind].split(":")[0].capitalize(),
                 caption, png(fig))


def latency_charts(summary: Summary) -> list[Chart]:
    """``latency_<kind>.png`` for each kind of latency the run recorded."""
    frame = summary.frame
    if "latency_kind" not in frame.columns:
        return []
    rows = frame.filter(pl.col("latency_kind").is_not_null()).to_dicts()
    targets = targets_by_cell(summary.run)
    return [_kind_chart(summary, kind, [r for r in rows if r["latency_kind"] == kind],
                        targets)
            for kind in KINDS if any(r["latency_kind"] == kind for r in rows)]


def _commit_series(summary: Summary) -> dict[str, list[float]]:
    """Cell id (and series, when a cell has several) -> commit latencies (ms), outside the
    pipeline (its chart has them); CPU times are not latencies."""
    component = dict(summary.frame.select("id", "component").iter_rows())
    out = {}
    for cid, by_name in summary.cells.series.items():
        if component.get(cid) == "pipeline":
            continue
        names = [n for n in by_name if n.startswith("commit_latency") and is_metric(n)
                 and len(by_name[n]) >= 2]
        for name in names:
            out[cid if len(names) == 1 else f"{cid} {name}"] = by_name[name]
    return out


def _commit_chart(series: dict[str, list[float]]) -> Chart:
    fig = figure(11.0, 4.2)
    ax = fig.subplots()
    kept, note = cap(list(series.items()), MAX_LINES,
                     lambda n, of: f"the first {n} of {of} series")
    values: list[float] = []
    for name, ms in kept:
        seconds = [v / 1000.0 for v in ms]
        ax.plot(range(1, len(seconds) + 1), seconds, marker="o" if len(ms) <= 60 else None,
                markersize=3, linewidth=1.0, label=f"{name} ({len(ms)} commits)")
        values += seconds
    human_axis(ax, "x", [1.0, float(max(len(s) for _, s in kept))], "index", zero=False)
    human_axis(ax, "y", values, "time")
    style(ax, "commit number", "commit latency", "Commit latency, commit by commit")
    legend_outside(ax)
    return Chart("commit_latency.png", OVER_RUN, "Commit latency over the run",
                 "Each commit's latency in the order committed (a drift shows as a slope)"
                 + (f"; {note}" if note else ""), png(fig))


def _pipeline_chart(summary: Summary, ids: list[str]) -> Chart:
    fig = figure(11.0, 6.6)
    lag_ax, commit_ax = fig.subplots(2, 1, squeeze=True)
    lags: list[float] = []
    times: list[float] = []
    commits: list[float] = []
    for cid in ids[:MAX_LINES]:
        by_name = summary.cells.series.get(cid, {})
        lag, at = by_name.get("lag", []), by_name.get("lag_t_s", [])
        if lag and len(at) == len(lag):
            lag_ax.plot(at, lag, marker="o", markersize=3, linewidth=1.2, label=cid)
            lags += lag
            times += at
        ms = by_name.get("commit_latency_ms", [])
        if ms:
            commit_ax.plot(range(1, len(ms) + 1), [v / 1000.0 for v in ms], marker="o",
                           markersize=4, linewidth=1.2, label=f"{cid} ({len(ms)} commits)")
            commits += [v / 1000.0 for v in ms]
    human_axis(lag_ax, "x", times, "time", zero=False)
    human_axis(lag_ax, "y", lags, "count")
    style(lag_ax, "time since the start of the run", "consumer lag (messages)",
          "Consumer lag over time")
    human_axis(commit_ax, "x", [1.0, float(max(len(commits), 1))], "index", zero=False)
    human_axis(commit_ax, "y", commits, "time")
    style(commit_ax, "commit number", "commit latency", "Sink commits, commit by commit")
    for ax in (lag_ax, commit_ax):
        legend_outside(ax)
    return Chart("pipeline_over_time.png", OVER_RUN, "Pipeline over the run",
                 "Consumer lag as sampled during the run, and each sink commit's latency; "
                 "freshness is recorded as percentiles only (see the freshness chart)",
                 png(fig))


def over_run_charts(summary: Summary) -> list[Chart]:
    """``commit_latency.png`` and ``pipeline_over_time.png`` where series were recorded."""
    out = []
    series = _commit_series(summary)
    if series:
        out.append(_commit_chart(series))
    component = dict(summary.frame.select("id", "component").iter_rows())
    pipeline = [cid for cid, by_name in summary.cells.series.items()
                if component.get(cid) == "pipeline" and ("lag" in by_name
                                                         or "commit_latency_ms" in by_name)]
    if pipeline:
        out.append(_pipeline_chart(summary, pipeline))
    return out
