"""The statistics of a comparison: one cell, baseline trials against candidate trials.

The unit that varies is the trial (a fresh process), not the round: rounds in one process
share its machine state, so a test over pooled rounds of two runs calls an A/A significant
(docs/measurements.md). Each trial contributes one figure, the median of its rounds, and the
comparison works on the logarithm of those figures:

- ``change``: the ratio of the medians of the trial medians, minus 1 (+0.10 = 10% slower);
- the confidence interval of the ratio: Student's t on the log trial medians, paired when
  trial *i* of each side ran side by side (``k2matrix ab``), Welch's otherwise. With 5
  trials a rank-based or bootstrap interval at 99% cannot exclude zero at all (the smallest
  two-sided sign-test p-value for 5 pairs is 1/16); t uses the spread of the trials, so an
  outlying trial widens the interval instead of passing unnoticed;
- ``noise_floor``: the smallest change this cell can resolve here at this many trials,
  measured by an A/A (:mod:`.noise`) when one is known, else the half-width of this
  comparison's own interval;
- ``verdict``: ``regression`` when the interval lies above zero and the change exceeds both
  the threshold and the noise floor; ``improvement`` the mirror; ``unchanged`` when the
  interval lies within plus or minus the threshold; ``inconclusive`` otherwise. With one
  trial on a side the between-trial variance is unknown: only a measured noise floor can
  decide, otherwise the answer is ``inconclusive``, never significant.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from typing import Any

REGRESSION, IMPROVEMENT, UNCHANGED, INCONCLUSIVE = (
    "regression", "improvement", "unchanged", "inconclusive")
VERDICTS = (REGRESSION, IMPROVEMENT, UNCHANGED, INCONCLUSIVE)
DEFAULT_THRESHOLD = 0.05
DEFAULT_CONFIDENCE = 0.99


@dataclass(frozen=True)
class NoiseModel:
    """A cell's between-trial noise measured by an A/A: the standard deviation of the log
    ratio of paired trial medians (``sigma``) from ``trials`` pairs; for a counted figure
    (instructions, a counter) its ``spread`` over the A/A's ``trials`` processes instead
    (:mod:`.counts`; ``sigma`` 0)."""

    sigma: float
    trials: int
    source: str = "measured"
    spread: float | None = None  # a counted figure's A/A spread, (max - min) / median

    def floor(self, trials: int, confidence: float) -> float:
        """The smallest change a comparison with ``trials`` trials a side resolves at
        ``confidence``: the half-width of its interval, t with the A/A's degrees of freedom
        (one trial a side: the prediction interval of a single pair). A pair's sigma holds
        both sides' variance, so the same floor serves an unpaired comparison of equal
        counts."""
        df = max(1, self.trials - 1)
        return math.expm1(_t(confidence, df) * self.sigma / math.sqrt(max(1, trials)))


@dataclass(frozen=True)
class Comparison:
    """One cell's comparison, as ``compare`` and ``ab`` report it."""

    id: str
    change: float | None
    ci_low: float | None
    ci_high: float | None
    noise_floor: float | None
    verdict: str
    baseline_median_s: float | None
    candidate_median_s: float | None
    trials_baseline: int
    trials_candidate: int
    paired: bool
    noise_floor_source: str | None
    reason: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _t(confidence: float, df: float) -> float:
    from scipy.stats import t as student_t  # slow to import: only when comparing

    return float(student_t.ppf(0.5 + confidence / 2.0, df))


def _median(values: Sequence[float]) -> float:
    ordered = sorted(values)
    n = len(ordered)
    mid = n // 2
    return ordered[mid] if n % 2 else (ordered[mid - 1] + ordered[mid]) / 2.0


def _mean_var(values: Sequence[float]) -> tuple[float, float]:
    n = len(values)
    mean = math.fsum(values) / n
    var = math.fsum((v - mean) ** 2 for v in values) / (n - 1) if n > 1 else 0.0
    return mean, var


def log_interval(base: Sequence[float], cand: Sequence[float], paired: bool,
                 confidence: float) -> tuple[float, float, float] | None:
    """(centre, low, high) of the log ratio candidate/baseline of trial medians, or None
    when a side has fewer than two trials (no between-trial variance)."""
    if len(base) < 2 or len(cand) < 2:
        return None
    a = [math.log(v) for v in base]
    b = [math.log(v) for v in cand]
    if paired:
        if len(a) != len(b):
            raise ValueError(f"paired trials need equal counts, got {len(a)} and {len(b)}")
        centre, var = _mean_var([y - x for x, y in zip(a, b, strict=True)])
        se, df = math.sqrt(var / len(a)), len(a) - 1.0
    else:
        mean_a, var_a = _mean_var(a)
        mean_b, var_b = _mean_var(b)
        centre = mean_b - mean_a
        va, vb = var_a / len(a), var_b / len(b)
        se = math.sqrt(va + vb)
        # Welch-Satterthwaite degrees of freedom (the smaller side's when both are exact)
        df = ((va + vb) ** 2 / (va ** 2 / (len(a) - 1) + vb ** 2 / (len(b) - 1))
              if va + vb > 0 else float(min(len(a), len(b)) - 1))
    half = _t(confidence, df) * se
    return centre, centre - half, centre + half


def compare_trials(cell_id: str, base: Sequence[float], cand: Sequence[float], *,
                   paired: bool = False, confidence: float = DEFAULT_CONFIDENCE,
                   threshold: float = DEFAULT_THRESHOLD, noise: NoiseModel | None = None
                   ) -> Comparison:
    """Compare one cell: ``base`` and ``cand`` are its trial medians (seconds, one per
    trial). See the module docstring for the rule."""
    _check(confidence, threshold)
    base = [float(v) for v in base if v is not None and float(v) > 0]
    cand = [float(v) for v in cand if v is not None and float(v) > 0]
    if paired and len(base) != len(cand):
        paired = False  # a side lost a trial: compare unpaired rather than drop data
    if not base or not cand:
        return _result(cell_id, base, cand, None, None, None, None, INCONCLUSIVE, paired,
                       None, "no timing on one side")
    change = _median(cand) / _median(base) - 1.0
    trials = min(len(base), len(cand))
    interval = log_interval(base, cand, paired, confidence)
    measured_floor = noise.floor(trials, confidence) if noise is not None else None
    if interval is None:
        if measured_floor is None:
            return _result(cell_id, base, cand, change, None, None, None, INCONCLUSIVE,
                           paired, None, "one trial a side and no measured noise floor: the "
                           "between-trial variance is unknown (run with --trials 3 or more, "
                           "or measure it with k2matrix noise)")
        centre = math.log1p(change)
        half = math.log1p(measured_floor)
        low, high = math.expm1(centre - half), math.expm1(centre + half)
        floor, source = measured_floor, noise.source if noise else None
    else:
        centre, lo, hi = interval
        low, high = math.expm1(lo), math.expm1(hi)
        own = math.expm1((hi - lo) / 2.0)
        if measured_floor is not None and measured_floor >= own:
            floor, source = measured_floor, noise.source if noise else None
        else:  # this comparison's trials are noisier than the A/A said: trust them
            floor, source = own, "this comparison"
    verdict, reason = decide(change, low, high, floor, threshold)
    return _result(cell_id, base, cand, change, low, high, floor, verdict, paired, source,
                   reason)


def decide(change: float, low: float, high: float, floor: float, threshold: float
           ) -> tuple[str, str]:
    """The verdict and its reason from the change, its interval and the noise floor."""
    gate = max(threshold, floor)
    if low > 0 and change > gate:
        return REGRESSION, (f"slower: interval above 0 and change beyond "
                            f"{'the noise floor' if floor > threshold else 'the threshold'}")
    if high < 0 and change < -gate:
        return IMPROVEMENT, (f"faster: interval below 0 and change beyond "
                             f"{'the noise floor' if floor > threshold else 'the threshold'}")
    if -threshold <= low and high <= threshold:
        return UNCHANGED, "the interval lies within the threshold"
    if low > 0 or high < 0:
        return INCONCLUSIVE, "a significant change, but not beyond the threshold and noise floor"
    return INCONCLUSIVE, "the interval is wider than the threshold: more trials would tell"


def overall(verdicts: Sequence[str]) -> str:
    """The comparison's verdict: regression if any cell regressed, else improvement if any
    improved, else unchanged if every cell is unchanged, else inconclusive."""
    if REGRESSION in verdicts:
        return REGRESSION
    if IMPROVEMENT in verdicts:
        return IMPROVEMENT
    if verdicts and all(v == UNCHANGED for v in verdicts):
        return UNCHANGED
    return INCONCLUSIVE


def _check(confidence: float, threshold: float) -> None:
    if not 0.5 <= confidence < 1:
        raise ValueError(f"confidence={confidence!r}: use a probability such as 0.99")
    if not 0 <= threshold < 10:
        raise ValueError(f"threshold={threshold!r}: use a fraction such as 0.05 (5%)")


def _result(cell_id: str, base: Sequence[float], cand: Sequence[float], change: float | None,
            low: float | None, high: float | None, floor: float | None, verdict: str,
            paired: bool, source: str | None, reason: str) -> Comparison:
    return Comparison(
        id=cell_id, change=change, ci_low=low, ci_high=high, noise_floor=floor,
        verdict=verdict, baseline_median_s=_median(base) if base else None,
        candidate_median_s=_median(cand) if cand else None, trials_baseline=len(base),
        trials_candidate=len(cand), paired=paired, noise_floor_source=source, reason=reason)
