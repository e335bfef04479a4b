"""The run directory on disk: finishing a run (journals merged, crash records, meta.json and
benchmarks.json, the latest link), resume's passed cells, and `k2matrix merge` on bad
input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synthetic import cell_dict, journal_line, run_meta, write_run_dir

from k2matrix.errors import ResultsError
from k2matrix.results.journal import read_run
from k2matrix.results.merge import merge_dirs
from k2matrix.results.record import CellRecord
from k2matrix.results.store import ensure_meta, finish_run, passed_nodeids, point_latest

CELLS = [cell_dict("producer", "batch", schema="v1", batch_size=n) for n in (100, 1000, 10000)]


def _records(worker: str, spans: list[tuple[float, float]], status: str = "passed"
             ) -> list[CellRecord]:
    return [CellRecord.from_json(journal_line(cell, status=status, worker=worker,
                                              started=a, finished=b), "made")
            for cell, (a, b) in zip(CELLS, spans, strict=False)]


def test_a_session_without_cells_finishes_nothing(tmp_path: Path) -> None:
    def no_meta() -> dict[str, Any]:
        raise AssertionError("meta is assembled only for a run to finish")

    assert finish_run(tmp_path / "run", [], {}, no_meta) is None
    assert not (tmp_path / "run").exists()


def test_finishing_a_run_writes_its_files_and_moves_latest(tmp_path: Path) -> None:
    results = tmp_path / "results"
    old = results / "old"
    old.mkdir(parents=True)
    point_latest(old)
    run_dir = results / "new"
    on_disk = _records("gw0", [(0, 10)])
    ensure_meta(run_dir, lambda: run_meta([c["id"] for c in CELLS]))
    write_run_dir(run_dir, [r.to_json() for r in on_disk],
                  json.loads((run_dir / "meta.json").read_text()))
    in_memory = _records("gw1", [(5, 15), (20, 30)])[1:]  # the second cell, from gw1
    nodeid = "tests/performance/test_producer.py::test_batch[producer-batch-v1-b10000]"
    meta = {**run_meta([c["id"] for c in CELLS]), "run_id": "new"}
    doc = finish_run(run_dir, in_memory, {nodeid: "worker 'gw1' crashed"}, lambda: meta)
    assert doc is not None
    assert json.loads((run_dir / "benchmarks.json").read_text()) == doc
    assert json.loads((run_dir / "meta.json").read_text()) == meta
    assert (results / "latest").resolve() == run_dir.resolve()
    assert [b["extra_info"]["k2"]["cell"]["id"] for b in doc["benchmarks"]] == \
        [CELLS[0]["id"], CELLS[1]["id"]]
    assert [f["status"] for f in doc["k2"]["failed"]] == ["crashed"]
    assert doc["k2"]["failed"][0]["nodeid"] == nodeid
    assert doc["k2"]["cells_missing"] == [CELLS[2]["id"]]
    # the crash is journaled too, so that a later merge or resume sees it
    crash = [r for r in read_run(run_dir) if r.status == "crashed"]
    assert [r.nodeid for r in crash] == [nodeid] and (run_dir / "journal-controller.jsonl"
                                                      ).is_file()


def test_concurrency_is_decided_at_the_merge_from_every_worker(tmp_path: Path) -> None:
    """gw0's 0-10 s overlaps gw1's 5-15 s; gw1's 20-30 s overlaps nothing."""
    records = _records("gw0", [(0, 10)]) + _records("gw1", [(0, 0), (5, 15), (20, 30)])[1:]
    doc = finish_run(tmp_path / "run", records, {}, lambda: run_meta([]))
    assert doc is not None
    marks = {b["extra_info"]["k2"]["cell"]["id"]: b["extra_info"]["k2"]["concurrent"]
             for b in doc["benchmarks"]}
    assert marks == {CELLS[0]["id"]: True, CELLS[1]["id"]: True, CELLS[2]["id"]: False}


def test_latest_that_is_not_a_link_is_left_alone(tmp_path: Path) -> None:
    (tmp_path / "latest").mkdir()
    (tmp_path / "run").mkdir()
    point_latest(tmp_path / "run")
    assert (tmp_path / "latest").is_dir() and not (tmp_path / "latest").is_symlink()


def test_ensure_meta_keeps_the_first_meta(tmp_path: Path) -> None:
    ensure_meta(tmp_path, lambda: {"format_version": 1, "run_id": "first"})
    ensure_meta(tmp_path, lambda: {"format_version": 1, "run_id": "second"})
    assert json.loads((tmp_path / "meta.json").read_text())["run_id"] == "first"


def test_resume_skips_the_cells_that_passed_last(tmp_path: Path) -> None:
    lines = [journal_line(CELLS[0], finished=1.0),
             journal_line(CELLS[1], status="failed", finished=1.0),
             journal_line(CELLS[2], status="failed", finished=1.0),
             journal_line(CELLS[2], finished=2.0)]  # re-run by an earlier resume: passed
    run_dir = write_run_dir(tmp_path / "run", lines)
    assert passed_nodeids(run_dir) == {lines[0]["nodeid"], lines[3]["nodeid"]}
    assert passed_nodeids(tmp_path) == set()  # no journal: nothing passed


def test_merge_refuses_runs_that_measured_nothing(tmp_path: Path) -> None:
    a = write_run_dir(tmp_path / "a", [journal_line(CELLS[0], status="skipped")])
    b = write_run_dir(tmp_path / "b", [])
    with pytest.raises(ResultsError) as caught:
        merge_dirs([a, b], tmp_path / "ab")
    message = str(caught.value)
    assert message.startswith(f"{a}, {b}: no cell was measured")
    assert "run a sweep" in message and "-k selection" in message
    assert not (tmp_path / "ab").exists()
    # one shard that measured nothing beside one that did is an ordinary merge
    c = write_run_dir(tmp_path / "c", [journal_line(CELLS[1])])
    assert merge_dirs([a, c], tmp_path / "ac")["k2"]["cells_passed"] == 1


@pytest.mark.parametrize(("make", "words"), [
    (lambda p: None, "no such run directory"),
    (lambda p: p.write_text("{}"), "is a file, not a run directory"),
    (lambda p: p.mkdir(), "not a k2matrix run directory (no meta.json)"),
], ids=["missing", "a file", "not a run directory"])
def test_merge_names_the_bad_input(tmp_path: Path, make: Any, words: str) -> None:
    good = write_run_dir(tmp_path / "good", [journal_line(CELLS[0])])
    bad = tmp_path / "bad"
    make(bad)
    with pytest.raises(ResultsError) as caught:
        merge_dirs([good, bad], tmp_path / "out")
    assert str(caught.value).startswith(f"{bad}: {words}")
    assert "results/<run-id>" in str(caught.value)


def test_merge_into_a_path_that_cannot_be_a_directory(tmp_path: Path) -> None:
    good = write_run_dir(tmp_path / "good", [journal_line(CELLS[0])])
    (tmp_path / "file").write_text("x")
    with pytest.raises(ResultsError, match=r"--results .*file/out: cannot create the directory"):
        merge_dirs([good], tmp_path / "file" / "out")
