"""Every figure a cell records, declared once, and the one way to read it.

A figure has a name (its key in a benchmark's ``extra_info``, or ``median_s`` for the
median round of ``stats``), a unit, a kind (time, rate, ratio, latency, count, counter),
a better direction, how two runs compare on it, the noise model that tells how far it moves
by chance, and the clocks it is valid under (``--clock wall|cpu`` time rounds;
``--clock instructions`` counts them, so the time-derived figures are absent there).

Readers take a *view*: one flat mapping of figure names to recorded values, built from a
benchmark entry (:func:`entry_view`) or from each of its trials (:func:`trial_views`), with
the view's ``clock``. :func:`value` checks the recorded value once (a number, not a bool;
None when absent or when the figure is not valid under the view's clock), derives the
derived figures (``relative``, ``median_ms``, ``per_item_us``, a missing ``throughput``)
and reads counters (``counters`` in the view). :func:`positive` is the same, only for
figures above zero (what a comparison can take the log of).

Counters (:mod:`k2matrix.counters`) have names ``area.what``; :func:`counter` declares one
on demand: unit ``bytes`` when the last word ends in ``bytes``, else a count; lower is
better; compared exactly or beyond their A/A spread under every clock.
"""

from __future__ import annotations

import math
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any

from k2matrix.errors import ResultsError
from k2matrix.options import CLOCKS
from k2matrix.stats import efficiency, median, throughput

WALL, CPU, INSTRUCTIONS = CLOCKS
TIMED = frozenset({WALL, CPU})
ANY_CLOCK = frozenset(CLOCKS)

LOG_T = "log-ratio t over trials"
BY_SPREAD = "beyond the larger of threshold and A/A spread"
EXACT_OR_SPREAD = "exact: any change; else beyond the larger of threshold and A/A spread"
NOT_COMPARED = "not compared"
SIGMA = "A/A sigma of the log ratio of paired trial figures"
SPREAD = "A/A spread: (max - min) / median over fresh processes"

COUNTER = "counter"
CONSTANTS = ("items", "unit", "compare_on")  # workload facts every trial of an entry shares


@dataclass(frozen=True)
class Figure:
    """One declared figure."""

    name: str
    unit: str
    kind: str  # time, rate, ratio, latency, count, counter
    better: str  # lower, higher, or none (a workload size)
    compared: str  # LOG_T, BY_SPREAD, EXACT_OR_SPREAD or NOT_COMPARED
    noise: str  # SIGMA, SPREAD, or "none"
    clocks: frozenset[str]
    description: str

    def valid_under(self, clock: str) -> bool:
        return clock in self.clocks


def _latency(name: str, what: str) -> Figure:
    return Figure(f"latency_{name}_ms", "ms", "latency", "lower", LOG_T, SIGMA, TIMED,
                  f"{what} of the per-item latencies (a paced cell's compare_on)")


FIGURES: dict[str, Figure] = {f.name: f for f in (
    Figure("median_s", "s", "time", "lower", LOG_T, SIGMA, TIMED,
           "the median round time (stats.median; a trial's median of its rounds)"),
    Figure("instructions", "instructions", "count", "lower", BY_SPREAD, SPREAD,
           frozenset({INSTRUCTIONS}), "the median instruction count of the rounds"),
    Figure("throughput", "items/s", "rate", "higher", NOT_COMPARED, "none", TIMED,
           "items over the median round (recorded, else derived)"),
    Figure("ceiling_throughput", "items/s", "rate", "higher", NOT_COMPARED, "none", TIMED,
           "the in-run reference's throughput: throughput / efficiency"),
    Figure("efficiency", "ratio", "ratio", "higher", NOT_COMPARED, "none", TIMED,
           "median over rounds of reference round / cell round"),
    Figure("iceberg_vs_parquet", "ratio", "ratio", "lower", NOT_COMPARED, "none", TIMED,
           "iceberg_scan time over read_parquet time, round by round"),
    Figure("relative", "ratio", "ratio", "lower", LOG_T, SIGMA, TIMED,
           "time relative to the in-run reference: 1 / efficiency, or iceberg_vs_parquet"),
    Figure("median_ms", "ms", "time", "lower", NOT_COMPARED, "none", TIMED,
           "median_s in milliseconds (targets, properties)"),
    Figure("per_item_us", "us", "time", "lower", NOT_COMPARED, "none", TIMED,
           "median_s per item in microseconds (properties)"),
    _latency("p50", "the median"), _latency("p90", "the 90th percentile"),
    _latency("p99", "the 99th percentile"), _latency("p999", "the 99.9th percentile"),
    _latency("max", "the largest"), _latency("mean", "the mean"),
    Figure("items", "items", "count", "none", NOT_COMPARED, "none", ANY_CLOCK,
           "the items one round handles (a workload size)"),
)}
# the names properties and targets use for figures
ALIASES = {"p99_ms": "latency_p99_ms"}


def counter(name: str) -> Figure:
    """The declaration of counter ``name`` (``area.what``)."""
    unit = "bytes" if name.rsplit(".", 1)[-1].endswith("bytes") else "count"
    return Figure(name, unit, COUNTER, "lower", EXACT_OR_SPREAD, SPREAD, ANY_CLOCK,
                  "a counter's mean per round (extra_info.counters)")


def figure(name: str | Figure) -> Figure:
    """The declaration of ``name`` (an alias, a declared figure or a counter)."""
    if isinstance(name, Figure):
        return name
    name = ALIASES.get(name, name)
    found = FIGURES.get(name)
    if found is not None:
        return found
    if "." in name:
        return counter(name)
    if name.endswith("_ms"):  # another time a cell records in extra_info (exec_ms, ...)
        return Figure(name, "ms", "time", "lower", LOG_T, SIGMA, TIMED,
                      "a time in milliseconds the cell records")
    raise KeyError(f"{name!r}: not a declared figure (one of {', '.join(FIGURES)}, or a "
                   "counter named area.what)")


def number(raw: Any) -> float | None:
    """A recorded number (int or float, not a bool) as a float, else None; NaN and inf pass."""
    return float(raw) if type(raw) in (int, float) else None


def check_clock(raw: Any, where: str) -> str:
    """A recorded clock, ``wall`` when absent; ResultsError naming ``where`` when unknown."""
    if raw is None:
        return WALL
    if raw not in CLOCKS:
        raise ResultsError(f"{where}: clock = {raw!r}: must be one of {', '.join(CLOCKS)}; "
                           "the file is damaged or from a newer k2matrix")
    return str(raw)


def clock_of(source: Mapping[str, Any]) -> str:
    """The clock of a view, a trial entry, an ``extra_info`` or a benchmark entry (``wall``
    when none is recorded: runs before the clock was recorded)."""
    raw = source.get("clock")
    if raw is None:
        extra = source.get("extra_info")
        info = extra if isinstance(extra, dict) else source
        k2 = info.get("k2")
        raw = k2.get("clock") if isinstance(k2, dict) else None
    return str(raw) if raw in CLOCKS else WALL


def round_figure(clock: str) -> str:
    """The figure a round's stats hold under ``clock``: seconds, or an instruction count."""
    return "instructions" if clock == INSTRUCTIONS else "median_s"


def throughput_of(items: Any, median_s: float | None, clock: str = WALL) -> float | None:
    """Items per second of the median round; None without items or time, or under a clock
    that does not time."""
    count = number(items)
    if count is None or median_s is None or clock not in TIMED:
        return None
    return throughput(count, median_s)


def derive(info: Mapping[str, Any], median_s: float, clock: str = WALL) -> dict[str, float]:
    """What a cell's ``extra_info`` lacks of its rates: ``throughput`` (items over the
    median round) and ``efficiency`` (throughput over ``ceiling_throughput``); none under a
    clock that does not time. The plugin records a cell with ``info.update(derive(...))``."""
    out: dict[str, float] = {}
    if clock not in TIMED:
        return out
    if "items" in info and "throughput" not in info and median_s > 0:
        out["throughput"] = throughput(float(info["items"]), median_s)
    rate = info.get("throughput", out.get("throughput"))
    if rate is not None and info.get("ceiling_throughput") and "efficiency" not in info:
        ratio = efficiency(float(rate), float(info["ceiling_throughput"]))
        if ratio is not None:
            out["efficiency"] = ratio
    return out


def _relative(view: Mapping[str, Any]) -> float | None:
    ratio = number(view.get("efficiency"))
    if ratio is not None and ratio > 0:
        return 1.0 / ratio
    ratio = number(view.get("iceberg_vs_parquet"))
    return ratio if ratio is not None and ratio > 0 else None


def _throughput(view: Mapping[str, Any]) -> float | None:
    recorded = number(view.get("throughput"))
    if recorded is not None:
        return recorded
    seconds, items = number(view.get("median_s")), number(view.get("items"))
    return items / seconds if seconds and items else None


def _median_ms(view: Mapping[str, Any]) -> float | None:
    seconds = number(view.get("median_s"))
    return seconds * 1e3 if seconds else None


def _per_item_us(view: Mapping[str, Any]) -> float | None:
    seconds, items = number(view.get("median_s")), number(view.get("items"))
    return seconds / items * 1e6 if seconds and items else None


_DERIVED: dict[str, Callable[[Mapping[str, Any]], float | None]] = {
    "relative": _relative, "throughput": _throughput, "median_ms": _median_ms,
    "per_item_us": _per_item_us,
}


def value(name: str | Figure, view: Mapping[str, Any]) -> float | None:
    """Figure ``name`` in ``view`` (see the module docstring), or None."""
    fig = figure(name)
    if not fig.valid_under(clock_of(view)):
        return None
    if fig.kind == COUNTER:
        counters = view.get("counters")
        return number(counters.get(fig.name)) if isinstance(counters, dict) else None
    derived = _DERIVED.get(fig.name)
    return derived(view) if derived is not None else number(view.get(fig.name))


def positive(name: str | Figure, view: Mapping[str, Any]) -> float | None:
    """:func:`value` when it is a number above zero (NaN is not), else None."""
    found = value(name, view)
    return found if found is not None and found > 0 and not math.isnan(found) else None


def _stats_median(stats: Any) -> float | None:
    if not isinstance(stats, dict):
        return None
    found = number(stats.get("median"))
    data = stats.get("data")
    if found is None and isinstance(data, list) and data:
        numbers = [float(v) for v in data if number(v) is not None]
        found = median(numbers) if numbers else None
    return found


def _rounds_median(trial: Mapping[str, Any]) -> float | None:
    found = number(trial.get("median"))
    rounds = trial.get("rounds")
    if found is None and isinstance(rounds, list):
        numbers = [float(v) for v in rounds if number(v) is not None]
        found = median(numbers) if numbers else None
    return found


def entry_view(bench: Mapping[str, Any]) -> dict[str, Any]:
    """The view of a whole benchmark entry: its ``extra_info``, its clock and the median of
    its rounds as ``median_s`` (under instructions: as ``instructions`` where the entry
    lacks it)."""
    extra = bench.get("extra_info")
    info: dict[str, Any] = dict(extra) if isinstance(extra, dict) else {}
    clock = clock_of(info)
    found = _stats_median(bench.get("stats"))
    name = round_figure(clock)
    if name not in info or number(info.get(name)) is None:
        info[name] = found
    info["clock"] = clock
    return info


def trial_views(bench: Mapping[str, Any]) -> list[dict[str, Any]]:
    """One view per trial of a folded benchmark (``extra_info.k2.trials``: each trial's own
    figures, the entry's workload constants, the trial's median round), else the entry's
    own view as its one trial."""
    extra = bench.get("extra_info")
    k2 = extra.get("k2") if isinstance(extra, dict) else None
    trials = k2.get("trials") if isinstance(k2, dict) else None
    if not (isinstance(trials, list) and trials):
        return [entry_view(bench)]
    assert isinstance(extra, dict)
    shared = {key: extra[key] for key in CONSTANTS if key in extra}
    clock = clock_of(extra)
    out = []
    for trial in trials:
        if not isinstance(trial, dict):
            out.append({**shared, "clock": clock})
            continue
        view = {**shared, **trial}
        view["clock"] = clock_of(trial) if "clock" in trial else clock
        name = round_figure(view["clock"])
        if number(view.get(name)) is None:
            view[name] = _rounds_median(trial)
        out.append(view)
    return out


def every(name: str | Figure, views: list[dict[str, Any]]) -> list[float] | None:
    """The positive figure in every view; None unless every view has one."""
    found = [positive(name, v) for v in views]
    present = [v for v in found if v is not None]
    return present if present and len(present) == len(found) else None


def table() -> list[dict[str, str]]:
    """The declared figures as rows (name, unit, kind, better, compared, noise, clocks)."""
    return [{"name": f.name, "unit": f.unit, "kind": f.kind, "better": f.better,
             "compared": f.compared, "noise": f.noise,
             "clocks": ", ".join(c for c in CLOCKS if c in f.clocks)}
            for f in (*FIGURES.values(), counter("area.what"))]
