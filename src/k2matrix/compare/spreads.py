"""The A/A spreads of counted figures: per cell its instruction count (runs of the
instructions clock) and each of its counters (every clock), over the A/A's fresh processes
(the trials of both sides pooled: the code is the same), and which counters were exact.

They are kept in a :class:`~k2matrix.compare.statistics.NoiseModel` with a ``spread``,
keyed beside the time models: ``id@instructions`` and ``id@counter:NAME``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from k2matrix.compare.counts import spread
from k2matrix.compare.statistics import NoiseModel
from k2matrix.compare.trial_figures import INSTRUCTIONS, run_clock, run_counters, trial_values
from k2matrix.results.load import Run

INSTRUCTIONS_KEY = f"@{INSTRUCTIONS}"
COUNTER_KEY = "@counter:"


def counter_key(cell_id: str, name: str) -> str:
    return f"{cell_id}{COUNTER_KEY}{name}"


def pooled(sides: Sequence[Mapping[str, list[float]]]) -> dict[str, list[float]]:
    """Each key's figures over every side that has it."""
    out: dict[str, list[float]] = {}
    for side in sides:
        for key, values in side.items():
            out.setdefault(key, []).extend(values)
    return out


def measure_spreads(sides: Sequence[Run], source: str = "measured"
                    ) -> dict[str, NoiseModel]:
    """The spread models of an A/A's sides: ``id@instructions`` when the runs counted
    instructions, ``id@counter:NAME`` for every counter a cell recorded (a cell needs two
    figures in all)."""
    out: dict[str, NoiseModel] = {}
    if sides and all(run_clock(run) == INSTRUCTIONS for run in sides):
        for cid, values in pooled([trial_values(run) for run in sides]).items():
            found = spread(values)
            if found is not None:
                out[cid + INSTRUCTIONS_KEY] = NoiseModel(0.0, len(values), source, found)
    by_side = [run_counters(run) for run in sides]
    cells = {cid for side in by_side for cid in side}
    for cid in sorted(cells):
        for name, values in sorted(pooled([side.get(cid, {}) for side in by_side]).items()):
            found = spread(values)
            if found is not None:
                out[counter_key(cid, name)] = NoiseModel(0.0, len(values), source, found)
    return out


def exact_counters(spreads: Mapping[str, float | None]) -> dict[str, Any]:
    """Which counters were exact (spread 0), from ``id@counter:NAME`` -> spread:
    ``{"cells": {id: [names]}, "everywhere": [names exact in every cell that recorded
    them], "noisy": {name: cells where it was not}}``."""
    cells: dict[str, list[str]] = {}
    exact: dict[str, int] = {}
    noisy: dict[str, int] = {}
    for key, found in sorted(spreads.items()):
        cid, sep, name = key.partition(COUNTER_KEY)
        if not sep:
            continue
        if found == 0.0:
            cells.setdefault(cid, []).append(name)
            exact[name] = exact.get(name, 0) + 1
        else:
            noisy[name] = noisy.get(name, 0) + 1
    return {"cells": cells, "everywhere": sorted(n for n in exact if n not in noisy),
            "noisy": dict(sorted(noisy.items()))}
