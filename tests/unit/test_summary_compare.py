"""summary --baseline: the comparison over trials (k2matrix.compare.runs), as the summary
shows it. Synthetic runs with a known truth: identical code, a clearly slower run, a faster
one, runs of one trial, incompatible baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synthetic import synthetic_document, trials_document

from k2matrix.errors import ResultsError
from k2matrix.summary import build_summary


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path


def test_a_quiet_run_compared_with_itself_is_unchanged(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", trials_document(6, trials=5, between=0.005))
    out = build_summary(a, baseline=a).to_dict()
    assert out["regressions"] == 0
    assert {c["verdict"] for c in out["comparisons"]} == {"unchanged"}
    assert all(c["change"] == pytest.approx(0.0) for c in out["comparisons"])


def test_two_runs_of_the_same_code_have_no_regression(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", trials_document(6, trials=5, seed=1))
    b = write(tmp_path / "b.json", trials_document(6, trials=5, seed=2))
    out = build_summary(b, baseline=a).to_dict()
    assert out["regressions"] == 0
    assert {c["verdict"] for c in out["comparisons"]} <= {"unchanged", "inconclusive"}


def test_a_clearly_slower_run_is_a_regression(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", trials_document(6, trials=5, seed=1))
    b = write(tmp_path / "b.json", trials_document(6, trials=5, seed=2, slowdown=1.5))
    summary = build_summary(b, baseline=a)
    out = summary.to_dict()
    assert out["regressions"] == 6 and summary.exit_code == 1
    for c in out["comparisons"]:
        assert c["verdict"] == "regression"
        assert c["ci_low"] > 0 and c["change"] == pytest.approx(0.5, abs=0.1)
    assert out["baseline"]["verdict"] == "regression"
    # the same slowdown under a larger threshold is not a regression
    assert build_summary(b, baseline=a, threshold=0.8).regressions == 0


def test_a_faster_run_is_an_improvement_not_a_regression(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", trials_document(6, trials=5, seed=1))
    b = write(tmp_path / "b.json", trials_document(6, trials=5, seed=2, slowdown=0.6))
    summary = build_summary(b, baseline=a)
    assert summary.regressions == 0 and summary.exit_code == 0
    assert {c["verdict"] for c in summary.to_dict()["comparisons"]} == {"improvement"}


def test_one_trial_a_side_is_never_significant(tmp_path: Path) -> None:
    """Runs of one trial (however many rounds): the between-run variance is unknown."""
    a = write(tmp_path / "a.json", synthetic_document(20, rounds=50))
    b = write(tmp_path / "b.json", synthetic_document(20, rounds=50, slowdown=1.5, seed=3))
    out = build_summary(b, baseline=a).to_dict()
    assert out["regressions"] == 0
    assert {c["verdict"] for c in out["comparisons"]} == {"inconclusive"}
    assert any("one trial" in n for n in out["notes"])


def test_only_common_cells_are_compared(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", synthetic_document(40))
    b = write(tmp_path / "b.json", synthetic_document(60, seed=3))
    out = build_summary(b, baseline=a).to_dict()
    assert len(out["comparisons"]) == 40
    assert out["regressions"] == 0


def test_incompatible_baseline_names_the_key(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", trials_document(6, 3, fingerprint="a" * 16))
    b = write(tmp_path / "b.json", trials_document(6, 3, fingerprint="b" * 16, seed=2))
    with pytest.raises(ResultsError, match="matrix_fingerprint"):
        build_summary(b, baseline=a)
    forced = build_summary(b, a, force=True)
    assert forced.comparison is not None and len(forced.comparison["comparisons"]) == 6
    assert any("--force" in n for n in forced.notes)


def test_baseline_from_another_kind_of_machine_names_the_key(tmp_path: Path) -> None:
    kinds = []
    for cpus in (2, 8):
        doc = trials_document(6, 3)
        doc["k2"]["machine_kind"] = {"system": "Linux", "cpu_count": cpus}
        kinds.append(write(tmp_path / f"m{cpus}.json", doc))
    with pytest.raises(ResultsError, match=r"k2\.machine_kind\.cpu_count differs"):
        build_summary(kinds[0], baseline=kinds[1])
    assert build_summary(kinds[0], kinds[1], force=True).regressions == 0


def test_a_plain_baseline_without_fingerprint_is_accepted(tmp_path: Path) -> None:
    doc = trials_document(6, 3)
    del doc["k2"]
    a = write(tmp_path / "a.json", doc)
    b = write(tmp_path / "b.json", trials_document(6, 3, seed=2))
    assert len(build_summary(b, baseline=a).to_dict()["comparisons"]) == 6


@pytest.mark.parametrize(("threshold", "confidence", "named"),
                         [(-0.1, 0.99, "threshold"), (10.0, 0.99, "threshold"),
                          (0.05, 0.2, "confidence"), (0.05, 1.0, "confidence")])
def test_bad_threshold_or_confidence(tmp_path: Path, threshold: float, confidence: float,
                                     named: str) -> None:
    a = write(tmp_path / "a.json", trials_document(2, 3))
    with pytest.raises(ResultsError, match=named):
        build_summary(a, baseline=a, threshold=threshold, confidence=confidence)


def test_the_cells_table_shows_trials_and_a_noise_floor(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", trials_document(3, trials=5, between=0.05))
    cells = build_summary(a).to_dict()["cells"]
    assert [c["trials"] for c in cells] == [5, 5, 5]
    assert all(0.0 < c["noise_floor"] < 1.0 for c in cells)
    one = write(tmp_path / "one.json", synthetic_document(2))
    assert [c["noise_floor"] for c in build_summary(one).to_dict()["cells"]] == [None, None]
