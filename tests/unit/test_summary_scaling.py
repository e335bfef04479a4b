"""Scaling fits, V2/V1 ratios and drift on synthetic data with known answers."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document

from k2matrix.summary import build_summary


def run_file(tmp_path: Path, benches: list[dict[str, Any]]) -> Path:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(document(benches)))
    return path


def summary_of(path: Path) -> dict[str, Any]:
    """The summary as the JSON object ``--format json`` prints."""
    return build_summary(path).to_dict()


def linear_cells(sizes: list[int], fixed: float, per_item: float, schema: str = "v1",
                 component: str = "writer", case: str = "throughput") -> list[dict[str, Any]]:
    out = []
    for n in sizes:
        t = fixed + per_item * n
        out.append(benchmark(cell_dict(component, case, schema=schema, batch_size=n),
                             [t, t, t], {"items": n, "unit": "rows/s"}))
    return out


def scaling_row(out: dict[str, Any], schema: str = "v1") -> dict[str, Any]:
    rows = [r for r in out["scaling"] if r["schema"] == schema]
    assert len(rows) == 1, out["scaling"]
    return rows[0]


def test_linear_cost_at_large_sizes(tmp_path: Path) -> None:
    """time = 0.01 + 1e-6 * n: exponent about 1 where the per-item cost dominates, the
    linear fit recovers the fixed overhead and the per-item cost exactly."""
    sizes = [10**6, 3 * 10**6, 10**7, 3 * 10**7, 10**8]
    row = scaling_row(summary_of(run_file(tmp_path, linear_cells(sizes, 0.01, 1e-6))))
    assert row["exponent"] == pytest.approx(1.0, abs=0.01)
    assert row["fixed_s"] == pytest.approx(0.01, rel=1e-6)
    assert row["per_item_s"] == pytest.approx(1e-6, rel=1e-9)
    assert row["r2"] == pytest.approx(1.0, abs=1e-12)
    assert row["size_axis"] == "batch_size"
    assert row["points"] == 5
    assert {"component", "case", "schema", "exponent", "fixed_s", "per_item_s", "r2"} <= set(row)


def test_fixed_cost_dominated_gives_small_exponent_and_a_bend(tmp_path: Path) -> None:
    """From 1 to 1e6 items the same law is flat, then bends to linear (at 1e4 = 0.01/1e-6)."""
    sizes = [1, 10, 100, 1000, 10**4, 10**5, 10**6]
    row = scaling_row(summary_of(run_file(tmp_path, linear_cells(sizes, 0.01, 1e-6))))
    assert row["exponent"] < 0.5
    assert row["fixed_s"] == pytest.approx(0.01, rel=1e-6)
    assert row["bend_at"] in (10**4, 10**5)


def test_power_law_exponent_and_no_bend(tmp_path: Path) -> None:
    sizes = [100, 1000, 10**4, 10**5]
    benches = [benchmark(cell_dict("query", "latency", query_shape="filtered",
                                   engine="polars", dataset_size=n),
                         [2e-7 * n**1.5] * 3) for n in sizes]
    out = build_summary(run_file(tmp_path, benches)).to_dict()
    (row,) = out["scaling"]
    assert row["exponent"] == pytest.approx(1.5, abs=1e-9)
    assert row["r2_loglog"] == pytest.approx(1.0)
    assert row["bend_at"] is None
    assert row["size_axis"] == "dataset_size"
    assert (row["query_shape"], row["engine"]) == ("filtered", "polars")


def test_groups_are_kept_apart_and_v2_v1_ratio(tmp_path: Path) -> None:
    sizes = [100, 1000, 10000]
    benches = linear_cells(sizes, 0.001, 1e-6, "v1") + linear_cells(sizes, 0.0015, 1.5e-6,
                                                                    "v2")
    out = build_summary(run_file(tmp_path, benches)).to_dict()
    v1, v2 = scaling_row(out, "v1"), scaling_row(out, "v2")
    assert v1["per_item_s"] == pytest.approx(1e-6)
    assert v2["per_item_s"] == pytest.approx(1.5e-6)
    assert v1["v2_v1_ratio"] == pytest.approx(1.5) == v2["v2_v1_ratio"]
    (ratio,) = out["schema_ratios"]
    assert (ratio["component"], ratio["case"], ratio["pairs"]) == ("writer", "throughput", 3)
    assert ratio["v2_v1_ratio"] == pytest.approx(1.5)


def test_single_size_has_no_fit(tmp_path: Path) -> None:
    out = build_summary(run_file(tmp_path, linear_cells([1000], 0.01, 1e-6))).to_dict()
    assert out["scaling"] == []


def test_drift_of_a_sustained_series(tmp_path: Path) -> None:
    commits = [30.0 + 0.5 * i for i in range(100)]  # 30 ms growing to 79.5 ms
    steady = [10.0] * 50
    bench = benchmark(cell_dict("writer", "buffered", schema="v2"), [10.0, 10.1, 9.9],
                      {"items": 100000, "unit": "rows/s",
                       "series": {"commit_latency_ms": commits, "steady_ms": steady,
                                  "short": [1.0, 2.0]}})
    out = build_summary(run_file(tmp_path, [bench])).to_dict()
    drift = {d["series"]: d for d in out["drift"]}
    assert set(drift) == {"commit_latency_ms", "steady_ms"}
    grow = drift["commit_latency_ms"]
    assert grow["first_mean"] == pytest.approx(sum(commits[:10]) / 10)
    assert grow["last_mean"] == pytest.approx(sum(commits[-10:]) / 10)
    assert grow["ratio"] == pytest.approx(grow["last_mean"] / grow["first_mean"])
    assert grow["slope_per_sample"] == pytest.approx(0.5)
    assert drift["steady_ms"]["ratio"] == pytest.approx(1.0)
    assert drift["steady_ms"]["slope_per_sample"] == pytest.approx(0.0)


def test_nan_free_json(tmp_path: Path) -> None:
    """Constant times make R² undefined: JSON carries null, never NaN."""
    benches = linear_cells([100, 1000, 10000], 0.01, 0.0)
    out = build_summary(run_file(tmp_path, benches)).to_dict()
    text = json.dumps(out, allow_nan=False)
    row = scaling_row(out)
    assert row["r2"] is None or math.isfinite(row["r2"])
    assert "NaN" not in text


def test_two_sizes_give_the_ratio_only(tmp_path: Path) -> None:
    """Two points fit any line: no costs, no exponent, no R², only how much slower."""
    row = scaling_row(summary_of(run_file(tmp_path, linear_cells([100, 1000], 0.0, 1e-6))))
    assert row["exponent"] is None and row["fixed_s"] is None and row["per_item_s"] is None
    assert row["r2"] is None and row["r2_loglog"] is None and row["points"] == 2
    frame = build_summary(run_file(tmp_path, linear_cells([100, 1000], 0.0, 1e-6))).scaling
    (full,) = frame.to_dicts()
    assert full["fit"] == "2 sizes: ratio only"
    assert full["time_ratio"] == pytest.approx(10.0) and full["size_ratio"] == 10.0


def test_drift_rows_are_metrics_and_tenths_need_samples(tmp_path: Path) -> None:
    """The pipeline's ``lag_t_s`` (when each lag was sampled) is no metric; a tenth of 7
    samples is not a tenth: the slope stays, first and last tenth go."""
    bench = benchmark(cell_dict("pipeline", "restart", schema="v2"), [10.0],
                      {"items": 40000, "unit": "rows/s",
                       "series": {"lag": [5000.0, 3000.0, 2000.0, 900.0, 600.0, 450.0, 400.0],
                                  "lag_t_s": [0.9, 1.5, 2.1, 2.8, 3.4, 4.0, 4.6]}})
    out = build_summary(run_file(tmp_path, [bench])).to_dict()
    (row,) = out["drift"]
    assert row["series"] == "lag" and row["samples"] == 7
    assert row["first_mean"] is None and row["last_mean"] is None and row["ratio"] is None
    assert row["slope_per_sample"] < 0
