"""The statistics of k2matrix.compare on synthetic trials with a known truth (no timing).

Each simulated trial's median is ``base * exp(drift + noise)``: a between-trial factor (the
machine from one process to the next) that pooled rounds cannot see."""

from __future__ import annotations

import math

import numpy as np
import pytest

from k2matrix.compare.noise import measure
from k2matrix.compare.statistics import (
    IMPROVEMENT,
    INCONCLUSIVE,
    REGRESSION,
    UNCHANGED,
    NoiseModel,
    compare_trials,
    log_interval,
    overall,
)

RNG_SEED = 20261201


def trials(rng: np.random.Generator, n: int, sd: float, scale: float = 1.0) -> list[float]:
    return [float(v) for v in 0.01 * scale * np.exp(rng.normal(0.0, sd, n))]


@pytest.mark.parametrize("paired", [False, True])
def test_an_a_a_is_called_a_change_no_more_often_than_the_confidence_allows(
        paired: bool) -> None:
    rng = np.random.default_rng(RNG_SEED)
    verdicts = [compare_trials("c", trials(rng, 5, 0.05), trials(rng, 5, 0.05),
                               paired=paired, confidence=0.99, threshold=0.0).verdict
                for _ in range(3000)]
    significant = sum(v in (REGRESSION, IMPROVEMENT) for v in verdicts) / len(verdicts)
    assert significant <= 0.01 + 0.006  # 1% by construction, plus sampling slack
    # with the default 5% threshold gating it too: still within the stated rate
    rng = np.random.default_rng(RNG_SEED + 1)
    gated = [compare_trials("c", trials(rng, 5, 0.05), trials(rng, 5, 0.05),
                            paired=paired).verdict for _ in range(3000)]
    gated_rate = sum(v in (REGRESSION, IMPROVEMENT) for v in gated) / 3000
    assert gated_rate <= min(significant, 0.01) + 0.006
    assert set(gated) <= {UNCHANGED, INCONCLUSIVE, REGRESSION, IMPROVEMENT}


def test_the_interval_covers_the_true_ratio_at_the_stated_rate() -> None:
    rng = np.random.default_rng(RNG_SEED)
    covered = 0
    for _ in range(3000):
        a, b = trials(rng, 6, 0.04), trials(rng, 6, 0.04, scale=1.2)
        interval = log_interval(a, b, paired=False, confidence=0.95)
        assert interval is not None
        covered += interval[1] <= math.log(1.2) <= interval[2]
    assert 0.93 <= covered / 3000 <= 0.97


def test_a_known_shift_is_a_regression() -> None:
    rng = np.random.default_rng(RNG_SEED)
    results = [compare_trials("c", trials(rng, 5, 0.02), trials(rng, 5, 0.02, scale=1.2))
               for _ in range(500)]
    assert sum(r.verdict == REGRESSION for r in results) / 500 >= 0.99
    assert np.median([r.change for r in results]) == pytest.approx(0.2, abs=0.02)
    faster = compare_trials("c", trials(rng, 5, 0.02), trials(rng, 5, 0.02, scale=0.8))
    assert faster.verdict == IMPROVEMENT and faster.ci_high is not None and faster.ci_high < 0


def test_a_change_below_the_threshold_is_unchanged_when_the_interval_is_tight() -> None:
    rng = np.random.default_rng(RNG_SEED)
    result = compare_trials("c", trials(rng, 10, 0.002), trials(rng, 10, 0.002, scale=1.01))
    assert result.verdict == UNCHANGED
    assert result.ci_low is not None and result.ci_low > 0  # significant, but too small


def test_a_noisy_cell_with_few_trials_is_inconclusive_not_a_regression() -> None:
    rng = np.random.default_rng(RNG_SEED)
    result = compare_trials("c", trials(rng, 3, 0.3), trials(rng, 3, 0.3, scale=1.1))
    assert result.verdict == INCONCLUSIVE
    assert result.noise_floor is not None and result.noise_floor > 0.1
    assert result.noise_floor_source == "this comparison"


def test_one_trial_a_side_is_never_significant_without_a_noise_floor() -> None:
    for change in (0.0, 0.05, 0.5, 3.0):
        result = compare_trials("c", [0.01], [0.01 * (1 + change)])
        assert result.verdict == INCONCLUSIVE
        assert result.ci_low is None and result.noise_floor is None
        assert "one trial" in result.reason


def test_one_trial_a_side_is_judged_by_a_measured_noise_floor() -> None:
    noise = NoiseModel(sigma=0.02, trials=10, source="noise run x")
    floor = noise.floor(1, 0.99)
    assert floor == pytest.approx(math.expm1(3.2498355 * 0.02), rel=1e-4)  # t(0.995, 9)
    big = compare_trials("c", [0.01], [0.0125], noise=noise)
    assert big.verdict == REGRESSION and big.noise_floor == pytest.approx(floor)
    assert big.noise_floor_source == "noise run x"
    small = compare_trials("c", [0.01], [0.0103], noise=noise)
    assert small.verdict in (UNCHANGED, INCONCLUSIVE)


def test_a_measured_floor_above_the_threshold_gates_the_verdict() -> None:
    """A cell whose A/A says it moves 30% between trials is not called a regression for
    a 15% change, however tight this comparison's own trials happen to be."""
    rng = np.random.default_rng(RNG_SEED)
    noise = NoiseModel(sigma=0.4, trials=10)
    result = compare_trials("c", trials(rng, 5, 0.01), trials(rng, 5, 0.01, scale=1.15),
                            noise=noise)
    assert result.noise_floor is not None and result.noise_floor > 0.15
    assert result.verdict == INCONCLUSIVE


def test_pairing_cancels_drift_shared_by_the_two_sides_of_a_pair() -> None:
    rng = np.random.default_rng(RNG_SEED)
    drift = rng.normal(0.0, 0.2, 8)  # the machine, minutes apart: big
    a = [0.01 * math.exp(d + rng.normal(0, 0.01)) for d in drift]
    b = [0.011 * math.exp(d + rng.normal(0, 0.01)) for d in drift]
    paired = compare_trials("c", a, b, paired=True)
    unpaired = compare_trials("c", a, b, paired=False)
    assert paired.verdict == REGRESSION  # the 10% shift is seen through 20% drift
    assert unpaired.verdict == INCONCLUSIVE
    assert paired.ci_low is not None and paired.ci_low > 0
    assert unpaired.ci_low is not None and unpaired.ci_low < 0 < (unpaired.ci_high or 0)
    assert (paired.ci_high or 0) - paired.ci_low < ((unpaired.ci_high or 0) - unpaired.ci_low) / 5


def test_the_noise_floor_shrinks_with_more_trials() -> None:
    model = NoiseModel(sigma=0.05, trials=5)
    floors = [model.floor(n, 0.99) for n in (1, 3, 5, 10, 20)]
    assert floors == sorted(floors, reverse=True)
    assert floors[-1] == pytest.approx(math.expm1(4.604 * 0.05 / math.sqrt(20)), rel=1e-3)


def test_measure_recovers_the_between_trial_spread() -> None:
    rng = np.random.default_rng(RNG_SEED)
    a, b = trials(rng, 400, 0.05), trials(rng, 400, 0.05)
    model = measure(a, b)
    assert model is not None and model.trials == 400
    assert model.sigma == pytest.approx(0.05 * math.sqrt(2), rel=0.1)
    assert measure([0.01], [0.01]) is None


def test_overall_verdict() -> None:
    assert overall([UNCHANGED, REGRESSION, IMPROVEMENT]) == REGRESSION
    assert overall([UNCHANGED, IMPROVEMENT]) == IMPROVEMENT
    assert overall([UNCHANGED, UNCHANGED]) == UNCHANGED
    assert overall([UNCHANGED, INCONCLUSIVE]) == INCONCLUSIVE
    assert overall([]) == INCONCLUSIVE


@pytest.mark.parametrize(("kwargs", "named"), [
    ({"confidence": 0.3}, "confidence"), ({"confidence": 1.0}, "confidence"),
    ({"threshold": -0.01}, "threshold"), ({"threshold": 11.0}, "threshold")])
def test_bad_arguments_are_refused(kwargs: dict[str, float], named: str) -> None:
    with pytest.raises(ValueError, match=named):
        compare_trials("c", [0.01, 0.011], [0.01, 0.012], **kwargs)
