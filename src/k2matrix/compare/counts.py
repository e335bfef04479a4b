"""The statistics of a counted comparison: instruction counts and counters, one cell.

Counts do not drift with the machine as times do: an A/A of fresh processes measures how
far a count moves by chance, its *spread*, ``(max - min) / median`` over the processes'
figures (:func:`spread`). Each trial contributes one figure (its median instruction count,
or a counter's mean per round); the comparison is

- ``change``: the median of the candidate's trial figures over the baseline's, minus 1;
- ``spread``: the A/A's (a noise model measured with the same clock), else the larger of
  the two sides' own spreads when each side has two trials or more; with one trial a side
  and no model the spread is unknown and the cell is ``inconclusive``;
- ``verdict``: ``regression`` when the change exceeds the larger of the threshold and the
  spread, ``improvement`` the mirror, else ``unchanged``. A counter whose spread is 0
  (*exact*: the A/A, or each side, counted the same in every process) is a verdict at any
  change (:func:`compare_counts` with ``exact_decides``).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

from k2matrix.compare.statistics import IMPROVEMENT, INCONCLUSIVE, REGRESSION, UNCHANGED
from k2matrix.stats import median


def spread(values: Sequence[float]) -> float | None:
    """``(max - min) / median`` of ``values``: 0 when they are all equal; None with fewer
    than two values, or values that differ around a median of 0 (no relative scale)."""
    if len(values) < 2:
        return None
    low, high = min(values), max(values)
    if low == high:
        return 0.0
    centre = median(values)
    return (high - low) / centre if centre > 0 else None


@dataclass(frozen=True)
class CountComparison:
    """One cell's counted comparison (its instruction count, or one counter)."""

    id: str
    metric: str
    baseline: float | None
    candidate: float | None
    change: float | None
    spread: float | None
    spread_source: str | None
    exact: bool
    threshold: float
    verdict: str
    reason: str
    trials_baseline: int
    trials_candidate: int

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def own_spread(base: Sequence[float], cand: Sequence[float]) -> float | None:
    """The larger of the two sides' spreads; None unless each side has two figures."""
    a, b = spread(base), spread(cand)
    return None if a is None or b is None else max(a, b)


def compare_counts(cell_id: str, metric: str, base: Sequence[float], cand: Sequence[float],
                   *, threshold: float, model: float | None = None,
                   model_source: str | None = None, exact_decides: bool = False
                   ) -> CountComparison:
    """Compare one counted figure of one cell (see the module docstring); ``model`` is the
    A/A spread of this figure, when one was measured with the same clock."""
    base = [float(v) for v in base]
    cand = [float(v) for v in cand]
    b = median(base) if base else None
    c = median(cand) if cand else None

    def result(change: float | None, found: float | None, source: str | None, verdict: str,
               reason: str) -> CountComparison:
        return CountComparison(cell_id, metric, b, c, change, found, source,
                               found == 0.0, threshold, verdict, reason, len(base), len(cand))

    if b is None or c is None:
        return result(None, None, None, INCONCLUSIVE, "no count on one side")
    found, source = ((model, model_source) if model is not None
                     else (own_spread(base, cand), "this comparison"))
    change = c / b - 1.0 if b else (None if c else 0.0)  # from 0 to some: no ratio
    if found is None:
        return result(change, None, None, INCONCLUSIVE,
                      "one trial a side and no A/A spread: how far the count moves by chance "
                      "is unknown (measure it with k2matrix noise, or run --trials 2 or more)")
    if exact_decides and found == 0.0:
        if c == b:
            return result(change, found, source, UNCHANGED, "exact and equal")
        return result(change, found, source, REGRESSION if c > b else IMPROVEMENT,
                      "an exact count moved")
    gate = max(threshold, found)
    beyond = "the spread" if found > threshold else "the threshold"
    if change is None:  # from 0 to some: a count with a spread, no relative scale
        return result(change, found, source, INCONCLUSIVE, "from 0 to some, not exact")
    if change > gate:
        return result(change, found, source, REGRESSION, f"more: change beyond {beyond}")
    if change < -gate:
        return result(change, found, source, IMPROVEMENT, f"fewer: change beyond {beyond}")
    return result(change, found, source, UNCHANGED, f"within {beyond}")
