"""A run's trials, cell by cell: the figure each trial contributes to a comparison (the
median of its rounds, in seconds).

A benchmark folded from trials (``extra_info.k2.trials``, :mod:`k2matrix.results.trials`)
gives one median per trial; any other entry (a run of one trial, a plain pytest-benchmark
file) is one trial, its median read from ``stats``.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k2matrix.results.load import Run
from k2matrix.stats import median


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


def run_trials(run: Run) -> dict[str, list[float]]:
    """Cell id -> its trial medians, for every benchmark of ``run`` (a second benchmark of
    one id is kept as ``id~2``, as the summary names it)."""
    out: dict[str, list[float]] = {}
    seen: dict[str, int] = {}
    for cell_id, bench in zip(run.cell_ids(), run.benchmarks, strict=True):
        seen[cell_id] = seen.get(cell_id, 0) + 1
        key = cell_id if seen[cell_id] == 1 else f"{cell_id}~{seen[cell_id]}"
        out[key] = entry_trials(bench)
    return out


def trial_count(trials: Mapping[str, list[float]]) -> int:
    """The most trials any cell of a run has."""
    return max((len(v) for v in trials.values()), default=0)
