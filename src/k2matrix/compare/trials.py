"""A run's trials, cell by cell: the figure each trial contributes to a comparison.

Two metrics:

- ``time`` (the default): the median of the trial's rounds, in seconds;
- ``relative``: the cell's time relative to its in-run reference, the median over rounds of
  cell round / the reference round run just before it (``1 / efficiency`` for the producer
  and writer cells, ``iceberg_vs_parquet`` for the iceberg_scan query cells). Slowdowns of
  the machine that last longer than a pair of rounds cancel in it: here a cell's round time
  moves 2x within one process from one second to the next (another tenant on the core's
  sibling), its ratio to the reference about 10%. What slows the reference as much as the
  cell (a change in a library both use) cancels too: ``time`` still sees that.

A benchmark folded from trials (``extra_info.k2.trials``, :mod:`k2matrix.results.trials`)
gives one figure per trial; any other entry (a run of one trial, a plain pytest-benchmark
file) is one trial, read from ``stats`` and ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from k2matrix.results.load import Run
from k2matrix.stats import median

TIME, RELATIVE = "time", "relative"
METRICS = (TIME, RELATIVE)


def relative(figures: Mapping[str, Any]) -> float | None:
    """A trial's (or an entry's ``extra_info``) time relative to its in-run reference, or
    None when it has none."""
    efficiency = figures.get("efficiency")
    if isinstance(efficiency, int | float) and efficiency > 0:
        return 1.0 / float(efficiency)
    ratio = figures.get("iceberg_vs_parquet")
    if isinstance(ratio, int | float) and ratio > 0:
        return float(ratio)
    return None


def _per_trial(bench: Mapping[str, Any], pick: Callable[[Mapping[str, Any]], float | None]
               ) -> list[float] | None:
    """``pick`` of each trial of one entry (of its ``extra_info`` for a run of one trial);
    None unless every trial has one."""
    extra = bench.get("extra_info")
    if not isinstance(extra, dict):
        return None
    k2 = extra.get("k2")
    trials = k2.get("trials") if isinstance(k2, dict) else None
    if isinstance(trials, list) and trials:
        values = [pick(t) if isinstance(t, dict) else None for t in trials]
        present = [v for v in values if v is not None]
        return present if len(present) == len(values) else None
    one = pick(extra)
    return None if one is None else [one]


def entry_relative(bench: Mapping[str, Any]) -> list[float] | None:
    """The trials' relative times of one entry; None unless every trial has one."""
    return _per_trial(bench, relative)


def entry_figure(bench: Mapping[str, Any]) -> tuple[str, list[float]] | None:
    """The figure a cell is compared on when it is not its round time (``extra_info``
    ``compare_on``, for example ``latency_p99_ms`` for a paced cell, whose round time the
    pace fixes), and its value in each trial; None for a cell compared on time."""
    extra = bench.get("extra_info")
    key = extra.get("compare_on") if isinstance(extra, dict) else None
    if not isinstance(key, str):
        return None

    def pick(figures: Mapping[str, Any]) -> float | None:
        value = figures.get(key)
        return float(value) if isinstance(value, int | float) and value > 0 else None

    values = _per_trial(bench, pick)
    return None if values is None else (key, values)


def entry_trials(bench: Mapping[str, Any]) -> list[float]:
    """The trial medians of one benchmark entry (seconds)."""
    extra = bench.get("extra_info")
    k2 = extra.get("k2") if isinstance(extra, dict) else None
    trials = k2.get("trials") if isinstance(k2, dict) else None
    if isinstance(trials, list) and trials:
        out = []
        for t in trials:
            if not isinstance(t, dict):
                continue
            value = t.get("median")
            rounds = t.get("rounds")
            if value is None and isinstance(rounds, list):
                numbers = [float(v) for v in rounds if isinstance(v, int | float)]
                value = median(numbers) if numbers else None
            if isinstance(value, int | float) and value > 0:
                out.append(float(value))
        return out
    stats = bench.get("stats")
    if not isinstance(stats, dict):
        return []
    value = stats.get("median")
    data = stats.get("data")
    if not isinstance(value, int | float) and isinstance(data, list) and data:
        value = median(float(v) for v in data if isinstance(v, int | float))
    return [float(value)] if isinstance(value, int | float) and value > 0 else []


def run_trials(run: Run, metric: str = TIME) -> dict[str, list[float]]:
    """Cell id -> its trial figures in ``metric`` (``relative`` leaves out the cells without
    an in-run reference: see :func:`run_relative`; ``time`` takes a cell's ``compare_on``
    figure where it names one: :func:`entry_figure`), for every benchmark of ``run`` (a
    second benchmark of one id is kept as ``id~2``, as the summary names it)."""
    if metric == RELATIVE:
        return {k: v for k, v in run_relative(run).items() if v is not None}
    out = {}
    for key, bench in _keyed(run):
        figure = entry_figure(bench)
        out[key] = figure[1] if figure is not None else entry_trials(bench)
    return out


def run_times(run: Run) -> dict[str, list[float]]:
    """Cell id -> its trial medians of round time (seconds), whatever it is compared on."""
    return {key: entry_trials(bench) for key, bench in _keyed(run)}


def run_figures(run: Run) -> dict[str, str]:
    """Cell id -> the figure it is compared on, for the cells not compared on time."""
    return {key: figure[0] for key, bench in _keyed(run)
            if (figure := entry_figure(bench)) is not None}


def run_relative(run: Run) -> dict[str, list[float] | None]:
    """Cell id -> its trials' relative times, None for a cell without a reference."""
    return {key: entry_relative(bench) for key, bench in _keyed(run)}


def _keyed(run: Run) -> list[tuple[str, Mapping[str, Any]]]:
    out: list[tuple[str, Mapping[str, Any]]] = []
    seen: dict[str, int] = {}
    for cell_id, bench in zip(run.cell_ids(), run.benchmarks, strict=True):
        seen[cell_id] = seen.get(cell_id, 0) + 1
        out.append((cell_id if seen[cell_id] == 1 else f"{cell_id}~{seen[cell_id]}", bench))
    return out


def trial_count(trials: Mapping[str, list[float]]) -> int:
    """The most trials any cell of a run has."""
    return max((len(v) for v in trials.values()), default=0)
