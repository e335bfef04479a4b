"""A run's trials, cell by cell: the figure each trial contributes to a comparison.

Three metrics:

- ``time`` (the default): the median of the trial's rounds, in seconds;
- ``relative``: the cell's time relative to its in-run reference, the median over rounds of
  cell round / the reference round run just before it (``1 / efficiency`` for the producer
  and writer cells, ``iceberg_vs_parquet`` for the iceberg_scan query cells). Slowdowns of
  the machine that last longer than a pair of rounds cancel in it: here a cell's round time
  moves 2x within one process from one second to the next (another tenant on the core's
  sibling), its ratio to the reference about 10%. What slows the reference as much as the
  cell (a change in a library both use) cancels too: ``time`` still sees that.

- ``instructions``: the trial's median instruction count, for runs whose clock is
  ``instructions`` (chosen from the records: :func:`run_clock`).

Besides its metric, every trial records counters (``counters``: per-round means,
:func:`run_counters`). Every figure is read through :mod:`k2matrix.figures`.

A benchmark folded from trials (``extra_info.k2.trials``, :mod:`k2matrix.results.folding`)
gives one figure per trial; any other entry (a run of one trial, a plain pytest-benchmark
file) is one trial, read from ``stats`` and ``extra_info``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k2matrix import figures
from k2matrix.errors import ResultsError
from k2matrix.results.load import Run

TIME, RELATIVE, INSTRUCTIONS = "time", "relative", "instructions"
METRICS = (TIME, RELATIVE)


def relative(view: Mapping[str, Any]) -> float | None:
    """A trial's (or an entry's ``extra_info``) time relative to its in-run reference, or
    None when it has none."""
    return figures.positive("relative", {**view, "clock": figures.clock_of(view)})


def entry_relative(bench: Mapping[str, Any]) -> list[float] | None:
    """The trials' relative times of one entry; None unless every trial has one."""
    return figures.every("relative", figures.trial_views(bench))


def entry_figure(bench: Mapping[str, Any]) -> tuple[str, list[float]] | None:
    """The figure a cell is compared on when it is not its round time (``extra_info``
    ``compare_on``, for example ``latency_p99_ms`` for a paced cell, whose round time the
    pace fixes), and its value in each trial; None for a cell compared on time."""
    extra = bench.get("extra_info")
    key = extra.get("compare_on") if isinstance(extra, dict) else None
    if not isinstance(key, str):
        return None
    try:
        values = figures.every(key, figures.trial_views(bench))
    except KeyError:
        return None
    return None if values is None else (key, values)


def entry_trials(bench: Mapping[str, Any]) -> list[float]:
    """The trial medians of one benchmark entry (seconds; instruction counts under the
    instructions clock)."""
    out = []
    for view in figures.trial_views(bench):
        found = figures.positive(figures.round_figure(view["clock"]), view)
        if found is not None:
            out.append(found)
    return out


def trial_values(run: Run, metric: str = TIME) -> dict[str, list[float]]:
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


def run_counters(run: Run) -> dict[str, dict[str, list[float]]]:
    """Cell id -> counter name -> its per-round mean in each trial (0 in a trial that
    recorded counters but not this one); cells whose trials recorded no counters are left
    out (runs from before counters were recorded)."""
    out: dict[str, dict[str, list[float]]] = {}
    for key, bench in _keyed(run):
        views = figures.trial_views(bench)
        if not all(isinstance(v.get("counters"), dict) for v in views):
            continue
        names = sorted({str(n) for v in views for n in v["counters"]})
        out[key] = {name: [figures.value(name, v) or 0.0 for v in views] for name in names}
    return out


def run_clock(run: Run) -> str:
    """The clock a run was measured with: ``k2.clock``, else its benchmarks' (``wall`` for
    runs that recorded none); ResultsError when its benchmarks disagree."""
    recorded = run.k2.get("clock")
    if recorded is not None:
        return figures.check_clock(recorded, f"{run.source}: k2")
    clocks = {figures.clock_of(bench) for bench in run.benchmarks}
    if len(clocks) > 1:
        raise ResultsError(f"{run.source}: its cells were measured with different clocks "
                           f"({', '.join(sorted(clocks))}); compare runs of one clock")
    return clocks.pop() if clocks else figures.WALL


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
