"""The latency histogram (HdrHistogram): percentiles within 0.1% of the exact nearest-rank
ones of :mod:`k2matrix.stats`, and merges that are exact across processes."""

from __future__ import annotations

import multiprocessing

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k2matrix.producer.latency import LatencyHistogram, merge_all
from k2matrix.stats import percentile


def _within(exact: float, got: float) -> bool:
    # 3 significant digits: the bucket's highest equivalent value is within 0.1% (+1 µs
    # for the rounding to whole microseconds)
    return exact - 1e-6 <= got <= exact * 1.001 + 1e-6


@settings(max_examples=60, deadline=None)
@given(st.lists(st.floats(0.0, 30.0, allow_nan=False), min_size=1, max_size=500))
def test_percentiles_match_nearest_rank_within_the_precision(samples: list[float]) -> None:
    hist = LatencyHistogram()
    hist.record_many(samples)
    for q in (0.5, 0.9, 0.99, 0.999, 0.9999):
        assert _within(max(percentile(samples, q), 1e-6), hist.percentile(q))
    assert hist.summary().max_ms == pytest.approx(max(samples) * 1000)
    assert hist.count == len(samples)


def _counts(hist: LatencyHistogram) -> list[int]:
    return list(hist.hdr.counts)


@settings(max_examples=40, deadline=None)
@given(st.lists(st.lists(st.floats(0.0, 100.0, allow_nan=False), max_size=200),
                min_size=1, max_size=4))
def test_merged_histograms_equal_one_built_from_all_samples(parts: list[list[float]]) -> None:
    every = LatencyHistogram()
    every.record_many([s for part in parts for s in part])
    pieces = []
    for part in parts:
        h = LatencyHistogram()
        h.record_many(part)
        pieces.append(LatencyHistogram.decode(h.encode()))  # across a process boundary
    merged = merge_all(pieces)
    assert _counts(merged) == _counts(every)
    assert merged.count == every.count and merged.max_s == every.max_s
    assert merged.summary() == every.summary()


def _record_in_child(samples: list[float]) -> dict[str, object]:
    h = LatencyHistogram()
    h.record_many(samples)
    return h.encode()


def test_histograms_from_two_processes_merge_exactly() -> None:
    parts = [[i * 0.0007 for i in range(1, 3000)], [0.5 + i * 0.013 for i in range(2000)]]
    with multiprocessing.get_context("spawn").Pool(2) as pool:
        encoded = pool.map(_record_in_child, parts)
    merged = merge_all(LatencyHistogram.decode(e) for e in encoded)
    every = LatencyHistogram()
    every.record_many(parts[0] + parts[1])
    assert _counts(merged) == _counts(every)
    assert merged.summary() == every.summary()


def test_slow_samples_and_the_max_is_exact() -> None:
    hist = LatencyHistogram()
    for s in [0.001] * 98 + [0.5, 75.0]:
        hist.record(s)
    summary = hist.summary()
    assert summary.p50_ms == pytest.approx(1.0, rel=1e-3)
    assert 500 <= summary.p99_ms <= 500.5
    assert summary.max_ms == 75_000.0
    assert summary.p999_ms == 75_000.0


def test_weighted_record_counts_each_sample() -> None:
    a, b = LatencyHistogram(), LatencyHistogram()
    a.record(0.25, count=7)
    for _ in range(7):
        b.record(0.25)
    assert _counts(a) == _counts(b) and a.count == 7


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
        "latency_p50_ms", "latency_p90_ms", "latency_p99_ms", "latency_p999_ms",
        "latency_p9999_ms", "latency_max_ms"}
    assert "freshness_p99_ms" in hist.summary().as_extra_info("freshness")
