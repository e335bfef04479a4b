"""The results store: journal reading (torn lines, versions), latest-wins, concurrency marks,
and the merged document."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from k2matrix.errors import ResultsError
from k2matrix.results.document import build_document, mark_concurrency, overhead
from k2matrix.results.journal import Journal, latest, read_journal, read_run
from k2matrix.results.merge import check_compatible
from k2matrix.results.record import CellRecord


def _record(nodeid: str, status: str = "passed", worker: str = "gw0", started: float = 0.0,
            finished: float = 1.0, with_bench: bool = True) -> CellRecord:
    bench = {"fullname": nodeid, "name": nodeid, "extra_info": {"k2": {}},
             "stats": {"data": [0.1, 0.2], "median": 0.15}} if with_bench else None
    return CellRecord(nodeid=nodeid, status=status, cell={"id": nodeid}, worker=worker,
                      started=started, finished=finished, benchmark=bench, error=None)


def test_journal_lines_are_read_back(tmp_path: Path) -> None:
    journal = Journal(tmp_path, "gw0")
    journal.append(_record("a"))
    journal.append(_record("b", status="failed"))
    journal.close()
    assert [r.nodeid for r in read_journal(tmp_path / "journal-gw0.jsonl")] == ["a", "b"]


def test_a_torn_last_line_from_a_killed_worker_is_skipped(tmp_path: Path) -> None:
    path = tmp_path / "journal-gw1.jsonl"
    path.write_text(json.dumps(_record("a").to_json()) + "\n"
                    + '{"format_version": 1, "nodeid": "b", "sta')
    assert [r.nodeid for r in read_journal(path)] == ["a"]


def test_a_damaged_line_in_the_middle_is_an_error(tmp_path: Path) -> None:
    path = tmp_path / "journal-gw0.jsonl"
    path.write_text(json.dumps(_record("a").to_json()) + "\nnot json\n"
                    + json.dumps(_record("b").to_json()) + "\n")
    with pytest.raises(ResultsError, match=r"journal-gw0.jsonl:2: not a JSON line"):
        list(read_journal(path))


def test_an_unknown_format_version_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "journal-gw0.jsonl"
    path.write_text(json.dumps({**_record("a").to_json(), "format_version": 99}) + "\n")
    with pytest.raises(ResultsError, match="format_version 99 is not supported"):
        list(read_journal(path))


def test_latest_record_per_test_wins(tmp_path: Path) -> None:
    old = _record("a", status="failed", finished=1.0)
    new = _record("a", status="passed", finished=2.0)
    assert latest([new, old]) == [new]
    Journal(tmp_path, "gw0").append(old)
    Journal(tmp_path, "gw1").append(new)
    assert [r.status for r in read_run(tmp_path)] == ["passed"]


def test_concurrency_is_marked_from_overlapping_spans() -> None:
    a = _record("a", worker="gw0", started=0, finished=10)
    b = _record("b", worker="gw1", started=5, finished=15)
    c = _record("c", worker="gw0", started=20, finished=30)
    mark_concurrency([a, b, c])
    marks = [r.benchmark["extra_info"]["k2"]["concurrent"] for r in (a, b, c) if r.benchmark]
    assert marks == [True, True, False]


def test_merged_document_lists_failed_and_missing_cells() -> None:
    records = [_record("a"), _record("b", status="failed", with_bench=False)]
    doc = build_document(records, {"cells_planned": ["a", "b", "c"], "versions": {}})
    assert [b["fullname"] for b in doc["benchmarks"]] == ["a"]
    assert doc["k2"]["failed"][0]["nodeid"] == "b"
    assert doc["k2"]["cells_missing"] == ["b", "c"]


@pytest.mark.parametrize(("key", "value", "named"), [
    ("matrix_fingerprint", "other", "matrix_fingerprint differs"),
    ("profile", "full", "profile differs"),
    ("machine_kind", {"cpu_count": 64}, "machine_kind.cpu_count differs"),
])
def test_incompatible_runs_name_the_key(key: str, value: Any, named: str) -> None:
    base = {"format_version": 1, "matrix_fingerprint": "f", "profile": "smoke",
            "machine_kind": {"cpu_count": 2}}
    other = {**base, key: value}
    with pytest.raises(ResultsError, match=named):
        check_compatible([("a", base), ("b", other)])
    check_compatible([("a", base), ("b", other)], force=True)


def test_overhead_is_a_share_of_wall_and_of_timed_time() -> None:
    slow = _record("a", started=0.0, finished=2.0)
    slow.overhead_s = 0.001
    assert slow.benchmark is not None
    slow.benchmark["stats"]["data"] = [0.1] * 5  # 0.5 s timed, 2 s wall
    tiny = _record("b", started=0.0, finished=0.005)
    tiny.overhead_s = 0.001
    assert tiny.benchmark is not None
    tiny.benchmark["stats"]["data"] = [0.001]  # under 10 ms: not counted
    result = overhead([slow, tiny])
    assert result["cells"] == 1
    assert result["of_wall"] == {"median": 0.0005, "max": 0.0005}
    assert result["of_timed"] == {"median": 0.002, "max": 0.002}
