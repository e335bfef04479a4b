"""Each cell's trials and noise floor for the summary's cell table.

``noise_floor`` is the smallest change a comparison of this cell resolves here: the one a
``k2matrix noise`` run measured (``results/noise-latest``, when it applies to the run), else,
for a run of two or more trials, the one its own trials imply for a comparison with an
equal run (the spread of its log trial medians, times the square root of 2 for the two
sides); none for a run of one trial.
"""

from __future__ import annotations

import math
from collections.abc import Mapping

import polars as pl

from k2matrix.compare.statistics import NoiseModel
from k2matrix.compare.trial_figures import trial_values
from k2matrix.results.load import Run


def _own(medians: list[float]) -> NoiseModel | None:
    if len(medians) < 2:
        return None
    logs = [math.log(m) for m in medians]
    mean = math.fsum(logs) / len(logs)
    sd = math.sqrt(math.fsum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    return NoiseModel(sigma=sd * math.sqrt(2.0), trials=len(logs), source="this run's trials")


def noise_floors(frame: pl.DataFrame, run: Run, measured: Mapping[str, NoiseModel],
                 confidence: float) -> pl.DataFrame:
    """``frame`` with ``trials`` and ``noise_floor`` columns."""
    trials = trial_values(run)
    counts, floors = [], []
    for cell_id in frame["id"].to_list() if frame.height else []:
        medians = trials.get(cell_id, [])
        counts.append(len(medians) or None)
        model = measured.get(cell_id) or _own(medians)
        n = max(1, len(medians))
        floors.append(model.floor(n, confidence) if model is not None else None)
    return frame.with_columns(pl.Series("trials", counts, dtype=pl.Int64),
                              pl.Series("noise_floor", floors, dtype=pl.Float64))
