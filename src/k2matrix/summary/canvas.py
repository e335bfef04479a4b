"""How every chart of the report looks (matplotlib, Agg, no pyplot state): figures and PNG
bytes, axes in human units, legends outside the data.

- Times are shown in µs, ms or s, never in scientific notation: a linear axis takes one
  unit (its largest tick's) for all its ticks, a log axis gives each tick its own (100 µs,
  1 ms, 10 ms); counts as 1K, 10K, 1M; fractions as percentages.
- An axis goes logarithmic only when its values span ``LOG_SPAN`` or more; a log axis labels
  1-2-5 ticks over up to three decades, decades beyond that, and never its minor ticks, so
  no label repeats or overlaps. Labels get the fewest significant digits that keep them
  apart.
- A percentile axis (:func:`percentile_axis`) is HdrHistogram's: x = 1 / (1 - q) on a log
  scale, labelled 50%, 90%, 99%, 99.9%.
"""

from __future__ import annotations

import io
import math
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import Any

from matplotlib.ticker import Formatter

LOG_SPAN = 20.0  # max / min from which an axis is logarithmic
DPI = 144  # PNG pixels per inch (the HTML shows them at 96 per inch: sharp on HiDPI)
SCREEN_DPI = 96
TIME_UNITS = ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs"), (1e-9, "ns"))
COUNT_UNITS = ((1e9, "G"), (1e6, "M"), (1e3, "K"))
TARGET_STYLE: dict[str, Any] = {"color": "#2e7d32", "linestyle": "--", "linewidth": 1.2}
CRITICAL_STYLE: dict[str, Any] = {"color": "#c62828", "linestyle": ":", "linewidth": 1.4}


@dataclass(frozen=True)
class Chart:
    """One chart of the report: its file name (``--plots``), the report section it belongs
    to, a title, a caption saying what its marks mean, and the PNG."""

    name: str
    section: str
    title: str
    caption: str
    png: bytes


def figure(width: float = 9.0, height: float = 4.8) -> Any:
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.figure import Figure

    fig = Figure(figsize=(width, height), layout="constrained")
    fig.set_facecolor("white")
    return fig


def png(fig: Any) -> bytes:
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=DPI)
    return buf.getvalue()


def screen_width(png_bytes: bytes) -> int:
    """The CSS width (px) a PNG of this module is shown at: its pixels at DPI / SCREEN_DPI."""
    width = int.from_bytes(png_bytes[16:20], "big") if png_bytes[:4] == b"\x89PNG" else 0
    return round(width * SCREEN_DPI / DPI)


def _unit(value: float, units: Sequence[tuple[float, str]]) -> tuple[float, str]:
    for scale, name in units:
        if abs(value) >= scale * 0.9995:
            return scale, name
    return units[-1]


def human_time(seconds: float, digits: int = 3) -> str:
    """0.0123 -> '12.3 ms'; 0 -> '0'."""
    if seconds == 0 or not math.isfinite(seconds):
        return "0" if seconds == 0 else "-"
    scale, unit = _unit(seconds, TIME_UNITS)
    return f"{_g(seconds / scale, digits)} {unit}"


def human_count(value: float, digits: int = 3) -> str:
    """12_500 -> '12.5K'."""
    if value == 0 or not math.isfinite(value):
        return "0" if value == 0 else "-"
    scale, unit = _unit(value, (*COUNT_UNITS, (1.0, "")))
    return f"{_g(value / scale, digits)}{unit}"


def _g(value: float, digits: int) -> str:
    text = f"{value:.{digits}g}"
    if "e" in text:  # 1e+03 where digits are too few: write it out
        text = f"{value:.0f}"
    return text


class HumanFormatter(Formatter):
    """Tick labels in human units: ``kind`` "time" (seconds), "count" or "percent"
    (fractions); the fewest significant digits that keep the shown labels apart."""

    def __init__(self, kind: str = "time", log: bool = False) -> None:
        super().__init__()
        self.kind, self.log = kind, log
        self.digits = 3
        self.scale: tuple[float, str] = (1.0, "s")

    def set_locs(self, locs: list[float]) -> None:
        super().set_locs(locs)
        lo, hi = sorted(self.axis.get_view_interval()) if self.axis is not None else (0, 0)
        shown = [v for v in locs if lo - 1e-12 <= v <= hi + 1e-12]
        self.scale = _unit(max((abs(v) for v in shown), default=1.0), TIME_UNITS)
        for digits in range(1, 7):
            self.digits = digits
            labels = [self.label(v) for v in shown]
            if len(set(labels)) == len(labels):
                return

    def __call__(self, x: float, pos: int | None = None) -> str:
        return self.label(x)

    def label(self, x: float) -> str:
        if self.kind == "percent":
            return f"{_g(x * 100, self.digits)}%"
        if self.kind in ("count", "index"):
            return human_count(x, self.digits)
        if x == 0:
            return "0"
        scale, unit = _unit(x, TIME_UNITS) if self.log else self.scale
        return f"{_g(x / scale, self.digits)} {unit}"


def human_axis(ax: Any, which: str, values: Sequence[float], kind: str = "time",
               zero: bool = True, log_span: float = LOG_SPAN) -> None:
    """Scale (log from ``log_span``) and label axis ``which`` ("x" or "y") for ``values``;
    ``kind`` "time" (seconds), "count", "percent" (fractions) or "index" (1, 2, 3: linear,
    whole numbers only); ``zero``: a linear axis starts at 0."""
    from matplotlib.ticker import LogLocator, MaxNLocator, NullFormatter

    axis = ax.xaxis if which == "x" else ax.yaxis
    positive = [v for v in values if v is not None and math.isfinite(v) and v > 0]
    log = (kind != "index" and bool(positive)
           and max(positive) / min(positive) >= log_span)
    if log:
        (ax.set_xscale if which == "x" else ax.set_yscale)("log")
        decades = math.log10(max(positive) / min(positive))
        subs = (1.0, 2.0, 5.0) if decades <= 3.2 else (1.0,)
        axis.set_major_locator(LogLocator(base=10, subs=subs, numticks=12))
        axis.set_minor_locator(LogLocator(base=10, subs=tuple(range(2, 10)), numticks=12))
        axis.set_minor_formatter(NullFormatter())
    else:
        axis.set_major_locator(MaxNLocator(nbins=6, steps=[1, 2, 2.5, 5, 10],
                                           integer=kind == "index"))
        if zero and positive:
            (ax.set_xlim if which == "x" else ax.set_ylim)(0, max(positive) * 1.08)
    axis.set_major_formatter(HumanFormatter(kind, log))


PERCENTILE_TICKS = ((2.0, "50%"), (10.0, "90%"), (100.0, "99%"), (1e3, "99.9%"),
                    (1e4, "99.99%"), (1e5, "99.999%"), (1e6, "99.9999%"))


def percentile_axis(ax: Any, top: float, sample_counts: Sequence[int] = ()) -> None:
    """x = 1 / (1 - q) on a log scale up to ``top`` (the largest sample count shown),
    labelled with the percentiles, and "max of N" at x = N when all lines share one N that
    sits clear of them."""
    from matplotlib.ticker import FixedLocator, NullLocator

    ax.set_xscale("log")
    ticks = [(x, label) for x, label in PERCENTILE_TICKS if x <= top * 1.01] or [
        PERCENTILE_TICKS[0]]
    counts = set(sample_counts)
    if len(counts) == 1:
        n = float(counts.pop())
        if all(max(n / x, x / n) > 1.8 for x, _ in ticks):
            ticks = sorted([*ticks, (n, f"max of {n:,.0f}")])
    ax.xaxis.set_major_locator(FixedLocator([x for x, _ in ticks]))
    ax.xaxis.set_minor_locator(NullLocator())
    ax.set_xticklabels([label for _, label in ticks])
    ax.set_xlim(1.6, max(top, ticks[-1][0]) * 1.6)
    ax.set_xlabel("percentile (log scale of 1 / (1 - q))")


def style(ax: Any, xlabel: str, ylabel: str, title: str) -> None:
    ax.set_xlabel(xlabel)
    ax.set_ylabel(ylabel)
    ax.set_title(title, fontsize="medium", loc="left")
    ax.grid(True, which="major", alpha=0.35)
    ax.grid(True, which="minor", alpha=0.12)
    for side in ("top", "right"):
        ax.spines[side].set_visible(False)


def legend_outside(ax: Any, title: str | None = None) -> None:
    """The legend to the right of the axes (constrained layout makes room), never on the
    data; nothing when there is nothing to name."""
    handles, labels = ax.get_legend_handles_labels()
    if handles:
        ax.legend(handles, labels, loc="upper left", bbox_to_anchor=(1.01, 1.0),
                  borderaxespad=0.0, fontsize="small", title=title,
                  title_fontsize="small", frameon=False)


def target_line(ax: Any, value: float, label: str, critical: bool = False,
                span: tuple[float, float] | None = None) -> None:
    """A horizontal target (or critical) line at ``value``, across the axes or ``span``."""
    style_ = CRITICAL_STYLE if critical else TARGET_STYLE
    if span is None:
        ax.axhline(value, label=label, **style_)
    else:
        ax.plot(list(span), [value, value], label=label, **style_)


def short_labels(ids: Sequence[str]) -> list[str]:
    """Cell ids without the words they all share at the start and the end ("query-latency-
    filtered-duckdb_parquet-n100000" and "…-polars-n100000" -> "filtered-duckdb_parquet",
    "filtered-polars"); the ids themselves when that would leave one empty."""
    parts = [i.split("-") for i in ids]
    if len(parts) < 2:
        return list(ids)
    start = 0
    while all(len(p) > start + 1 and p[start] == parts[0][start] for p in parts):
        start += 1
    end = 0
    while all(len(p) > start + end + 1 and p[-1 - end] == parts[0][-1 - end] for p in parts):
        end += 1
    out = ["-".join(p[start:len(p) - end]) for p in parts]
    return out if all(out) and len(set(out)) == len(out) else list(ids)


def cap(items: Sequence[Any], limit: int, what: Callable[[int, int], str]) -> tuple[
        list[Any], str]:
    """The first ``limit`` items and a note ("first 8 of 20 …") when some were left out."""
    kept = list(items[:limit])
    return kept, ("" if len(items) <= limit else what(limit, len(items)))
