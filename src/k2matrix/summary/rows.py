"""One row per measured cell: axes from the k2 cell (or the test name and params of a
plain pytest-benchmark file), timings, throughput, latency and efficiency (the figures read
through :mod:`k2matrix.figures`), what the latency percentiles measure and how many samples
they rest on (:mod:`k2matrix.summary.latency`), a paced cell's pace, and the samples a
bootstrap resamples (``samples_s``: the trial medians of a run of two or more trials, else
the recorded rounds; ``samples_of`` says which)."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from k2matrix import figures
from k2matrix.compare.trial_figures import entry_trials
from k2matrix.results.load import Run
from k2matrix.summary.latency import meaning, prefix

# Columns the summary computes; an axis with one of these names is renamed param_<name>.
MEASURES: dict[str, type[pl.DataType]] = {
    "median_s": pl.Float64, "iqr_s": pl.Float64, "q1_s": pl.Float64, "q3_s": pl.Float64,
    "mean_s": pl.Float64, "min_s": pl.Float64, "max_s": pl.Float64, "rounds": pl.Int64,
    "items": pl.Float64, "throughput": pl.Float64, "unit": pl.String,
    "p50_ms": pl.Float64, "p90_ms": pl.Float64, "p99_ms": pl.Float64, "p999_ms": pl.Float64,
    "p9999_ms": pl.Float64, "latency_max_ms": pl.Float64, "latency_kind": pl.String,
    "latency_samples": pl.Int64, "efficiency": pl.Float64, "pace": pl.Float64,
    "concurrent": pl.Boolean,
    "not_judged": pl.String,  # measured without a capability its case needs: why
}
SAMPLES = ("samples_s", "samples_of")
IDENTITY = ("id", "component", "case", "schema", "key")
_RESERVED = {*IDENTITY, *MEASURES, *SAMPLES, "status", "target", "sustained_critical"}
_NAME = re.compile(r"^(?:test_?)?(?P<case>[^\[]*)")


@dataclass
class Cells:
    """The frame (built once) plus what does not fit a flat row."""

    frame: pl.DataFrame
    axes: list[str]
    rounds: dict[str, list[float]] = field(default_factory=dict)
    series: dict[str, dict[str, list[float]]] = field(default_factory=dict)
    failed: list[dict[str, Any]] = field(default_factory=list)


_NUMBER = (int, float)
_SCALAR = (str, int, float, bool, type(None))


def _num(value: Any) -> float | None:
    """A number (not a bool) or None; NaN and inf pass through and are nulled on output."""
    return value if type(value) in _NUMBER else None


def _scalar(value: Any) -> Any:
    return value if type(value) in _SCALAR else str(value)


def _plain_identity(bench: dict[str, Any]) -> tuple[str, str, str, dict[str, Any]]:
    """component, case, schema and axes of a benchmark written without the k2 plugin."""
    name = str(bench.get("name", ""))
    fullname = str(bench.get("fullname") or "")
    module = ""
    if "::" in fullname:
        module = fullname.split("::", 1)[0].rsplit("/", 1)[-1].removesuffix(".py")
    component = str(bench.get("group") or module.removeprefix("test_") or "benchmark")
    m = _NAME.match(name)
    case = (m.group("case") if m else "") or name
    params = bench.get("params") or {}
    axes = {str(k): _scalar(v) for k, v in params.items()} if isinstance(params, dict) else {}
    if not axes and bench.get("param") is not None:
        axes = {"param": _scalar(bench["param"])}
    schema = str(axes.pop("schema", "") or "")
    return component, case, schema, axes


_CELL_SKIP = frozenset({"id", "component", "case", "schema", "seed", "slow", "exclusive",
                        "settings", "not_countable"})
_ROW = (*IDENTITY, *MEASURES)  # the order of the tuple _row returns


def _row(bench: dict[str, Any], use_fullname: bool
         ) -> tuple[tuple[Any, ...], dict[str, Any], dict[str, Any]]:
    """(the row in _ROW order, the axes, extra_info) of one benchmark entry."""
    extra = bench.get("extra_info")
    if type(extra) is not dict:
        extra = {}
    k2 = extra.get("k2")
    cell = k2.get("cell") if type(k2) is dict else None
    if type(cell) is dict and "id" in cell:
        cell_id = str(cell["id"])
        component, case = str(cell.get("component", "")), str(cell.get("case", ""))
        schema = str(cell.get("schema") or "")
        axes = {k: _scalar(v) for k, v in cell.items() if k not in _CELL_SKIP}
    else:
        cell_id = str(bench.get("fullname") if use_fullname else bench.get("name"))
        component, case, schema, axes = _plain_identity(bench)
    stats = bench["stats"]
    median = float(stats["median"])
    view = figures.entry_view(bench)

    def figure(name: str) -> float | None:
        return figures.value(name, view)

    items = figure("items")
    throughput = figure("throughput")
    if throughput is None and median > 0:  # a call per round when no items are recorded
        throughput = figures.throughput_of(items if items is not None else 1.0, median,
                                           view["clock"])
    unit = extra.get("unit") or ("items/s" if items is not None else "ops/s")
    q1, q3, iqr = _num(stats.get("q1")), _num(stats.get("q3")), _num(stats.get("iqr"))
    if iqr is None and q1 is not None and q3 is not None:
        iqr = q3 - q1
    raw_rounds = stats.get("rounds")
    rounds = raw_rounds if type(raw_rounds) is int else None
    kind, samples = meaning(component, extra, rounds)
    pace = _num(extra.get("paced_rate")) or _num(extra.get("offered_rate"))
    row = (cell_id, component, case, schema, f"{component}.{case}", median, iqr, q1, q3,
           _num(stats.get("mean")), _num(stats.get("min")), _num(stats.get("max")),
           rounds, items, throughput, str(unit),
           *(figure(f"{prefix(kind)}_{p}_ms") for p in ("p50", "p90", "p99", "p999", "p9999",
                                                   "max")),
           kind, samples, figure("efficiency"), pace,
           k2.get("concurrent") is True if type(k2) is dict else False,
           str(extra["not_judged"]) if extra.get("not_judged") else None)
    return row, axes, extra


def _samples(bench: dict[str, Any]) -> tuple[list[float] | None, str | None]:
    """What a bootstrap resamples for this cell: its trial medians (two trials or more),
    else its recorded rounds; (None, None) without either."""
    trials = entry_trials(bench)
    if len(trials) >= 2:
        return trials, "trials"
    data = bench["stats"].get("data")
    if type(data) is list and data and all(type(v) in _NUMBER for v in data):
        return [float(v) for v in data], "rounds"
    return None, None


def build_cells(run: Run) -> Cells:
    """Flatten ``run`` into one frame; columns are the identity, the axes, then MEASURES."""
    names = [str(b.get("name", "")) for b in run.benchmarks]
    use_fullname = len(set(names)) < len(names)
    rows: list[tuple[Any, ...]] = []
    axis_rows: list[dict[str, Any]] = []
    axis_names: dict[str, None] = {}
    rounds: dict[str, list[float]] = {}
    series: dict[str, dict[str, list[float]]] = {}
    seen: dict[str, int] = {}
    resampled: list[list[float] | None] = []
    sources: list[str | None] = []
    for bench in run.benchmarks:
        row, axes, extra = _row(bench, use_fullname)
        if row[0] in seen:  # two benchmarks of one cell: keep both, ids stay unique
            seen[row[0]] += 1
            row = (f"{row[0]}~{seen[row[0]]}", *row[1:])
        else:
            seen[row[0]] = 1
        rows.append(row)
        values, source = _samples(bench)
        resampled.append(values)
        sources.append(source)
        axis_rows.append(axes)
        axis_names.update(dict.fromkeys(axes))
        data = bench["stats"].get("data")
        if type(data) is list and data:
            rounds[row[0]] = data  # checked where used (compare)
        raw_series = extra.get("series")
        if isinstance(raw_series, dict):
            kept = {str(k): [float(x) for x in v if _num(x) is not None]
                    for k, v in raw_series.items() if isinstance(v, list)}
            if kept:
                series[row[0]] = kept
    columns = list(zip(*rows, strict=True)) if rows else [() for _ in _ROW]
    by_name = dict(zip(_ROW, columns, strict=True))
    data_cols: dict[str, pl.Series] = {}
    for col in IDENTITY:
        data_cols[col] = pl.Series(col, by_name[col], dtype=pl.String)
    axis_cols: list[str] = []
    for name in axis_names:
        col = f"param_{name}" if name in _RESERVED else name
        axis_cols.append(col)
        data_cols[col] = _axis_series(col, [a.get(name) for a in axis_rows])
    for col, dtype in MEASURES.items():
        data_cols[col] = pl.Series(col, by_name[col], dtype=dtype, strict=False)
    data_cols["samples_s"] = pl.Series("samples_s", resampled, dtype=pl.List(pl.Float64))
    data_cols["samples_of"] = pl.Series("samples_of", sources, dtype=pl.String)
    frame = pl.DataFrame(data_cols)
    return Cells(frame=frame, axes=axis_cols, rounds=rounds, series=series,
                 failed=run.failed)


def _axis_series(name: str, values: list[Any]) -> pl.Series:
    """An axis column in its natural type; text when the values mix types."""
    kinds = {type(v) for v in values if v is not None}
    if kinds <= {int} or kinds <= {float} or kinds <= {str} or kinds <= {bool}:
        return pl.Series(name, values)
    if kinds <= {int, float}:
        return pl.Series(name, values, dtype=pl.Float64)
    return pl.Series(name, [None if v is None else str(v) for v in values], dtype=pl.String)
