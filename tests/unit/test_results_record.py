"""CellRecord: the JSON round trip (the keys of format version 1), the crash record, and
validation of journal lines of the wrong shape (a ResultsError naming file and line)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synthetic import cell_dict, journal_line

from k2matrix.errors import ResultsError
from k2matrix.results.journal import Journal, read_journal
from k2matrix.results.record import CRASHED, CellRecord

CELL = cell_dict("writer", "append", schema="v2", batch_size=100)
# the keys docs/architecture.md "Results" documents for a journal line
V1_KEYS = {"format_version", "nodeid", "cell", "status", "error", "worker", "pid", "started",
           "finished", "benchmark", "overhead_s"}


def test_a_journal_line_reads_and_writes_back_unchanged() -> None:
    line = journal_line(CELL, started=10.0, finished=12.5)
    record = CellRecord.from_json(line, "j:1")
    assert record.to_json() == line
    assert set(record.to_json()) == V1_KEYS
    assert (record.cell_id, record.passed, record.overhead_s) == (CELL["id"], True, 0.0005)


@pytest.mark.parametrize("status", ["passed", "failed", "error", "skipped"])
def test_a_record_survives_the_journal_round_trip(tmp_path: Path, status: str) -> None:
    record = CellRecord.from_json(journal_line(CELL, status=status, error="E  boom"
                                              if status != "passed" else None), "made")
    journal = Journal(tmp_path, "gw3")
    journal.append(record)
    journal.close()
    [back] = read_journal(tmp_path / "journal-gw3.jsonl")
    assert back == record
    assert back.passed is (status == "passed")
    assert (back.benchmark is None) is (status != "passed")


def test_optional_keys_of_older_lines_read_as_absent() -> None:
    """A line without pid, overhead_s or timestamps (early format 1 writers) still reads;
    written back, overhead_s stays absent and pid is null."""
    line = journal_line(CELL)
    for key in ("pid", "overhead_s", "started", "finished", "error", "worker"):
        del line[key]
    record = CellRecord.from_json(line, "old:1")
    assert (record.pid, record.overhead_s, record.started, record.worker) == \
        (None, None, 0.0, None)
    out = record.to_json()
    assert "overhead_s" not in out and out["pid"] is None
    assert CellRecord.from_json(out, "again") == record


def test_the_crash_record() -> None:
    record = CellRecord.crashed("tests/performance/test_w.py::test_x[c1]", "worker died",
                                at=100.0)
    assert (record.status, record.cell, record.cell_id, record.benchmark, record.worker) == \
        (CRASHED, None, None, None, None)
    assert (record.started, record.finished, record.error) == (100.0, 100.0, "worker died")
    line = record.to_json()
    assert set(line) == V1_KEYS - {"overhead_s"}
    assert line["status"] == "crashed" and line["format_version"] == 1
    assert CellRecord.from_json(json.loads(json.dumps(line)), "c:1") == record


# (what, edit of a good line, words the message must hold besides "where"); a damaged line's
# fix is to drop it and re-run its cell (--k2-resume), a newer format's is an upgrade
BAD_LINES: list[tuple[str, Any, list[str]]] = [
    ("a list", ["not", "an", "object"], ["must be a JSON object", "found list", "--k2-resume"]),
    ("a string", "passed", ["must be a JSON object", "found str", "--k2-resume"]),
    ("no nodeid", {"nodeid": None}, ["nodeid = None", "--k2-resume"]),
    ("empty nodeid", {"nodeid": ""}, ["nodeid = ''", "--k2-resume"]),
    ("unknown status", {"status": "ok"}, ["status = 'ok'", "passed, failed", "--k2-resume"]),
    ("cell a list", {"cell": [1]}, ["cell = [1]", "JSON object or null", "--k2-resume"]),
    ("error a number", {"error": 3}, ["error = 3", "string or null", "--k2-resume"]),
    ("pid a boolean", {"pid": True}, ["pid = True", "whole number", "--k2-resume"]),
    ("started text", {"started": "noon"}, ["started = 'noon'", "number of seconds", "--k2-resume"]),
    ("finished a boolean", {"finished": False}, ["finished = False", "--k2-resume"]),
    ("benchmark a list", {"benchmark": []}, ["benchmark must be", "found list", "--k2-resume"]),
    ("benchmark without stats", {"benchmark": {"name": "t"}},
     ["no \"stats\" object", "--k2-resume"]),
    ("extra_info a list", {"benchmark": {"stats": {}, "extra_info": []}},
     ["extra_info must be an object", "--k2-resume"]),
    ("overhead text", {"overhead_s": "1ms"}, ["overhead_s = '1ms'", "--k2-resume"]),
    ("newer format", {"format_version": 2}, ["format_version 2 is not supported", "upgrade"]),
    ("format as text", {"format_version": "1"}, ["format_version '1' is not supported"]),
    ("format a boolean", {"format_version": True}, ["format_version True"]),
    ("no format", {"format_version": None}, ["format_version None"]),
]


@pytest.mark.parametrize(("edit", "words"), [b[1:] for b in BAD_LINES],
                         ids=[b[0] for b in BAD_LINES])
def test_a_line_of_the_wrong_shape_names_file_and_line(tmp_path: Path, edit: Any,
                                                       words: list[str]) -> None:
    good = journal_line(cell_dict("writer", "append", schema="v1"))
    bad = {**journal_line(CELL), **edit} if isinstance(edit, dict) else edit
    path = tmp_path / "journal-gw0.jsonl"
    path.write_text(json.dumps(good) + "\n" + json.dumps(bad) + "\n")
    with pytest.raises(ResultsError) as caught:
        list(read_journal(path))
    message = str(caught.value)
    assert message.startswith(f"{path}:2: ")
    for word in words:
        assert word in message
