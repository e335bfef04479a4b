"""Results beyond Arrow and SQL-text engines (an engine plugged in by import path that takes
its ``config``, runs K2-style ``execute_raw`` SQL text and returns a list of dicts), the
delivery accounting of a platform producer's own client, and runs that differ only in the
implementations they measured."""

from __future__ import annotations

from datetime import UTC, datetime
from pathlib import Path
from typing import Any

import pytest

from k2matrix.backends.config import KafkaConfig
from k2matrix.backends.duckdb_ext import connect
from k2matrix.backends.kafka import open_kafka
from k2matrix.cell import Cell
from k2matrix.compare.impls import compatible_headers
from k2matrix.errors import K2Error, QueryError, VerificationError
from k2matrix.producer.tracked import TrackedProducer
from k2matrix.query.protocol import QueryResult
from k2matrix.query.rounds import RoundChecks
from k2matrix.query.shapes import SHAPES, literal_sql
from k2matrix.query.workload import QueryWorkload

SETTINGS = {"symbols": 20, "rows_per_second": 20}


class SqlTextEngine:
    """SQL text in, whole rows out as dicts (K2's ``execute_raw`` shape), from its config."""

    name = "sql_text"

    def __init__(self, config: Any) -> None:
        self.tables = config.tables
        self.con = connect()

    def run(self, query: str, params: Any = None) -> QueryResult:
        frame = self.con.execute(literal_sql(query, params, self.tables)).fetch_arrow_table()
        return QueryResult(query, frame.to_pylist())

    def profile(self, query: str, params: Any = None) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        self.con.close()


def _workload(tmp_path: Path) -> QueryWorkload:
    cell = Cell(id="query-sql-text", component="query", case="latency",
                params={"engine": "test_plugin_results:SqlTextEngine", "dataset_size": 3000},
                seed=5, settings=SETTINGS)
    return QueryWorkload.for_cell(cell, 11, tmp_path)


def test_dicts_from_sql_text_equal_every_reference(tmp_path: Path) -> None:
    wl = _workload(tmp_path)
    engine = wl.open()
    try:
        checks = RoundChecks(wl)
        for shape in SHAPES:
            result = engine.run(shape, wl.params(shape))
            assert result.form == "dicts"
            checks.verified(result, shape, wl.params(shape))
        info = checks.conversion_info()
        assert info["result_form"] == "dicts" and info["conversion_p50_ms"] >= 0
        wrong = engine.run("aggregation", wl.params("aggregation"))
        wrong.table[0]["trades"] += 1  # the right row count, one wrong value
        with pytest.raises(VerificationError, match="trades"):
            wl.verify(wrong, "aggregation", wl.params("aggregation"))
    finally:
        engine.close()


def test_literal_binding_quotes_strings_and_refuses_naive_times(tmp_path: Path) -> None:
    wl = _workload(tmp_path)
    engine = wl.open()
    try:
        params = {**wl.params("filtered"), "symbol": "O'Brien'); DROP TABLE x; --"}
        assert engine.run("filtered", params).rows_returned == 0
    finally:
        engine.close()
    naive = {"start": datetime(2026, 1, 5), "end": datetime(2026, 1, 6)}
    with pytest.raises(QueryError, match="timezone-aware"):
        literal_sql("time_range", naive, {"trades": "t"})
    aware = {k: v.replace(tzinfo=UTC) for k, v in naive.items()}
    assert "TIMESTAMPTZ '2026-01-05T00:00:00+00:00'" in literal_sql("time_range", aware,
                                                                    {"trades": "t"})


def test_a_platform_producers_own_client_is_counted() -> None:
    seen: list[Any] = []
    with open_kafka(KafkaConfig(mode="mock")) as cluster:
        client = TrackedProducer(cluster.producer_config())
        for i in range(50):
            client.produce("tracked", value=b"v%d" % i, key=b"k",
                           on_delivery=lambda err, msg: seen.append(err))
        client.flush(30)
        report = client.report("tracked")
    assert (report.produced, report.delivered, report.failed) == (50, 50, 0)
    assert seen == [None] * 50  # the platform's own callback still ran


def test_runs_differing_only_in_implementations_compare() -> None:
    base = {"matrix_fingerprint": "a", "cells_fingerprint": "c",
            "impls": {"producer": ["k2"], "writer": ["iceberg"]}}
    cand = {"matrix_fingerprint": "b", "cells_fingerprint": "c",
            "impls": {"producer": ["k2_adapters:K2Producer"], "writer": ["iceberg"]}}
    a, b, notes = compatible_headers(base, cand)
    assert "matrix_fingerprint" not in a and "matrix_fingerprint" not in b
    assert notes and "producer: k2 -> k2_adapters:K2Producer" in notes[0]
    other = {**cand, "cells_fingerprint": "d"}
    assert compatible_headers(base, other) == (base, other, [])


def test_ab_tests_that_do_not_exist_are_refused_naming_the_option(tmp_path: Path) -> None:
    from k2matrix.ab.job import JobRequest, prepare_job

    root = Path(__file__).resolve().parents[2]
    req = JobRequest(kind="ab", specs=("set:", "set:"), matrix=root / "matrix.toml",
                     profile="smoke", trials=1, results=tmp_path, seed=1,
                     tests=Path("tests/no-such-suites"))
    with pytest.raises(K2Error, match="--tests tests/no-such-suites: no such file"):
        prepare_job(req)
