"""Counted verdicts (k2matrix.compare.counts, .counted): instruction counts and counters
compared against the larger of the threshold and their A/A spread, on synthetic runs whose
truth is known (tests/unit/counted.py)."""

from __future__ import annotations

from pathlib import Path

import pytest
from counted import counted_bench, counted_doc, write
from synthetic import trials_document

from k2matrix.compare.counts import compare_counts, spread
from k2matrix.compare.render import render
from k2matrix.compare.runs import compare_runs, exit_code
from k2matrix.compare.statistics import NoiseModel
from k2matrix.errors import ResultsError
from k2matrix.results.load import Run

ID = "writer-append-b1000"


def _pair(tmp_path: Path, base: list[float], cand: list[float]) -> tuple[Run, Run]:
    b = write(tmp_path / "a.json", counted_doc([counted_bench("append", base)]))
    c = write(tmp_path / "b.json", counted_doc([counted_bench("append", cand)]))
    return b, c


def _aa(spread_value: float) -> dict[str, NoiseModel]:
    return {f"{ID}@instructions": NoiseModel(0.0, 5, "noise run aa", spread=spread_value)}


def test_spread_is_the_range_over_the_median() -> None:
    assert spread([100.0, 101.0, 99.0]) == pytest.approx(0.02)
    assert spread([7.0, 7.0]) == 0.0
    assert spread([7.0]) is None
    assert spread([0.0, 0.0, 1.0]) is None  # differs around 0: no relative scale


def test_one_percent_more_instructions_beyond_a_tenth_percent_spread_is_a_regression(
        tmp_path: Path) -> None:
    base, cand = _pair(tmp_path, [10_000_000.0], [10_100_000.0])
    doc = compare_runs(base, cand, threshold=0.005, noise=_aa(0.001))
    row = doc["comparisons"][0]
    assert doc["clock"] == doc["metric"] == row["metric"] == "instructions"
    assert row["verdict"] == "regression" and row["change"] == pytest.approx(0.01)
    assert row["spread"] == row["noise_floor"] == 0.001 and row["threshold"] == 0.005
    assert row["baseline_value"] == 10_000_000.0 and row["baseline_median_s"] is None
    assert row["noise_floor_source"] == "noise run aa"
    assert exit_code(doc) == 1
    assert "10M instr" in render(doc, "table")


def test_the_same_change_within_a_two_percent_spread_is_unchanged(tmp_path: Path) -> None:
    base, cand = _pair(tmp_path, [10_000_000.0], [10_100_000.0])
    doc = compare_runs(base, cand, threshold=0.005, noise=_aa(0.02))
    assert doc["comparisons"][0]["verdict"] == "unchanged"
    assert exit_code(doc) == 0
    improved = compare_counts(ID, "instructions", [100.0], [97.0], threshold=0.005,
                              model=0.02)
    assert improved.verdict == "improvement"


def test_one_trial_a_side_without_a_model_is_inconclusive(tmp_path: Path) -> None:
    base, cand = _pair(tmp_path, [10_000_000.0], [10_100_000.0])
    doc = compare_runs(base, cand, threshold=0.005)
    row = doc["comparisons"][0]
    assert row["verdict"] == "inconclusive" and row["spread"] is None
    assert row["change"] == pytest.approx(0.01)


def test_without_a_model_each_sides_own_spread_decides(tmp_path: Path) -> None:
    # each side's three processes within 0.1%: a 1% move is beyond it and the threshold
    base, cand = _pair(tmp_path, [1e7, 1.0005e7, 1.001e7], [1.01e7, 1.0105e7, 1.011e7])
    doc = compare_runs(base, cand, threshold=0.005)
    row = doc["comparisons"][0]
    assert row["verdict"] == "regression"
    assert row["spread"] == pytest.approx(0.001, rel=0.01)
    assert row["noise_floor_source"] == "this comparison"
    # sides that scatter 3% cannot resolve it
    base, cand = _pair(tmp_path, [1e7, 1.03e7, 1.0e7], [1.01e7, 1.04e7, 1.01e7])
    doc = compare_runs(base, cand, threshold=0.005)
    assert doc["comparisons"][0]["verdict"] == "unchanged"


def _counter_runs(tmp_path: Path, base: list[float], cand: list[float], name: str,
                  clock: str | None = "wall") -> tuple[Run, Run]:
    def doc(values: list[float], file: str) -> Run:
        bench = counted_bench("append", [0.01] * len(values),
                              [{name: v} for v in values], clock=clock)
        return write(tmp_path / file, counted_doc([bench], clock=clock))

    return doc(base, "a.json"), doc(cand, "b.json")


def test_an_exact_counter_that_moves_by_one_is_a_verdict(tmp_path: Path) -> None:
    base, cand = _counter_runs(tmp_path, [12.0, 12.0, 12.0], [13.0, 13.0, 13.0], "s3.put")
    doc = compare_runs(base, cand)
    (row,) = doc["counter_comparisons"]
    assert row["id"] == ID and row["metric"] == "s3.put"
    assert row["exact"] is True and row["spread"] == 0.0
    assert row["verdict"] == "regression"  # +8.3%: beyond no threshold, only exactness
    assert row["text"] == "s3.put per round 12 → 13"
    assert doc["counter_verdict"] == "regression"
    assert doc["exact_counters"]["cells"] == {}  # it moved: not equal in every trial
    assert exit_code(doc) == 1
    assert "s3.put per round 12 → 13" in render(doc, "table")
    assert "s3.put per round 12 → 13" in render(doc, "markdown")
    # one fewer: an improvement, and time rows keep their meaning
    base, cand = _counter_runs(tmp_path, [12.0, 12.0], [11.0, 11.0], "s3.put")
    doc = compare_runs(base, cand)
    assert doc["counter_comparisons"][0]["verdict"] == "improvement"
    assert doc["comparisons"][0]["metric"] == "time" and exit_code(doc) == 0


def test_an_exact_model_decides_a_counter_with_one_trial_a_side(tmp_path: Path) -> None:
    base, cand = _counter_runs(tmp_path, [4.0], [5.0], "parquet.files")
    key = f"{ID}@counter:parquet.files"
    doc = compare_runs(base, cand,
                       noise={key: NoiseModel(0.0, 5, "aa", spread=0.0)})
    assert doc["counter_comparisons"][0]["verdict"] == "regression"
    alone = compare_runs(base, cand)
    assert alone["counter_comparisons"][0]["verdict"] == "inconclusive"


def test_a_noisy_counter_within_its_aa_spread_is_not_a_verdict(tmp_path: Path) -> None:
    name = "process.read_bytes"
    base, cand = _counter_runs(tmp_path, [4096.0, 4300.0, 4000.0],
                               [4400.0, 4500.0, 4350.0], name)
    key = f"{ID}@counter:{name}"
    doc = compare_runs(base, cand,
                       noise={key: NoiseModel(0.0, 10, "aa", spread=0.2)})
    (row,) = doc["counter_comparisons"]
    assert row["change"] == pytest.approx(4400 / 4096 - 1)
    assert row["exact"] is False and row["spread"] == 0.2
    assert row["verdict"] == "unchanged" and exit_code(doc) == 0
    assert doc["exact_counters"]["noisy"] == {name: 1}
    # beyond that spread it is one
    base, cand = _counter_runs(tmp_path, [4096.0, 4300.0], [6000.0, 6100.0], name)
    doc = compare_runs(base, cand,
                       noise={key: NoiseModel(0.0, 10, "aa", spread=0.2)})
    assert doc["counter_comparisons"][0]["verdict"] == "regression"


def test_a_counter_only_one_side_recorded_counts_zero_on_the_other(tmp_path: Path) -> None:
    b_doc = counted_doc([counted_bench("append", [0.01, 0.01],
                                       [{"kafka.batches": 3.0}] * 2, clock="wall")], "wall")
    c_doc = counted_doc([counted_bench("append", [0.01, 0.01],
                                       [{"kafka.batches": 3.0, "s3.put": 2.0}] * 2,
                                       clock="wall")], "wall")
    base, cand = write(tmp_path / "a.json", b_doc), write(tmp_path / "b.json", c_doc)
    doc = compare_runs(base, cand)
    rows = {r["metric"]: r for r in doc["counter_comparisons"]}
    assert rows["kafka.batches"]["verdict"] == "unchanged"
    assert rows["s3.put"]["verdict"] == "regression" and rows["s3.put"]["change"] is None
    assert rows["s3.put"]["text"] == "s3.put per round 0 → 2"
    assert doc["exact_counters"]["everywhere"] == ["kafka.batches"]


def test_runs_of_different_clocks_do_not_compare(tmp_path: Path) -> None:
    wall = write(tmp_path / "a.json", counted_doc([counted_bench("append", [0.01], clock="wall")],
                                                   clock="wall"))
    counted = write(tmp_path / "b.json", counted_doc([counted_bench("append", [1e7])]))
    with pytest.raises(ResultsError, match=r"--clock wall.*--clock instructions"):
        compare_runs(wall, counted, force=True)
    # a run without any clock recorded is a wall-clock run
    old = write(tmp_path / "c.json", counted_doc([counted_bench("append", [0.01], clock=None)],
                                                  clock=None))
    with pytest.raises(ResultsError, match="instructions"):
        compare_runs(counted, old)


def test_runs_without_clock_or_counters_compare_as_before(tmp_path: Path) -> None:
    base = write(tmp_path / "a.json", trials_document(3, trials=5, seed=1))
    cand = write(tmp_path / "b.json", trials_document(3, trials=5, seed=2, slowdown=1.5))
    doc = compare_runs(base, cand, paired=True)
    assert doc["clock"] == "wall" and doc["metric"] == "time"
    assert doc["counts"]["regression"] == 3 and exit_code(doc) == 1
    assert doc["counter_comparisons"] == [] and doc["counter_verdict"] is None
    assert all(r["spread"] is None and r["threshold"] == 0.05 and r["ci_low"] is not None
               for r in doc["comparisons"])
    assert "counters:" not in render(doc, "table")


def test_a_time_metric_asked_of_counted_runs_says_it_used_counts(tmp_path: Path) -> None:
    base, cand = _pair(tmp_path, [1e7, 1e7], [1e7, 1e7])
    doc = compare_runs(base, cand, metric="relative")
    assert doc["metric"] == "instructions"
    assert doc["comparisons"][0]["verdict"] == "unchanged"
    assert any("compared on instruction counts" in n for n in doc["notes"])
