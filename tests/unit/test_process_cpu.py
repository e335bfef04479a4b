"""The broker's CPU over a run: the window's CPU seconds and its share of a core per
quarter, on synthetic samples whose truth is known, and the meter on a live process."""

from __future__ import annotations

import os
import time

import pytest

from k2matrix.pipeline.processcpu import ProcessCpu


def _meter(samples: list[tuple[float, float]]) -> ProcessCpu:
    meter = ProcessCpu(os.getpid())
    meter.samples = samples
    return meter


def test_a_cost_that_grows_through_the_run_shows_in_its_quarters() -> None:
    # a process whose share of a core grows 0.25 -> 1.0 over 20 s: CPU(t) = 0.25 t + 0.75 t^2 / 40
    samples = [(1000.0 + t, 0.25 * t + 0.75 * t * t / 40) for t in range(21)]
    found = _meter(samples).over(1000.0, 1020.0)
    assert found["cpu_s"] == pytest.approx(0.25 * 20 + 0.75 * 400 / 40)
    assert found["cpu_share"] == pytest.approx(found["cpu_s"] / 20)
    quarters = found["cpu_share_by_quarter"]
    # the exact average share in each 5 s quarter: 0.25 + 0.75 * (mid of quarter) / 20
    assert quarters == pytest.approx([0.25 + 0.75 * m / 20 for m in (2.5, 7.5, 12.5, 17.5)],
                                     abs=1e-3)


def test_between_samples_the_cpu_is_interpolated() -> None:
    meter = _meter([(10.0, 1.0), (12.0, 2.0)])
    assert meter.cpu_at(11.0) == pytest.approx(1.5)
    assert meter.cpu_at(10.0) == 1.0 and meter.cpu_at(12.0) == 2.0
    assert meter.cpu_at(9.0) is None  # before the first sample: not known


def test_a_window_the_samples_do_not_cover_gives_nothing() -> None:
    meter = _meter([(10.0, 1.0), (12.0, 2.0)])
    assert meter.over(5.0, 11.0) == {}
    assert meter.over(11.0, 11.0) == {}


def test_the_meter_counts_a_live_process() -> None:
    with ProcessCpu(os.getpid(), interval_s=0.05) as meter:
        start = time.time()
        spin = time.process_time() + 0.3
        while time.process_time() < spin:  # 0.3 s of this process's CPU
            pass
        end = time.time()
        found = meter.over(start, end)
    assert found["pid"] == os.getpid()
    assert found["cpu_s"] >= 0.2  # the spin, give or take the samples at the edges
    assert len(found["cpu_share_by_quarter"]) == 4
