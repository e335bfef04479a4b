"""The delivery-latency histogram: percentiles within one bucket of the exact nearest-rank
ones of :mod:`k2matrix.stats`."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k2matrix.producer.latency import FINE_STEP_S, LatencyHistogram
from k2matrix.stats import percentile


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 0.099, allow_nan=False), min_size=1, max_size=500))
def test_percentiles_match_numpy_within_a_bucket(samples: list[float]) -> None:
    hist = LatencyHistogram()
    for s in samples:
        hist.record(s)
    for q in (0.5, 0.99, 0.999):
        exact = percentile(samples, q)
        assert exact - 1e-12 <= hist.percentile(q) <= exact + FINE_STEP_S + 1e-12
    assert hist.summary().max_ms == pytest.approx(max(samples) * 1000)
    assert hist.count == len(samples)


def test_slow_messages_land_in_coarse_buckets_and_the_max_is_exact() -> None:
    hist = LatencyHistogram()
    for s in [0.001] * 98 + [0.5, 75.0]:
        hist.record(s)
    summary = hist.summary()
    assert summary.p50_ms == pytest.approx(1.0, abs=0.011)
    assert 500 <= summary.p99_ms <= 501
    assert summary.max_ms == 75_000.0
    assert summary.p999_ms == 75_000.0


def test_empty_and_reset() -> None:
    hist = LatencyHistogram()
    assert hist.summary().p99_ms == 0.0
    hist.record(0.002)
    hist.reset()
    assert hist.count == 0 and hist.percentile(0.5) == 0.0


@pytest.mark.parametrize("q", [0.0, -0.5, 1.5])
def test_bad_quantile_is_refused(q: float) -> None:
    with pytest.raises(ValueError, match=f"q={q!r}"):
        LatencyHistogram().percentile(q)


def test_extra_info_keys() -> None:
    hist = LatencyHistogram()
    hist.record(0.003)
    assert set(hist.summary().as_extra_info()) == {
        "latency_p50_ms", "latency_p99_ms", "latency_p999_ms", "latency_max_ms"}
