"""Pictures (matplotlib, Agg, no pyplot state): log-log scaling curves per component,
delivery-latency distributions, and latency over a sustained run. Each is PNG bytes, written
to a directory or embedded in the HTML report."""

from __future__ import annotations

import io
import re
from pathlib import Path
from typing import Any

import polars as pl

from k2matrix.errors import ResultsError
from k2matrix.stats import percentile
from k2matrix.summary.build import Summary
from k2matrix.summary.scaling import size_axes

MAX_LINES = 16
_PERCENTILES = (("p50", "p50_ms"), ("p99", "p99_ms"), ("p99.9", "p999_ms"),
                ("max", "latency_max_ms"))


def _figure(width: float = 8.0, height: float = 5.0) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    return Figure(figsize=(width, height), layout="constrained")


def _png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    return buf.getvalue()


def _log(ax: Any, axis: str) -> None:
    """A log scale labelled with plain numbers (1, 2, 5, 10, 100 rather than 2x10^0)."""
    from matplotlib.ticker import LogFormatter

    target = ax.xaxis if axis == "x" else ax.yaxis
    (ax.set_xscale if axis == "x" else ax.set_yscale)("log")
    target.set_major_formatter(LogFormatter(labelOnlyBase=False))
    target.set_minor_formatter(LogFormatter(labelOnlyBase=False, minor_thresholds=(2, 0.5)))


def _label(ax: Any, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title)
    ax.grid(True, which="both", alpha=0.3)
    ax.legend(fontsize="x-small")


def _slug(text: str) -> str:
    return re.sub(r"[^A-Za-z0-9_.-]+", "_", text).strip("_") or "plot"


def scaling_plots(summary: Summary) -> dict[str, bytes]:
    """``scaling_<component>.png``: one panel per case, one line per group."""
    frame = summary.frame.filter(pl.col("median_s") > 0)
    chosen = size_axes(frame)
    out: dict[str, bytes] = {}
    components = sorted({c for c, _ in chosen})
    for component in components:
        cases = sorted(k for c, k in chosen if c == component)
        fig = _figure(7.0 * min(len(cases), 2), 4.5 * ((len(cases) + 1) // 2))
        axes_list = fig.subplots((len(cases) + 1) // 2, min(len(cases), 2), squeeze=False)
        for i, case in enumerate(cases):
            ax = axes_list[i // 2][i % 2]
            size = chosen[(component, case)]
            sub = frame.filter((pl.col("component") == component) & (pl.col("case") == case)
                               & pl.col(size).is_not_null())
            group_cols = ["schema", *[a for a in summary.cells.axes
                                      if a != size and sub[a].null_count() < sub.height]]
            groups = sub.sort(size).partition_by(group_cols, maintain_order=True,
                                                 as_dict=True)
            for n, (key, part) in enumerate(groups.items()):
                if n >= MAX_LINES:
                    break
                label = " ".join(str(v) for v in key if v not in (None, ""))
                ax.plot(part[size].to_list(), part["median_s"].to_list(), marker="o",
                        label=label or case)
            _log(ax, "x")
            _log(ax, "y")
            shown = min(len(groups), MAX_LINES)
            _label(ax, size, "median time (s)", f"{component}.{case}"
                   + (f" (first {shown} of {len(groups)})" if len(groups) > shown else ""))
        for j in range(len(cases), len(axes_list) * len(axes_list[0])):
            axes_list[j // 2][j % 2].set_visible(False)
        fig.suptitle(f"{component}: scaling (log-log)")
        out[f"scaling_{_slug(component)}.png"] = _png(fig)
    return out


def _distribution(dist: dict[tuple[str, str], list[float]], what: str) -> bytes:
    """ECDFs of latency samples (one line per cell and series), p99 marked."""
    fig = _figure()
    ax = fig.subplots()
    for n, ((cid, name), values) in enumerate(dist.items()):
        if n >= MAX_LINES:
            break
        ordered = sorted(values)
        share = [(i + 1) / len(ordered) for i in range(len(ordered))]
        p99 = percentile(ordered, 0.99)
        line = ax.step(ordered, share, where="post", label=f"{cid} {name}")[0]
        ax.plot([p99], [0.99], marker="o", color=line.get_color())
    if all(min(v) > 0 for v in dist.values()):
        _log(ax, "x")
    _label(ax, "latency (ms)", "fraction at or below", f"{what} distribution (dots: p99)")
    return _png(fig)


def _percentiles(rows: list[dict[str, Any]], what: str) -> bytes:
    """Where only percentiles were recorded: p50, p99, p99.9 and max per cell."""
    fig = _figure()
    ax = fig.subplots()
    labels = [p for p, _ in _PERCENTILES]
    for row in rows[:MAX_LINES]:
        points = [(p, row[c]) for p, c in _PERCENTILES if row[c] is not None]
        ax.plot([labels.index(p) for p, _ in points], [v for _, v in points], marker="o",
                label=row["id"])
    ax.set_xticks(range(len(labels)), labels)
    _log(ax, "y")
    _label(ax, "percentile", "latency (ms)", f"{what} percentiles")
    return _png(fig)


def latency_plots(summary: Summary) -> dict[str, bytes]:
    """Per component, latency distributions from ``*latency*`` series, else from the
    recorded percentiles: ``delivery_latency.png`` for the producer (produce call to
    delivery report), ``latency_<component>.png`` for the others; and
    ``commit_latency.png``: series whose name mentions commit, over the sustained run."""
    out: dict[str, bytes] = {}
    component = dict(summary.frame.select("id", "component").iter_rows())
    pct = summary.frame.filter(pl.col("p99_ms").is_not_null()).select(
        "id", "component", *[c for _, c in _PERCENTILES])
    for comp in sorted(set(component.values())):
        name, what = (("delivery_latency.png", "producer: delivery latency")
                      if comp == "producer" else
                      (f"latency_{_slug(comp)}.png", f"{comp}: latency"))
        dist = {(cid, series): values for cid, by_name in summary.cells.series.items()
                if component.get(cid) == comp for series, values in by_name.items()
                if "latency" in series and "commit" not in series and values}
        if dist:
            out[name] = _distribution(dist, what)
            continue
        rows = pct.filter(pl.col("component") == comp).to_dicts()
        if rows:
            out[name] = _percentiles(rows, what)
    over_run = {(cid, name): values for cid, by_name in summary.cells.series.items()
                for name, values in by_name.items() if "commit" in name and values}
    if over_run:
        fig = _figure()
        ax = fig.subplots()
        for n, ((cid, name), values) in enumerate(over_run.items()):
            if n >= MAX_LINES:
                break
            ax.plot(range(len(values)), values, linewidth=0.8, label=f"{cid} {name}")
        _label(ax, "commit number", "commit latency (ms)",
               "Commit latency over the sustained run")
        out["commit_latency.png"] = _png(fig)
    return out


def all_plots(summary: Summary) -> dict[str, bytes]:
    return {**scaling_plots(summary), **latency_plots(summary)}


def write_plots(summary: Summary, directory: str | Path) -> list[Path]:
    """Write every plot as PNG into ``directory`` (created); return the paths."""
    folder = Path(directory)
    try:
        folder.mkdir(parents=True, exist_ok=True)
        paths = []
        for name, png in all_plots(summary).items():
            path = folder / name
            path.write_bytes(png)
            paths.append(path)
    except OSError as exc:
        raise ResultsError(f"--plots {folder}: cannot write: {exc.strerror or exc}") from None
    return paths
