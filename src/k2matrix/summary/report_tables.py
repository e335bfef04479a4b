"""The HTML report's own tables, one meaning per column: the verdict's causes, the cells
(time, spread, throughput, efficiency), latency per kind (p50, p90 and the tail its samples
resolve, else "max of N"), scaling (fits with intervals, or the ratio of two sizes), V2/V1
with intervals, drift. Each cell of a table carries its text and the number it sorts by."""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from typing import Any

from k2matrix.summary.build import Summary
from k2matrix.summary.latency import KINDS, latency_tail, resolves, tail
from k2matrix.summary.units import fmt_count, fmt_number, fmt_seconds

EFFICIENCY = ("efficiency: the cell's throughput as a share of its in-run ceiling, the same "
              "items through a reference that bounds it (producer: a raw producer sending "
              "the cell's pre-serialized values; writer: pyarrow writing the same rows to "
              "Parquet), the median of round-by-round ratios; 100% = as fast as the ceiling")
MIN_IQR_ROUNDS = 4  # quartiles of fewer rounds are two of the rounds themselves


@dataclass(frozen=True)
class Cell:
    text: str
    sort: float | str | None = None
    css: str = ""


@dataclass
class Table:
    key: str  # the anchor id
    title: str
    headers: list[tuple[str, str]]  # (name, what it means: the header's tooltip)
    rows: list[list[Cell]] = field(default_factory=list)
    note: str = ""


def _f(value: Any) -> float | None:
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and math.isfinite(value) else None


_UNITS = {"ns": 1e-9, "µs": 1e-6, "us": 1e-6, "ms": 1e-3, "s": 1.0, "K": 1e3, "M": 1e6,
          "G": 1e9, "%": 0.01}
_NUMBER = re.compile(r"^[±+]?(-?[\d.]+(?:e[+-]?\d+)?)\s*(ns|µs|us|ms|s|K|M|G|%)?(?!\w)")


def sort_key(text: str) -> float | str:
    """The number a formatted cell sorts by ("12.3 ms" -> 0.0123, "24K msg/s" -> 24000,
    "+5.0%" -> 0.05), else its text."""
    m = _NUMBER.match(text.strip())
    if not m:
        return text
    try:
        value = float(m.group(1))
    except ValueError:
        return text
    return value * _UNITS.get(m.group(2) or "", 1.0) * (-1 if text.strip()[:1] == "-" and
                                                        value > 0 else 1)


def as_rows(table: Table) -> tuple[tuple[str, ...], list[tuple[str, ...]]]:
    """A table as plain text: its headers and its rows (what text and Markdown show)."""
    return (tuple(name for name, _ in table.headers),
            [tuple(cell.text for cell in row) for row in table.rows])


def _time(summary: Summary) -> Any:
    return fmt_count if summary.run.k2.get("clock") == "instructions" else fmt_seconds


def causes(summary: Summary) -> Table:
    """The cells that decided the verdict, as :func:`k2matrix.summary.verdict.decide` chose
    them (worst first; for a Good verdict the least headroom), each with its status in
    words: the figure, the target and critical values, the headroom."""
    good = summary.verdict.verdict.startswith("Good")
    table = Table("causes", "Tightest margins" if good else "What decided the verdict",
                  [("cell", ""),
                   ("status", "the cell's figure against the target that decided, and how "
                              "many times inside it (its headroom)"),
                   ("target", "the target that decided")])
    for entry in summary.verdict.deciding:
        status = str(entry.get("status") or "")
        table.rows.append([
            Cell(str(entry["id"]), None, "wrap id"),
            Cell(str(entry.get("text") or status), entry.get("headroom"), f"{status} wrap"),
            Cell(str(entry.get("target") or "-"))])
    return table


def _spread(row: dict[str, Any], figure: Any) -> Cell:
    trials = row.get("trials") or 1
    samples = row.get("samples_s") or []
    if trials >= 2 and row.get("samples_of") == "trials" and samples:
        low, high = min(samples), max(samples)
        return Cell(f"{figure(low)} to {figure(high)} over {trials} trials",
                    (high - low) / row["median_s"] if row["median_s"] else None)
    rounds = row.get("rounds") or 0
    if rounds >= MIN_IQR_ROUNDS and row.get("iqr_s") is not None:
        return Cell(f"IQR {figure(row['iqr_s'])} of {rounds} rounds", row["iqr_s"])
    return Cell(f"{rounds} round{'s' if rounds != 1 else ''}: no IQR", None)


def cells(summary: Summary) -> Table:
    figure = _time(summary)
    table = Table("cells-table", "Cells", [
        ("cell", ""), ("status", "against the target that decided (worst of those that "
                                 "apply)"),
        ("median", "median round time (pooled rounds of every trial)"),
        ("spread", "the range of the trial medians (two trials or more), else the IQR of "
                   "the rounds (from 4 rounds)"),
        ("throughput", "items per second of the median round; a paced cell's is its pace"),
        ("latency tail", "what the cell's latencies measure (delivery, freshness, commit, "
                         "query or round) and the highest percentile its samples resolve "
                         "(p99 from 100, p99.9 from 1,000), else the largest of N"),
        ("efficiency", EFFICIENCY),
        ("noise floor", "the smallest change a comparison of this cell resolves here")],
        note=f"{EFFICIENCY}. A paced cell (its rate set by the test) shows its pace, not a "
             "throughput it achieved on its own. Latencies: see Latency, by what they "
             "measure.")
    for r in summary.frame.to_dicts():
        pace = _f(r.get("pace"))
        unit = r.get("unit") or ""
        throughput = (Cell(f"paced at {fmt_number(pace)} {unit} (achieved "
                           f"{fmt_number(r['throughput'])})", r["throughput"])
                      if pace else Cell(f"{fmt_number(r['throughput'])} {unit}",
                                        _f(r["throughput"])))
        eff = _f(r.get("efficiency"))
        floor = _f(r.get("noise_floor"))
        text = r.get("status_text") or r["status"]  # with the target's value and headroom
        status = text + (f" ({r['target']})" if r["target"] else "")
        table.rows.append([
            Cell(r["id"], None, "wrap id"), Cell(status, r["status"], f"{r['status']} wrap"),
            Cell(figure(r["median_s"]), _f(r["median_s"])), _spread(r, figure), throughput,
            Cell(latency_tail(r), _f(r.get("p99_ms"))),
            Cell("-" if eff is None else f"{eff:.0%}", eff),
            Cell("-" if floor is None else f"±{floor:.1%}", floor)])
    return table


def _ms(value: Any) -> Cell:
    v = _f(value)
    return Cell("-" if v is None else fmt_seconds(v / 1000.0), v)


def latency(summary: Summary, kind: str) -> Table:
    """One kind of latency: every column means the same thing in every row."""
    name = KINDS[kind].split(":")[0]
    table = Table(f"latency-{kind}-table", name.capitalize(), [
        ("cell", ""), ("samples", "how many latencies the percentiles rest on"),
        ("p50", ""), ("p90", "shown from 10 samples"),
        ("tail", "the highest of p99 (100 samples), p99.9 (1,000), p99.99 (10,000) the "
                 "samples resolve, else their largest (max of N)")],
        note="a percentile is shown only where at least one sample lies beyond it (p99 "
             "needs 100 samples, p99.9 1,000); below that, the largest sample (max of N)")
    for r in summary.frame.to_dicts():
        if r.get("latency_kind") != kind:
            continue
        n = r.get("latency_samples")
        found = tail(n, r)
        table.rows.append([
            Cell(r["id"]), Cell("-" if n is None else f"{n:,}", n), _ms(r["p50_ms"]),
            _ms(r["p90_ms"]) if resolves(n, 0.9) else Cell("-"),
            Cell("-" if found is None else f"{found[0]}: {fmt_seconds(found[1] / 1000)}",
                 None if found is None else found[1])])
    return table


def _two(value: Any) -> str:
    return f"{value:.2f}"


def _interval(low: Any, high: Any, fmt: Any) -> str:
    return "" if _f(low) is None or _f(high) is None else f" [{fmt(low)}, {fmt(high)}]"


def scaling(summary: Summary) -> Table:
    axes = summary.scaling_axes()
    table = Table("scaling-table", "Scaling fits", [
        ("component.case", ""), ("schema", ""), ("group", "the other axes"),
        ("sizes", "distinct sizes measured"),
        ("fit", "a line from 3 sizes; 2 sizes give the time ratio only"),
        ("time ratio", "time at the largest size / at the smallest, against the size ratio"),
        ("fixed", "the cost at size 0 (selectivity: at 0% of rows), ≥ 0"),
        ("per unit", "the cost of one more row or message, ≥ 0; selectivity: per "
                     "percentage point of the rows selected"),
        ("exponent", "log-log slope: 1 linear, 0 flat"), ("R²", "of the line"),
        ("V2/V1", "geometric mean time ratio over the pairs that differ only in schema")],
        note="[low, high]: 95% bootstrap intervals over each point's trials or rounds "
             "(docs/statistics.md, Scaling fits)")
    for r in summary.scaling.to_dicts():
        group = " ".join(f"{a}={r[a]}" for a in axes if r.get(a) is not None) or "-"
        ratio = (f"x{r['time_ratio']:.2f}"
                 + _interval(r["time_ratio_low"], r["time_ratio_high"], _two)
                 + f" for x{fmt_number(r['size_ratio'])} the size")
        per_pct = _f(r.get("per_percent_s"))
        if per_pct is not None:
            per = (f"{fmt_seconds(per_pct)} per 1% selected"
                   + _interval(r.get("per_percent_low"), r.get("per_percent_high"),
                               fmt_seconds))
        elif _f(r.get("per_item_s")) is not None:
            per = (f"{fmt_seconds(r['per_item_s'])}"
                   + _interval(r["per_item_low"], r["per_item_high"], fmt_seconds))
        else:
            per = "-"
        fixed = ("-" if _f(r.get("fixed_s")) is None else fmt_seconds(r["fixed_s"])
                 + _interval(r["fixed_low"], r["fixed_high"], fmt_seconds))
        exponent = ("-" if _f(r.get("exponent")) is None else f"{r['exponent']:.2f}"
                    + _interval(r["exponent_low"], r["exponent_high"], _two))
        pairs = r.get("v2_v1_pairs")
        v2 = ("-" if _f(r.get("v2_v1_ratio")) is None else f"{r['v2_v1_ratio']:.2f}"
              + _interval(r["v2_v1_low"], r["v2_v1_high"], _two)
              + f" ({pairs} pair{'s' if pairs != 1 else ''})")
        source = f" ({r['interval_from']})" if r.get("interval_from") else ""
        table.rows.append([
            Cell(f"{r['component']}.{r['case']}"), Cell(r["schema"] or "-"), Cell(group),
            Cell(f"{r['points']} {r['size_axis']}", r["points"]), Cell(r["fit"] + source),
            Cell(ratio, _f(r["time_ratio"])), Cell(fixed, _f(r.get("fixed_s"))),
            Cell(per, _f(r.get("per_item_s")) or per_pct),
            Cell(exponent, _f(r.get("exponent"))),
            Cell("-" if _f(r.get("r2")) is None else f"{r['r2']:.3f}", _f(r.get("r2"))),
            Cell(v2, _f(r.get("v2_v1_ratio")))])
    return table


def ratios(summary: Summary) -> Table:
    table = Table("ratios-table", "V2/V1 cost (median time ratio)", [
        ("component.case", ""), ("ratio", "geometric mean over the pairs [95% interval]"),
        ("min", ""), ("max", ""), ("pairs", "cells that differ only in schema")])
    for r in summary.ratios.to_dicts():
        table.rows.append([
            Cell(f"{r['component']}.{r['case']}"),
            Cell(f"{r['v2_v1_ratio']:.2f}" + _interval(r.get("v2_v1_low"), r.get("v2_v1_high"),
                                                       _two),
                 r["v2_v1_ratio"]),
            Cell(f"{r['min_ratio']:.2f}", r["min_ratio"]),
            Cell(f"{r['max_ratio']:.2f}", r["max_ratio"]), Cell(str(r["pairs"]), r["pairs"])])
    return table


def _in_series_unit(name: str, value: Any) -> Cell:
    """A value of series ``name`` in its unit: ``*_ms`` as a time, ``*_s`` in seconds,
    else a number (a lag in messages, a rate)."""
    v = _f(value)
    if v is None:
        return Cell("-")
    if name.endswith("_ms") or "_ms_" in name:
        return Cell(fmt_seconds(v / 1000.0), v / 1000.0)
    if name.endswith("_s") and not name.endswith("_msg_s"):
        return Cell(fmt_seconds(v), v)
    return Cell(fmt_number(v), v)


def drift(summary: Summary) -> Table:
    table = Table("drift-table", "Drift over the run", [
        ("cell", ""), ("series", "a metric the cell recorded sample by sample"),
        ("samples", ""), ("first tenth", "mean (from 30 samples)"),
        ("last tenth", "mean (from 30 samples)"), ("last/first", ""),
        ("slope per sample", "least-squares slope, in the series' unit per sample")],
        note="sampling times (series ending in _t_s) are the x axis of their series, not "
             "metrics; a tenth needs 30 samples")
    for r in summary.drift.to_dicts():
        name = r["series"]
        table.rows.append([
            Cell(r["id"], None, "wrap"), Cell(name), Cell(str(r["samples"]), r["samples"]),
            _in_series_unit(name, r["first_mean"]), _in_series_unit(name, r["last_mean"]),
            Cell("-" if _f(r["ratio"]) is None else f"{r['ratio']:.2f}", _f(r["ratio"])),
            _in_series_unit(name, r["slope_per_sample"])])
    return table


def kinds(summary: Summary) -> Sequence[str]:
    present = set(summary.frame["latency_kind"].drop_nulls().to_list()) if (
        "latency_kind" in summary.frame.columns and summary.frame.height) else set()
    return [k for k in KINDS if k in present]


__all__ = [
    "Cell",
    "Table",
    "as_rows",
    "causes",
    "cells",
    "drift",
    "kinds",
    "latency",
    "ratios",
    "scaling",
    "sort_key",
]
