"""Baseline comparison: identical runs, noise, a clearly slower run, missing raw rounds,
incompatible baselines."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from synthetic import benchmark, cell_dict, document, synthetic_document

from k2matrix.errors import ResultsError
from k2matrix.summary import build_summary


def write(path: Path, doc: dict[str, Any]) -> Path:
    path.write_text(json.dumps(doc))
    return path


def noisy_run(seed: int, slowdown: float = 1.0, rounds: int = 10, save_data: bool = True,
              fingerprint: str = "0" * 16) -> dict[str, Any]:
    rng = np.random.default_rng(seed)
    benches = []
    for schema in ("v1", "v2"):
        for n in (100, 1000, 10000):
            base = (0.01 + 1e-6 * n) * slowdown
            data = [float(x) for x in base * rng.lognormal(0.0, 0.03, rounds)]
            cell = cell_dict("writer", "throughput", schema=schema, batch_size=n)
            benches.append(benchmark(cell, data, {"items": n, "unit": "rows/s"}, save_data))
    return document(benches, fingerprint=fingerprint)


def test_identical_runs_have_no_regression(tmp_path: Path) -> None:
    run = write(tmp_path / "a.json", noisy_run(1))
    out = build_summary(run, baseline=run).to_dict()
    assert out["regressions"] == 0
    assert len(out["comparisons"]) == 6
    for c in out["comparisons"]:
        assert c["change"] == 0.0
        assert c["p_value"] == pytest.approx(1.0)
        assert c["regression"] is False


def test_two_runs_of_the_same_code_have_no_regression(tmp_path: Path) -> None:
    """Same law, different noise: changes are small and not called regressions."""
    a = write(tmp_path / "a.json", noisy_run(1))
    b = write(tmp_path / "b.json", noisy_run(2))
    out = build_summary(b, baseline=a).to_dict()
    assert out["regressions"] == 0
    assert all(abs(c["change"]) < 0.10 for c in out["comparisons"])


def test_a_clearly_slower_run_is_a_regression(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", noisy_run(1))
    b = write(tmp_path / "b.json", noisy_run(2, slowdown=1.5))
    summary = build_summary(b, a)
    out = summary.to_dict()
    assert out["regressions"] == 6
    for c in out["comparisons"]:
        assert c["change"] == pytest.approx(0.5, abs=0.1)
        assert c["p_value"] < 0.01
        assert c["regression"] is True
    assert summary.exit_code == 1
    assert out["baseline"]["shift"]["median_change"] == pytest.approx(0.5, abs=0.1)
    assert out["baseline"]["shift"]["slower_share"] == 1.0
    assert any("move together" in note for note in out["notes"])
    # the same slowdown under a larger threshold is not a regression
    assert build_summary(b, baseline=a, fail_threshold=0.6).to_dict()["regressions"] == 0


def test_a_faster_run_is_an_improvement_not_a_regression(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", noisy_run(1))
    b = write(tmp_path / "b.json", noisy_run(2, slowdown=0.5))
    summary = build_summary(b, a)
    assert summary.regressions == 0
    assert summary.comparisons is not None
    assert summary.comparisons["improvement"].all()


def test_without_raw_rounds_the_test_says_insufficient_data(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", noisy_run(1, save_data=False))
    b = write(tmp_path / "b.json", noisy_run(2, slowdown=2.0, save_data=False))
    out = build_summary(b, baseline=a).to_dict()
    assert {c["significance"] for c in out["comparisons"]} == {"insufficient data"}
    assert all(c["p_value"] is None and not c["regression"] for c in out["comparisons"])
    assert all(c["change"] == pytest.approx(1.0, abs=0.15) for c in out["comparisons"])


def test_too_few_rounds_are_insufficient_data(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", noisy_run(1, rounds=2))
    b = write(tmp_path / "b.json", noisy_run(2, rounds=2, slowdown=2.0))
    out = build_summary(b, baseline=a).to_dict()
    assert out["regressions"] == 0
    assert {c["significance"] for c in out["comparisons"]} == {"insufficient data"}


def test_only_common_cells_are_compared(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", synthetic_document(40))
    b = write(tmp_path / "b.json", synthetic_document(60, seed=3))
    out = build_summary(b, baseline=a).to_dict()
    assert len(out["comparisons"]) == 40
    assert out["regressions"] == 0


def test_incompatible_baseline_names_the_key(tmp_path: Path) -> None:
    a = write(tmp_path / "a.json", noisy_run(1, fingerprint="a" * 16))
    b = write(tmp_path / "b.json", noisy_run(2, fingerprint="b" * 16))
    with pytest.raises(ResultsError, match="matrix_fingerprint"):
        build_summary(b, baseline=a)
    forced = build_summary(b, a, force=True)
    assert forced.comparisons is not None and forced.comparisons.height == 6
    assert any("--force" in n for n in forced.notes)


def test_baseline_from_another_kind_of_machine_names_the_key(tmp_path: Path) -> None:
    kinds = []
    for cpus in (2, 8):
        doc = noisy_run(1)
        doc["k2"]["machine_kind"] = {"system": "Linux", "cpu_count": cpus}
        kinds.append(write(tmp_path / f"m{cpus}.json", doc))
    with pytest.raises(ResultsError, match=r"k2\.machine_kind\.cpu_count differs"):
        build_summary(kinds[0], baseline=kinds[1])
    assert build_summary(kinds[0], kinds[1], force=True).regressions == 0


def test_a_plain_baseline_without_fingerprint_is_accepted(tmp_path: Path) -> None:
    doc = noisy_run(1)
    del doc["k2"]
    a = write(tmp_path / "a.json", doc)
    b = write(tmp_path / "b.json", noisy_run(2))
    assert len(build_summary(b, baseline=a).to_dict()["comparisons"]) == 6


@pytest.mark.parametrize("bad", [-0.1, 10.0])
def test_bad_fail_threshold(tmp_path: Path, bad: float) -> None:
    a = write(tmp_path / "a.json", noisy_run(1))
    with pytest.raises(ResultsError, match="fail-threshold"):
        build_summary(a, baseline=a, fail_threshold=bad)
