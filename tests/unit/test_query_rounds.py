"""Every timed run of a query is checked (RoundChecks): an engine plugged in by import path
(tests/unit/k2_bugs.py:DriftingEngine) whose first answer is right and whose later answers
have the right row count and a wrong value fails with a VerificationError naming the run
and the column; a right engine passes every run, including answers that differ from the
first only where the reference allows (another LIMIT sample)."""

from __future__ import annotations

from pathlib import Path

import pytest

from k2matrix.cell import Cell
from k2matrix.errors import VerificationError
from k2matrix.query.rounds import RoundChecks
from k2matrix.query.workload import QueryWorkload

SETTINGS = {"symbols": 20, "rows_per_second": 20}


def _workload(tmp_path: Path, engine: str) -> QueryWorkload:
    cell = Cell(id="query-rounds", component="query", case="latency",
                params={"engine": engine, "dataset_size": 3000}, seed=5, settings=SETTINGS)
    return QueryWorkload.for_cell(cell, 11, tmp_path)


@pytest.mark.parametrize("shape", ["filtered", "aggregation", "window"])
def test_right_count_wrong_value_after_the_first_run_fails(tmp_path: Path, shape: str) -> None:
    wl = _workload(tmp_path, "k2_bugs:DriftingEngine")
    params = wl.params(shape)
    engine = wl.open()
    try:
        checks = RoundChecks(wl)
        first = checks.verified(engine.run(shape, params), shape, params)  # right
        checks.keep(engine.run(shape, params), shape, params)  # same rows, one value off
        assert checks.pending[0][2].rows_returned == first.rows_returned
        with pytest.raises(VerificationError) as info:
            checks.check()
    finally:
        engine.close()
    message = str(info.value)
    assert message.startswith(f"timed run 1 of the cell: {shape} ")
    assert "column '" in message and "differs" in message
    assert f"this one returned {first.rows_returned} rows" in message


def test_a_right_engine_passes_every_run(tmp_path: Path) -> None:
    wl = _workload(tmp_path, "duckdb_iceberg_scan")
    engine = wl.open()
    try:
        checks = RoundChecks(wl)
        for shape in ("filtered", "aggregation", "simple_scan"):
            params = wl.params(shape)
            checks.verified(engine.run(shape, params), shape, params)
            for _ in range(3):
                checks.keep(engine.run(shape, params), shape, params)
            checks.check()
    finally:
        engine.close()
    assert checks.checked == 9 and checks.pending == []
    assert checks.summary().startswith("each of 9 timed runs checked against the first")


def test_a_run_of_a_query_never_verified_is_refused(tmp_path: Path) -> None:
    wl = _workload(tmp_path, "duckdb_iceberg_scan")
    engine = wl.open()
    try:
        checks = RoundChecks(wl)
        params = wl.params("filtered")
        checks.keep(engine.run("filtered", params), "filtered", params)
        with pytest.raises(VerificationError, match="never verified before it was timed"):
            checks.check()
    finally:
        engine.close()
