"""What a property says about measured figures: the metric of a cell, an example's
evaluation (its figure, the limit, how far beyond it: the score ``hypothesis.target()``
maximizes), and the confirmation of a violation over trials.

Every kind is reduced to costs (a time, or 1/throughput: higher is worse), so that
confirming is one comparison by :func:`k2matrix.compare.statistics.compare_trials`, the
comparison of the comparison contract: the candidate's trial costs against the baseline's
scaled by what the property allows —

- ``bound``: the cell's costs against the bound's cost (a side with no variance);
- ``monotonic``: the higher point's costs against the lower's times ``1 + tolerance``;
- ``scaling``: the higher point's against the lower's times ``(x_hi / x_lo) ** max_exponent``;
- ``ratio``: the candidate variant's against the baseline's times ``bound``.

A violation is confirmed when that comparison's verdict is ``regression``: the whole
interval (Student's t over the log trial figures at the confidence) lies beyond what the
property allows, and the change exceeds the noise floor. One slow trial (a contention
spike) widens that interval until it reaches the limit even when every trial lies far
beyond it, so a second criterion stands beside it: with 4 trials or more, the same
comparison over the trials *without the one most beyond the limit* (the slowest, or the
pair with the largest ratio). Dropping that trial can only move the interval toward the
limit, so it is conservative in where it lies, though the remaining trials' spread is
smaller: on lognormal noise exactly at the limit it confirms 0.36% of 5-trial sets, the t
interval 0.5%, either of them 0.6% (simulated, 10^6 sets; tests/unit/test_explore_confirm.py
checks it on synthetic noise). Anything else is unconfirmed.
"""

from __future__ import annotations

import math
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Any

from k2matrix import figures
from k2matrix.compare.statistics import REGRESSION, Comparison, NoiseModel, compare_trials
from k2matrix.matrix.properties import HIGHER_IS_BETTER, Property

_EPS = 1e-9  # rounding in logs and ratios is no violation

__all__ = ["Confirmation", "Evaluation", "confirm", "cost", "evaluate", "metric_value"]


def metric_value(bench: Mapping[str, Any] | None, metric: str) -> float | None:
    """A property metric from a pytest-benchmark entry (or one trial of it, given as
    ``{"stats": {"median": s}, "extra_info": {...}}``), read through
    :mod:`k2matrix.figures`; None when not recorded, not above zero, or not valid under the
    entry's clock."""
    if not bench:
        return None
    return _positive(metric, figures.entry_view(bench))


def _positive(metric: str, view: Mapping[str, Any]) -> float | None:
    try:
        return figures.positive(metric, view)
    except KeyError:  # not a declared figure
        return None


def trial_metrics(bench: Mapping[str, Any], metric: str) -> list[float]:
    """The metric in each trial of a folded benchmark (``extra_info.k2.trials``)."""
    info = bench.get("extra_info")
    k2 = info.get("k2") if isinstance(info, dict) else None
    if not (isinstance(k2, dict) and k2.get("trials")):
        return []
    found = (_positive(metric, view) for view in figures.trial_views(bench))
    return [v for v in found if v is not None]


def cost(prop: Property, value: float) -> float:
    """A figure as a cost (higher is worse)."""
    return 1.0 / value if prop.metric in HIGHER_IS_BETTER else value


@dataclass(frozen=True)
class Evaluation:
    figure: float  # bound: the metric; monotonic, ratio: a cost ratio; scaling: the exponent
    limit: float  # the figure's allowed extreme
    score: float  # > 0: beyond the limit (by this much, in log units)
    violated: bool

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _allowed(prop: Property, xs: Sequence[Any]) -> float:
    """How much costlier the candidate may be than the baseline (the factor)."""
    if prop.kind == "monotonic":
        return 1.0 + prop.tolerance
    if prop.kind == "scaling":
        assert prop.max_exponent is not None
        return float((float(xs[1]) / float(xs[0])) ** prop.max_exponent)
    assert prop.bound is not None
    return float(prop.bound)


def evaluate(prop: Property, values: Sequence[float], xs: Sequence[Any] = ()) -> Evaluation:
    """One example: ``values`` the metric at each of its points, ``xs`` the axis values of
    those points (relational kinds)."""
    if prop.kind == "bound":
        assert prop.bound is not None
        value, bound = values[0], prop.bound
        if prop.direction == "higher":
            return Evaluation(value, bound, math.log(bound / value), value < bound)
        return Evaluation(value, bound, math.log(value / bound), value > bound)
    low, high = cost(prop, values[0]), cost(prop, values[1])
    if prop.kind == "scaling":
        assert prop.max_exponent is not None
        span = math.log(float(xs[1]) / float(xs[0]))
        exponent = math.log(high / low) / span if span > 0 else 0.0
        return Evaluation(exponent, prop.max_exponent, exponent - prop.max_exponent,
                          exponent > prop.max_exponent + _EPS)
    if prop.kind == "monotonic" and xs and xs[0] == xs[1]:
        return Evaluation(1.0, 1.0 + prop.tolerance, -math.log1p(prop.tolerance), False)
    ratio, limit = high / low, _allowed(prop, xs)
    return Evaluation(ratio, limit, math.log(ratio / limit), ratio > limit * (1 + _EPS))


ROBUST_TRIALS = 4  # trials from which one may be left out


@dataclass(frozen=True)
class Confirmation:
    confirmed: bool
    verdict: str
    change: float | None  # how far beyond what is allowed (+0.3: 30% costlier)
    ci_low: float | None
    ci_high: float | None
    trials: list[list[float]]  # the metric in each trial, per point
    reason: str
    criterion: str | None = None  # what confirmed it: "all trials", "all but the slowest"
    robust_ci_low: float | None = None  # the interval without the trial most beyond
    robust_ci_high: float | None = None

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def confirm(prop: Property, trials: Sequence[Sequence[float]], xs: Sequence[Any] = (), *,
            confidence: float = 0.99, noise: NoiseModel | None = None,
            cell_id: str = "counterexample") -> Confirmation:
    """Whether trials (the metric per trial, for each point) confirm a violation."""
    kept = [[float(v) for v in side if v is not None and v > 0] for side in trials]
    if prop.kind == "bound":
        assert prop.bound is not None
        cand = [cost(prop, v) for v in kept[0]]
        base = [cost(prop, prop.bound)] * len(cand)
        paired = False
    else:
        factor = _allowed(prop, xs)
        base = [cost(prop, v) * factor for v in kept[0]]
        cand = [cost(prop, v) for v in kept[1]]
        paired = len(base) == len(cand)  # both points ran in each trial process
    comparison: Comparison = compare_trials(cell_id, base, cand, paired=paired,
                                            confidence=confidence, threshold=0.0, noise=noise)
    robust = _without_most_beyond(cell_id, base, cand, paired, confidence, noise)
    criterion = None
    if comparison.verdict == REGRESSION:
        criterion = "all trials"
        reason = "the interval over trials lies beyond what the property allows"
    elif robust is not None and robust.verdict == REGRESSION:
        criterion = "all but the trial most beyond the limit"
        reason = ("the interval over the trials without the one most beyond the limit lies "
                  "beyond what the property allows (over all of them it reaches the limit: "
                  "one trial far out widens it)")
    elif comparison.ci_high is not None and comparison.ci_high < 0:
        reason = "not confirmed: over the trials the whole interval lies within the limit"
    else:
        reason = f"not confirmed: the interval reaches the limit ({comparison.reason})"
        if robust is not None:
            reason += ", with or without the trial most beyond it"
    return Confirmation(criterion is not None, comparison.verdict, comparison.change,
                        comparison.ci_low, comparison.ci_high, kept, reason, criterion,
                        robust.ci_low if robust else None, robust.ci_high if robust else None)


def _without_most_beyond(cell_id: str, base: list[float], cand: list[float], paired: bool,
                         confidence: float, noise: NoiseModel | None) -> Comparison | None:
    """The comparison without the trial whose cost is most beyond its baseline (one-sample
    or paired trials, :data:`ROBUST_TRIALS` or more; None otherwise)."""
    if len(cand) < ROBUST_TRIALS or len(base) != len(cand):
        return None
    ratios = [c / b for b, c in zip(base, cand, strict=True)]
    drop = ratios.index(max(ratios))
    keep = [i for i in range(len(cand)) if i != drop]
    return compare_trials(cell_id, [base[i] for i in keep], [cand[i] for i in keep],
                          paired=paired, confidence=confidence, threshold=0.0, noise=noise)
