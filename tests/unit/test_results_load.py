"""Reading a results file or directory for the summary (results.load.load_run): documents of
the wrong shape, a run in which no cell was measured (an error, never a Good verdict) and a
run whose cells all failed (Needs Investigation, failures listed)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document, journal_line, run_meta, write_run_dir

from k2matrix.errors import ResultsError
from k2matrix.results.load import load_run
from k2matrix.summary import build_summary

CELL = cell_dict("writer", "append", schema="v2", batch_size=100)
GOOD = document([benchmark(CELL, [0.01, 0.011, 0.012])])

# (what, the document, words the message holds)
WRONG_SHAPES: list[tuple[str, Any, list[str]]] = [
    ("a list", [GOOD], ["not a pytest-benchmark results file", "holds a JSON list"]),
    ("a number", 3, ["holds a JSON number"]),
    ("no benchmarks", {"machine_info": {}, "version": "5"},
     ["no \"benchmarks\" list", "'machine_info', 'version'"]),
    ("benchmarks an object", {"benchmarks": {"a": 1}}, ["\"benchmarks\" is a JSON object"]),
    ("a benchmark without stats", {"benchmarks": [{"name": "t"}]},
     ["benchmarks[0] (t): no \"stats\" object"]),
    ("a benchmark a string", {"benchmarks": ["t"]}, ["benchmarks[0]: must be an object"]),
    ("k2 a list", {**GOOD, "k2": [1]}, ["\"k2\" must be an object, found a JSON list"]),
    ("k2 newer", {**GOOD, "k2": {**GOOD["k2"], "format_version": 2}},
     ["k2.format_version = 2", "upgrade k2matrix"]),
    ("k2 format as text", {**GOOD, "k2": {**GOOD["k2"], "format_version": "1"}},
     ["k2.format_version = '1'"]),
    ("k2.failed an object", {**GOOD, "k2": {**GOOD["k2"], "failed": {"x": 1}}},
     ["k2.failed must be a JSON list, found a JSON object", "k2matrix merge"]),
    ("k2.machine_kind a list", {**GOOD, "k2": {**GOOD["k2"], "machine_kind": [2]}},
     ["k2.machine_kind must be a JSON object"]),
]


@pytest.mark.parametrize(("doc", "words"), [w[1:] for w in WRONG_SHAPES],
                         ids=[w[0] for w in WRONG_SHAPES])
def test_a_document_of_the_wrong_shape_names_the_file(tmp_path: Path, doc: Any,
                                                      words: list[str]) -> None:
    path = tmp_path / "run.json"
    path.write_text(json.dumps(doc))
    with pytest.raises(ResultsError) as caught:
        load_run(path)
    message = str(caught.value)
    assert message.startswith(f"{path}: ")
    for word in words:
        assert word in message


def test_a_damaged_merged_file_points_at_the_journals(tmp_path: Path) -> None:
    run_dir = write_run_dir(tmp_path / "run", [journal_line(CELL)])
    (run_dir / "benchmarks.json").write_text('{"benchmarks": [')
    with pytest.raises(ResultsError) as caught:
        load_run(run_dir)
    assert str(caught.value).startswith(f"{run_dir / 'benchmarks.json'}: invalid JSON")
    assert "k2matrix merge" in str(caught.value)


def _assert_no_cell_error(path: Path, source: Path, detail: str) -> None:
    with pytest.raises(ResultsError) as caught:
        build_summary(path)
    message = str(caught.value)
    assert message.startswith(f"{source}: no cell was measured ({detail})")
    assert "run a sweep" in message and "profile" in message and "-k selection" in message


def test_a_file_with_no_measured_cell_is_an_error(tmp_path: Path) -> None:
    plain = tmp_path / "plain.json"
    plain.write_text(json.dumps({"benchmarks": []}))
    _assert_no_cell_error(plain, plain, "its benchmarks list is empty")
    merged = tmp_path / "run"
    merged.mkdir()
    doc = document([])
    doc["k2"]["cells_planned"] = ["a", "b", "c"]
    (merged / "benchmarks.json").write_text(json.dumps(doc))
    _assert_no_cell_error(merged, merged / "benchmarks.json",
                          "none of its 3 planned cell(s) has a result")


def test_a_run_whose_cells_were_all_skipped_measured_nothing(tmp_path: Path) -> None:
    """An interrupted run read from its journals: skipped lines are no measurement."""
    lines = [journal_line(cell_dict("writer", "append", schema=s), status="skipped")
             for s in ("v1", "v2")]
    run_dir = write_run_dir(tmp_path / "run", lines)
    _assert_no_cell_error(run_dir, run_dir, "none of its 2 planned cell(s) has a result")


def test_a_run_whose_cells_all_failed_needs_investigation(tmp_path: Path) -> None:
    failed = ["writer-append-v1", "writer-append-v2"]
    path = tmp_path / "failed.json"
    path.write_text(json.dumps(document([], failed=failed)))
    summary = build_summary(path)
    out = summary.to_dict()
    assert out["verdict"] == "Needs Investigation"
    assert out["verdict_reason"].startswith("2 cell(s) failed")
    assert [f["id"] for f in out["failed"]] == failed
    assert out["cells"] == [] and summary.exit_code == 0


def test_an_interrupted_run_whose_cells_all_failed_reads_from_its_journals(
        tmp_path: Path) -> None:
    lines = [journal_line(cell_dict("writer", "append", schema=s), status="failed",
                          error="E   AssertionError: row count") for s in ("v1", "v2")]
    run_dir = write_run_dir(tmp_path / "run", lines, run_meta([]))
    out = build_summary(run_dir).to_dict()
    assert out["verdict"] == "Needs Investigation"
    assert {f["id"] for f in out["failed"]} == {"writer-append-v1", "writer-append-v2"}
    assert all(f["error"] == "E   AssertionError: row count" for f in out["failed"])
    assert any("no benchmarks.json" in note for note in out["notes"])


def test_a_bad_journal_line_in_a_run_directory_names_file_and_line(tmp_path: Path) -> None:
    run_dir = write_run_dir(tmp_path / "run", [journal_line(CELL),
                                               {**journal_line(CELL), "status": "done"},
                                               journal_line(CELL)])
    with pytest.raises(ResultsError, match=r"journal-gw0\.jsonl:2: .*status = 'done'"):
        load_run(run_dir)
