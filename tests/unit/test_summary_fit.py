"""Scaling fits on synthetic data with a known truth: non-negative costs equal to scipy's
NNLS, intervals from the rounds or trials that cover the truth, the exponent and the V2/V1
ratio with their intervals, selectivity in its own terms."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from scipy.optimize import nnls
from synthetic import benchmark, cell_dict, document, with_trials

from k2matrix.summary import build_summary
from k2matrix.summary.fit import fit_points, nnls_line, resample_medians

SMOKE = Path(__file__).resolve().parent / "data" / "summary" / "smoke-2026-12-05.json"


def test_closed_form_equals_scipy_nnls() -> None:
    """Random lines, many with a negative ordinary intercept or slope."""
    rng = np.random.default_rng(7)
    for _ in range(300):
        k = int(rng.integers(2, 8))
        x = np.sort(rng.uniform(1, 1000, k))
        t = rng.uniform(-1, 1) + rng.uniform(-0.002, 0.002) * x + rng.normal(0, 0.3, k)
        a, b = nnls_line(x, t)
        (ref_a, ref_b), _ = nnls(np.column_stack([np.ones(k), x]), t)
        assert a[0] == pytest.approx(ref_a, abs=1e-9)
        assert b[0] == pytest.approx(ref_b, abs=1e-12)


def test_costs_are_never_negative() -> None:
    """A convex curve: the ordinary fit's intercept is negative, the constrained one 0."""
    x = np.array([100.0, 1000.0, 10_000.0, 100_000.0])
    out = fit_points(x, 1e-7 * x**1.3)
    assert out["fixed_s"] == 0.0 and out["per_item_s"] is not None and out["per_item_s"] > 0
    assert out["exponent"] == pytest.approx(1.3)


def test_bootstrap_is_seeded() -> None:
    samples = [[1.0, 1.1, 0.9, 1.2, 1.05], [2.0, 2.2, 1.8, 2.4, 2.1]]
    first = resample_medians(samples)
    assert first.shape == (2, 400)
    assert np.array_equal(first, resample_medians(samples))
    assert not np.array_equal(first[0], first[1] / 2)  # each cell its own picks
    assert set(np.unique(first[0])) <= {0.9, 1.0, 1.05, 1.1, 1.2}


def noisy_cells(seed: int, fixed: float = 0.01, per_item: float = 1e-6, rounds: int = 15,
                sd: float = 0.05, schema: str = "v1", trials: int = 0) -> list[dict[str, Any]]:
    """Writer cells at five sizes, time = fixed + per_item * n, lognormal round noise (its
    median is 1, so the truth is each point's median)."""
    rng = np.random.default_rng(seed)
    out = []
    for n in (1_000, 3_000, 10_000, 30_000, 100_000):
        true = fixed + per_item * n
        cell = cell_dict("writer", "throughput", schema=schema, batch_size=n)
        if trials:
            rounds_of = [true * rng.lognormal(0, sd, rounds) for _ in range(trials)]
            out.append(with_trials(benchmark(cell, rounds_of[0]), rounds_of))
        else:
            out.append(benchmark(cell, true * rng.lognormal(0, sd, rounds)))
    return out


def fit_row(tmp_path: Path, benches: list[dict[str, Any]], schema: str = "v1"
            ) -> dict[str, Any]:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document(benches)))
    rows = build_summary(path).scaling.to_dicts()
    return next(r for r in rows if r["schema"] == schema)


def test_intervals_cover_the_known_costs(tmp_path: Path) -> None:
    """Over 20 seeded runs the 95% intervals of the fixed and per-item costs cover the truth
    about 95% of the time (39 and 38 of 40 seeds here); the test asks 16 of 20."""
    covered = {"fixed": 0, "per_item": 0}
    for seed in range(20):
        row = fit_row(tmp_path, noisy_cells(seed))
        assert row["fit"] == "line" and row["interval_from"] == "15 rounds"
        covered["fixed"] += row["fixed_low"] <= 0.01 <= row["fixed_high"]
        covered["per_item"] += row["per_item_low"] <= 1e-6 <= row["per_item_high"]
        assert row["fixed_low"] >= 0 and row["per_item_low"] >= 0
        assert row["fixed_low"] <= row["fixed_s"] <= row["fixed_high"]
    assert covered["fixed"] >= 16 and covered["per_item"] >= 16, covered


def test_intervals_from_trials(tmp_path: Path) -> None:
    row = fit_row(tmp_path, noisy_cells(3, trials=4, rounds=5))
    assert row["interval_from"] == "4 trials"
    assert row["per_item_low"] < 1e-6 < row["per_item_high"]


def test_exponent_interval_covers_a_power_law(tmp_path: Path) -> None:
    rng = np.random.default_rng(11)
    benches = [benchmark(cell_dict("query", "latency", dataset_size=n),
                         2e-7 * n**1.5 * rng.lognormal(0, 0.05, 15))
               for n in (1_000, 10_000, 100_000)]
    row = fit_row(tmp_path, benches, schema="")
    assert row["exponent_low"] < 1.5 < row["exponent_high"]
    assert row["exponent_high"] - row["exponent_low"] < 0.1


def test_v2_v1_ratio_with_interval_and_pairs(tmp_path: Path) -> None:
    benches = noisy_cells(1) + noisy_cells(2, fixed=0.015, per_item=1.5e-6, schema="v2")
    row = fit_row(tmp_path, benches)
    assert row["v2_v1_pairs"] == 5
    assert row["v2_v1_low"] < 1.5 < row["v2_v1_high"]
    path = tmp_path / "run.json"
    (ratio,) = build_summary(path).ratios.to_dicts()
    assert ratio["pairs"] == 5 and ratio["v2_v1_low"] < 1.5 < ratio["v2_v1_high"]


def test_selectivity_is_per_percentage_point(tmp_path: Path) -> None:
    """time = 20 ms + 30 ms * selectivity: 0.3 ms per percentage point, 20 ms at 0%."""
    benches = [benchmark(cell_dict("query", "scaling", selectivity=s),
                         [0.02 + 0.03 * s] * 5) for s in (0.01, 0.1, 0.5, 1.0)]
    row = fit_row(tmp_path, benches, schema="")
    assert row["per_item_s"] is None
    assert row["per_percent_s"] == pytest.approx(0.0003)
    assert row["fixed_s"] == pytest.approx(0.02)


def test_scaling_of_the_smoke_run_is_ratio_only() -> None:
    """The smoke profile measures two sizes per group: no fit, no negative cost."""
    rows = build_summary(SMOKE).scaling.to_dicts()
    assert rows and all(r["fit"] == "2 sizes: ratio only" for r in rows)
    assert all(r["fixed_s"] is None and r["per_item_s"] is None and r["exponent"] is None
               for r in rows)
    writer = next(r for r in rows if r["case"] == "append" and r["schema"] == "v1")
    assert writer["interval_from"] == "7 rounds"
    assert writer["time_ratio_low"] < writer["time_ratio"] < writer["time_ratio_high"]
