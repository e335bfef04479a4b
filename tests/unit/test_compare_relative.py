"""``--metric relative`` (k2matrix.compare.trial_figures): a trial contributes the cell's time
relative to its in-run reference, so drift of the machine that both share cancels. Known
truths from synthetic runs (tests/unit/synthetic.py: round speeds that halve at random)."""

from __future__ import annotations

import json
import statistics
from pathlib import Path
from typing import Any

import pytest
from synthetic import drifting_document, trials_document

from k2matrix.compare.runs import compare_runs
from k2matrix.results.load import load_run


def _runs(tmp_path: Path, base: dict[str, Any], cand: dict[str, Any]) -> tuple[Any, Any]:
    (tmp_path / "a.json").write_text(json.dumps(base))
    (tmp_path / "b.json").write_text(json.dumps(cand))
    return load_run(tmp_path / "a.json"), load_run(tmp_path / "b.json")


def test_relative_sees_a_10_percent_slowdown_that_drift_hides_from_time(
        tmp_path: Path) -> None:
    base, cand = _runs(tmp_path, drifting_document(6, trials=5, seed=1),
                       drifting_document(6, trials=5, seed=2, cell_slowdown=1.10))
    by_time = compare_runs(base, cand, paired=True)
    relative = compare_runs(base, cand, paired=True, metric="relative")
    assert relative["metric"] == "relative"
    assert all(r["metric"] == "relative" for r in relative["comparisons"])
    assert [r["verdict"] for r in relative["comparisons"]] == ["regression"] * 6
    for r in relative["comparisons"]:
        assert r["change"] == pytest.approx(0.10, abs=0.04)
        assert r["baseline_relative"] == pytest.approx(2.5, rel=0.1)  # 10 ms over 4 ms
        assert r["baseline_median_s"] > 0.005  # still the time, in seconds
    # the same trials by time: the halving speed leaves most cells undecided
    assert sum(r["verdict"] == "regression" for r in by_time["comparisons"]) < 6
    widths = [(r["ci_high"] - r["ci_low"]) for r in by_time["comparisons"]]
    narrow = [(r["ci_high"] - r["ci_low"]) for r in relative["comparisons"]]
    assert statistics.median(widths) > 5 * statistics.median(narrow)


def test_an_a_a_by_relative_time_flags_nothing(tmp_path: Path) -> None:
    for seed in range(5):
        base, cand = _runs(tmp_path, drifting_document(6, trials=5, seed=10 + seed),
                           drifting_document(6, trials=5, seed=20 + seed))
        doc = compare_runs(base, cand, paired=True, metric="relative")
        assert doc["counts"]["regression"] == doc["counts"]["improvement"] == 0


def test_a_slowdown_the_reference_shares_cancels_in_relative_but_not_in_time(
        tmp_path: Path) -> None:
    base, cand = _runs(tmp_path, drifting_document(4, trials=7, seed=3),
                       drifting_document(4, trials=7, seed=4, cell_slowdown=1.5,
                                         reference_slowdown=1.5))
    relative = compare_runs(base, cand, paired=True, metric="relative")
    assert all(abs(r["change"]) < 0.05 for r in relative["comparisons"])
    assert compare_runs(base, cand, paired=True)["counts"]["regression"] >= 1


def test_cells_without_a_reference_are_compared_by_time_and_said_so(tmp_path: Path) -> None:
    base, cand = _runs(tmp_path, trials_document(3, trials=5, seed=1),
                       trials_document(3, trials=5, seed=2, slowdown=1.5))
    doc = compare_runs(base, cand, paired=True, metric="relative")
    assert {r["metric"] for r in doc["comparisons"]} == {"time"}
    assert doc["counts"]["regression"] == 3
    assert any("compared by time" in n for n in doc["notes"])


def _paced(p99_ms: list[float], round_s: float = 2.0) -> dict[str, Any]:
    from synthetic import benchmark, cell_dict, document, with_trials

    cell = cell_dict("producer", "paced_latency", schema="v1")
    bench = with_trials(benchmark(cell, [round_s], {"items": 1, "unit": "msg/s",
                                                    "compare_on": "latency_p99_ms"}),
                        [[round_s * (1 + i / 1000)] for i in range(len(p99_ms))])
    for entry, p99 in zip(bench["extra_info"]["k2"]["trials"], p99_ms, strict=True):
        entry["latency_p99_ms"] = p99
    return document([bench])


def test_a_paced_cell_is_compared_on_its_tail_latency_not_its_fixed_round_time(
        tmp_path: Path) -> None:
    base, cand = _runs(tmp_path, _paced([2.0, 2.1, 1.9, 2.0, 2.05]),
                       _paced([4.0, 4.3, 3.8, 4.1, 3.9]))
    doc = compare_runs(base, cand, paired=True)
    (row,) = doc["comparisons"]
    assert row["metric"] == "latency_p99_ms" and row["verdict"] == "regression"
    assert row["change"] == pytest.approx(1.0, abs=0.1)
    assert row["baseline_value"] == pytest.approx(2.0) and row["baseline_median_s"] > 1.9
