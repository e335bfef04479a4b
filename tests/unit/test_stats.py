"""The one definition of each figure, pinned on inputs whose answer is known."""

from __future__ import annotations

import pytest

from k2matrix import stats


def test_nearest_rank_percentiles_of_one_to_a_hundred() -> None:
    values = list(range(100, 0, -1))  # 1..100, unsorted
    assert stats.percentile(values, 0.5) == 50
    assert stats.percentile(values, 0.99) == 99
    assert stats.percentile(values, 0.999) == 100
    assert stats.percentile(values, 1.0) == 100
    assert stats.percentile(values, 0.001) == 1


def test_percentile_is_an_observed_value() -> None:
    assert stats.percentile([1.0, 10.0], 0.5) == 1.0  # no interpolation to 5.5
    assert stats.percentile([1.0, 10.0], 0.51) == 10.0
    assert stats.percentile([7.5], 0.99) == 7.5


def test_percentile_rank() -> None:
    assert stats.percentile_rank(0.99, 100) == 99  # not 100 from 98.99999999999999
    assert stats.percentile_rank(0.99, 1000) == 990
    assert stats.percentile_rank(0.5, 3) == 2
    assert stats.percentile_rank(0.0001, 5) == 1


@pytest.mark.parametrize(("q", "count", "match"), [
    (0.0, 10, "q=0.0"), (1.5, 10, "q=1.5"), (-0.1, 10, "q=-0.1"), (0.5, 0, "count=0"),
])
def test_bad_percentile_arguments(q: float, count: int, match: str) -> None:
    with pytest.raises(ValueError, match=match):
        stats.percentile_rank(q, count)


def test_percentile_of_nothing_is_an_error() -> None:
    with pytest.raises(ValueError, match="at least one sample"):
        stats.percentile([], 0.5)


def test_latency_summary() -> None:
    latencies = [float(v) for v in range(1, 1001)]  # 1..1000 ms
    assert stats.latency_summary(latencies) == {
        "latency_p50_ms": 500.0, "latency_p90_ms": 900.0, "latency_p99_ms": 990.0,
        "latency_p999_ms": 999.0, "latency_max_ms": 1000.0, "latency_mean_ms": 500.5,
    }
    assert stats.latency_summary([]) == {}


def test_throughput_and_efficiency() -> None:
    assert stats.throughput(1000, 0.5) == 2000.0
    assert stats.throughput(1000, 0.0) == 0.0
    assert stats.efficiency(500.0, 2000.0) == 0.25
    assert stats.efficiency(500.0, 0.0) is None



def test_efficiency_pairs_each_round_with_the_reference_before_it() -> None:
    # the machine slows down 2x half way: each pair's ratio stays 0.5
    cell = [0.2, 0.2, 0.4, 0.4]
    reference = [0.1, 0.1, 0.2, 0.2]
    assert stats.paired_efficiency(cell, reference) == 0.5
    # extra reference rounds (a warm-up) at the front are not paired
    assert stats.paired_efficiency(cell, [9.0, *reference]) == 0.5
    assert stats.paired_efficiency(cell, []) is None
    assert stats.paired_ceiling_info(10_000, [0.5, 0.5, 0.5], [0.25, 0.25, 0.25]) == {
        "throughput": 20000.0, "ceiling_throughput": 40000.0, "efficiency": 0.5}
    assert stats.paired_ceiling_info(10, [1.0], []) == {"throughput": 10.0}


def test_median_is_pytest_benchmarks() -> None:
    assert stats.median([3.0, 1.0, 2.0]) == 2.0
    assert stats.median([4.0, 1.0, 2.0, 3.0]) == 2.5
    with pytest.raises(ValueError, match="at least one sample"):
        stats.median([])
