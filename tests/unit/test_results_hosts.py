"""Runs across hosts and shards, as the results store reads them: overlap judged per host,
the hosts of a run, shards that must be the complementary slices of one N, and what a merge
keeps of each source (its shard, machine and hosts) and of what ``--force`` merged over."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from synthetic import cell_dict, journal_line, run_meta, write_run_dir

from k2matrix.errors import ResultsError
from k2matrix.results.document import build_document
from k2matrix.results.journal import read_run
from k2matrix.results.merge import merge_dirs
from k2matrix.results.record import CellRecord
from k2matrix.results.shards import check_shards


def _line(size: int, worker: str, host: str | None, started: float, finished: float
          ) -> dict[str, Any]:
    line = journal_line(cell_dict("producer", "batch", schema="v1", batch_size=size),
                        worker=worker, started=started, finished=finished)
    if host is not None:
        line["host"] = host
    return line


def _k2(doc: dict[str, Any]) -> dict[int, dict[str, Any]]:
    return {b["extra_info"]["k2"]["cell"]["batch_size"]: b["extra_info"]["k2"]
            for b in doc["benchmarks"]}


def test_cells_at_the_same_time_on_two_hosts_did_not_contend(tmp_path: Path) -> None:
    lines = [_line(100, "gw0", "h1", 0.0, 10.0), _line(200, "gw1", "h2", 0.0, 10.0),
             _line(300, "gw2", "h1", 5.0, 10.0)]
    run = write_run_dir(tmp_path / "r", lines)
    records = read_run(run)
    assert {r.host for r in records} == {"h1", "h2"}
    k2 = _k2(build_document(records, run_meta([])))
    # gw0 and gw2 share h1 for half of gw0's span; gw1 on h2 overlapped nobody on its host
    assert (k2[100]["concurrent"], k2[100]["overlap"]) == (True, 0.5)
    assert (k2[200]["concurrent"], k2[200]["overlap"]) == (False, 0.0)
    assert (k2[300]["concurrent"], k2[300]["overlap"]) == (True, 1.0)


def test_records_without_a_host_were_on_the_one_machine_of_their_run(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "r", [_line(100, "gw0", None, 0.0, 10.0),
                                         _line(200, "gw1", None, 0.0, 10.0)])
    doc = build_document(read_run(run), run_meta([]))
    assert all(k2["concurrent"] for k2 in _k2(doc).values())
    assert doc["k2"]["hosts"] == {}


def test_a_run_lists_its_hosts_with_their_workers_and_machines(tmp_path: Path) -> None:
    run = write_run_dir(tmp_path / "r", [_line(100, "gw0", "h1", 0, 1),
                                         _line(200, "gw1", "h2", 0, 1),
                                         _line(300, "gw0", "h1", 1, 2)])
    meta = {**run_meta([]), "hosts": {"h1": {"usable_cores": 2}, "h9": {"usable_cores": 8}}}
    hosts = build_document(read_run(run), meta)["k2"]["hosts"]
    assert hosts == {"h1": {"usable_cores": 2, "workers": ["gw0"], "cells": 2},
                     "h2": {"workers": ["gw1"], "cells": 1},
                     "h9": {"usable_cores": 8}}


def test_a_record_keeps_its_host_through_its_json_form() -> None:
    record = CellRecord(nodeid="t::x", status="passed", host="h1", worker="gw0")
    assert CellRecord.from_json(record.to_json(), "here") == record
    assert "host" not in CellRecord(nodeid="t::x", status="passed").to_json()
    with pytest.raises(ResultsError, match="host = 3: must be a string or null"):
        CellRecord.from_json({**record.to_json(), "host": 3}, "here")


def _meta(shard: tuple[int, int] | None) -> dict[str, Any]:
    return {**run_meta([]), "shard": list(shard) if shard else None}


@pytest.mark.parametrize(("shards", "problem"), [
    ([(1, 3), (2, 3)], "shard 3/3 is missing"),
    ([(1, 2), (1, 2)], "shard 1/2 is given twice: s0 and s1"),
    ([(1, 2), (2, 3)], "the shards are slices of different counts (s0: 1/2, s1: 2/3)"),
    ([(1, 2), None], "s1 is a whole run and s0 is shard 1/2"),
])
def test_shards_that_are_not_complementary_are_refused(
        shards: list[tuple[int, int] | None], problem: str) -> None:
    runs = [(f"s{i}", _meta(s)) for i, s in enumerate(shards)]
    with pytest.raises(ResultsError) as caught:
        check_shards(runs)
    assert problem in str(caught.value) and "--force" in str(caught.value)
    assert problem in check_shards(runs, force=True)[0]


def test_complementary_shards_and_whole_runs_merge() -> None:
    assert check_shards([("a", _meta((2, 2))), ("b", _meta((1, 2)))]) == []
    assert check_shards([("a", _meta(None)), ("b", _meta(None))]) == []


def test_a_merge_keeps_each_shards_machine_and_what_force_merged_over(tmp_path: Path
                                                                      ) -> None:
    a = write_run_dir(tmp_path / "a", [_line(100, "gw0", "h1", 0, 1)],
                      {**_meta((1, 2)), "machine_info": {"node": "h1"},
                       "hosts": {"h1": {"usable_cores": 2}}})
    b = write_run_dir(tmp_path / "b", [_line(200, "gw0", "h2", 0, 1)],
                      {**run_meta([], cpu_count=8), "shard": [2, 2],
                       "machine_info": {"node": "h2"}, "hosts": {"h2": {"usable_cores": 8}}})
    with pytest.raises(ResultsError, match=r"machine_kind\.cpu_count differs"):
        merge_dirs([a, b], tmp_path / "ab")
    k2 = merge_dirs([a, b], tmp_path / "ab", force=True)["k2"]
    assert [(s["run"], s["shard"], s["machine_info"]["node"], s["machine_kind"]["cpu_count"])
            for s in k2["sources"]] == [(str(a), [1, 2], "h1", 2), (str(b), [2, 2], "h2", 8)]
    assert k2["forced"] == [{"key": "machine_kind.cpu_count",
                             "values": {str(a): 2, str(b): 8}}]
    assert set(k2["hosts"]) == {"h1", "h2"} and k2["shard"] is None
    assert k2["cells_passed"] == 2


def test_a_partial_set_of_shards_merges_only_by_force_and_says_so(tmp_path: Path) -> None:
    a = write_run_dir(tmp_path / "a", [_line(100, "gw0", "h1", 0, 1)], _meta((1, 3)))
    b = write_run_dir(tmp_path / "b", [_line(200, "gw0", "h1", 0, 1)], _meta((3, 3)))
    with pytest.raises(ResultsError, match=r"cannot merge: shard 2/3 is missing"):
        merge_dirs([a, b], tmp_path / "ab")
    assert not (tmp_path / "ab").exists()
    k2 = merge_dirs([a, b], tmp_path / "ab", force=True)["k2"]
    assert any("shard 2/3 is missing" in note for note in k2["merge_notes"])
    assert k2["forced"] == []  # nothing of the compatibility rule differed
