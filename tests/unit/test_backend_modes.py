"""Runs measured against backends in different modes (the librdkafka mock cluster and a
broker at bootstrap servers, say) do not compare, merge or A/B: ``compare``, ``summary
--baseline``, ``merge`` and ``ab`` exit 2 naming the backend; ``--force`` overrides and the
output says it was forced; a run without the environment record is not checked, and a note
says so."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synthetic import journal_line, run_meta, trials_document, write_run_dir

from k2matrix.backends.config import Backends
from k2matrix.cli import main as k2matrix
from k2matrix.errors import ResultsError
from k2matrix.results.environment import environment
from k2matrix.results.merge import check_backends, merge_dirs

ROOT = Path(__file__).resolve().parents[2]
MOCK = environment(Backends(), {}, {})
BROKER = environment(Backends().with_environment({"K2_KAFKA_BOOTSTRAP": "127.0.0.1:1"}), {}, {})


def _run(path: Path, env: dict[str, Any] | None, seed: int = 0) -> Path:
    doc = trials_document(4, trials=3, seed=seed)
    if env is not None:
        doc["k2"]["environment"] = env
    path.write_text(json.dumps(doc))
    return path


def test_the_record_says_which_mode(tmp_path: Path) -> None:
    assert MOCK["backends"]["kafka"]["mode"] == "mock"
    assert BROKER["backends"]["kafka"]["mode"] == "bootstrap"


def test_compare_refuses_other_backends_naming_them_and_force_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = _run(tmp_path / "a.json", MOCK), _run(tmp_path / "b.json", BROKER, seed=1)
    assert k2matrix(["compare", str(cand), "--baseline", str(base)]) == 2
    err = capsys.readouterr().err
    assert "the Kafka backend differs: mock in the baseline" in err
    assert "bootstrap in the candidate" in err and "--force" in err
    assert k2matrix(["compare", str(cand), "--baseline", str(base), "--force",
                     "--format", "json"]) in (0, 1)
    doc = json.loads(capsys.readouterr().out)
    assert any(n.startswith("forced (--force): the Kafka backend differs") for n in doc["notes"])
    assert k2matrix(["compare", str(cand), "--baseline", str(base), "--force"]) in (0, 1)
    assert "forced (--force)" in capsys.readouterr().out


def test_summary_baseline_refuses_them_too(tmp_path: Path,
                                           capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = _run(tmp_path / "a.json", MOCK), _run(tmp_path / "b.json", BROKER, seed=1)
    assert k2matrix(["summary", str(cand), "--baseline", str(base)]) == 2
    assert "the Kafka backend differs" in capsys.readouterr().err
    assert k2matrix(["summary", str(cand), "--baseline", str(base), "--force"]) in (0, 1)
    assert "Note: forced (--force): the Kafka backend differs" in capsys.readouterr().out


def test_runs_of_the_same_modes_compare_and_unknown_ones_are_noted(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base, cand = _run(tmp_path / "a.json", MOCK), _run(tmp_path / "b.json", MOCK, seed=1)
    assert k2matrix(["compare", str(cand), "--baseline", str(base), "--format", "json"]) == 0
    assert not any("forced" in n for n in json.loads(capsys.readouterr().out)["notes"])
    old = _run(tmp_path / "old.json", None, seed=2)
    assert k2matrix(["compare", str(cand), "--baseline", str(old), "--format", "json"]) == 0
    notes = json.loads(capsys.readouterr().out)["notes"]
    assert any("old.json: environment unknown" in n and "not checked" in n for n in notes)


def _run_dir(path: Path, env: dict[str, Any] | None, cells: tuple[str, ...]) -> Path:
    lines = [journal_line({"id": c, "component": "writer", "case": "append", "schema": "v2",
                           "seed": 0, "slow": False, "settings": {}}) for c in cells]
    meta = run_meta(list(cells))
    if env is not None:
        meta["environment"] = env
    return write_run_dir(path, lines, meta)


def test_merge_refuses_other_backends_and_force_says_so(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    a = _run_dir(tmp_path / "a", MOCK, ("writer-append-v2-b1",))
    b = _run_dir(tmp_path / "b", BROKER, ("writer-append-v2-b2",))
    with pytest.raises(ResultsError, match="cannot merge: the Kafka backend differs"):
        merge_dirs([a, b], tmp_path / "ab")
    out = tmp_path / "merged"
    assert k2matrix(["merge", str(a), str(b), "--results", str(out)]) == 2
    assert "the Kafka backend differs: mock in" in capsys.readouterr().err
    assert not (out / "benchmarks.json").exists()
    assert k2matrix(["merge", str(a), str(b), "--results", str(out), "--force"]) == 0
    said = capsys.readouterr().out
    assert "note: forced (--force): the Kafka backend differs" in said
    merged = json.loads((out / "meta.json").read_text())
    assert merged["merge_notes"][0].startswith("forced (--force)")


def test_check_backends_names_every_differing_backend() -> None:
    other = environment(Backends().with_environment(
        {"K2_KAFKA_BOOTSTRAP": "127.0.0.1:1", "K2_SCHEMA_REGISTRY_URL": "http://r:8081",
         "K2_STORAGE": "s3"}), {}, {})
    with pytest.raises(ResultsError) as raised:
        check_backends([("a", {"environment": MOCK}), ("b", {"environment": other})])
    message = str(raised.value)
    for name in ("Kafka", "schema registry", "storage"):
        assert f"the {name} backend differs" in message
    assert "catalog" not in message
    assert check_backends([("a", {"environment": MOCK})]) == []


def test_ab_refuses_sides_on_other_backends_before_any_trial(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    results = tmp_path / "results"
    argv = ["ab", "--baseline", "set:", "--candidate", "env:K2_KAFKA_BOOTSTRAP=127.0.0.1:1",
            "--matrix", str(ROOT / "matrix.toml"), "--results", str(results), "--run-id", "x",
            "-k", "nothing-matches-this"]
    assert k2matrix(argv) == 2
    err = capsys.readouterr().err
    assert "the Kafka backend differs: mock in the baseline set:" in err
    assert "bootstrap in the candidate env:K2_KAFKA_BOOTSTRAP=127.0.0.1:1" in err
    assert "--force" in err
    assert not (results / "x").exists()  # refused before any trial ran


def test_an_ab_comparison_forces_its_matrices_but_not_its_backends(tmp_path: Path) -> None:
    """``ab`` compares sides whose matrices differ (that is the A/B), never sides on other
    backends unless ``ab --force`` (``compare_sides(force=...)``: ``force_backends``)."""
    from k2matrix.compare.runs import compare_runs
    from k2matrix.results.load import load_run

    base = load_run(_run(tmp_path / "a.json", MOCK))
    cand_doc = trials_document(4, trials=3, seed=1, fingerprint="f" * 16)
    cand_doc["k2"]["environment"] = BROKER
    (tmp_path / "b.json").write_text(json.dumps(cand_doc))
    cand = load_run(tmp_path / "b.json")
    with pytest.raises(ResultsError, match="the Kafka backend differs"):
        compare_runs(base, cand, force=True, force_backends=False)
    doc = compare_runs(base, cand, force=True, force_backends=True)
    assert any(n.startswith("forced (--force): the Kafka") for n in doc["notes"])
