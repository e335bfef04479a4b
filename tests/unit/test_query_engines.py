"""Query engines on real (small) Iceberg tables: every shape on every engine and layout equals
the reference; bound parameters; SQL errors, missing and corrupt tables; plug-in engines."""

from __future__ import annotations

import re
import shutil
from collections.abc import Mapping
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest

from k2matrix.axes import ENGINES
from k2matrix.backends.duckdb_ext import connect, extension_path
from k2matrix.errors import BackendError, QueryError
from k2matrix.implementations import PluginError
from k2matrix.query.compare import check_result
from k2matrix.query.datasets import Dataset, DatasetKey, dataset_seed, ensure_dataset
from k2matrix.query.engine import execute_query, open_engine
from k2matrix.query.protocol import QueryEngine, QueryResult
from k2matrix.query.reference import reference
from k2matrix.query.shapes import SHAPES, DataWindow, default_params
from k2matrix.workload.generate import generate_table

ROWS = 4000
SETTINGS = {"symbols": 25, "skew": 1.1, "rows_per_second": 20}  # 200 s of market time
LAYOUTS = ("unpartitioned", "day_symbol", "sorted")


@pytest.fixture(scope="module")
def datasets(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Dataset]:
    work = tmp_path_factory.mktemp("query")
    seed = dataset_seed(11, ROWS)
    return {layout: ensure_dataset(work, DatasetKey.create(ROWS, layout, seed, SETTINGS))
            for layout in LAYOUTS}


@pytest.fixture(scope="module")
def generated(datasets: dict[str, Dataset]) -> dict[str, Any]:
    key = datasets["unpartitioned"].key
    return {name: generate_table(key.spec(name)) for name in ("trades", "quotes")}


@pytest.fixture(scope="module")
def window(datasets: dict[str, Dataset]) -> DataWindow:
    return DataWindow.from_spec(datasets["unpartitioned"].key.spec("trades"))


def _params(shape: str, window: DataWindow) -> dict[str, Any]:
    params: dict[str, Any] = default_params(shape, window)
    if shape == "filtered":
        params["symbol"] = window.symbol(2)  # popular enough to have rows in 4,000
    if "start" in params and shape != "filtered":
        params["start"], params["end"] = window.fraction(0.2, 0.7)
    return params


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("engine_name", list(ENGINES))
def test_every_shape_equals_the_reference(engine_name: str, layout: str,
                                          datasets: dict[str, Dataset],
                                          generated: Mapping[str, Any],
                                          window: DataWindow) -> None:
    engine = open_engine(engine_name, datasets[layout].metadata_locations())
    try:
        for shape in SHAPES:
            params = _params(shape, window)
            result = engine.run(shape, params)
            expected = reference(shape, params, generated)
            check_result(result.table, expected, f"{engine_name}/{layout}/{shape}")
            if shape == "market_summary":  # one row: the day's summary, over many trades
                assert result.arrow()["trade_count"][0].as_py() > 1, "a summary of one trade"
            elif shape not in ("simple_scan", "subquery"):
                assert result.rows_returned > 1, f"{shape}: too few rows to test anything"
    finally:
        engine.close()


def test_engines_agree_row_for_row(datasets: dict[str, Dataset], window: DataWindow) -> None:
    tables = datasets["day_symbol"].metadata_locations()
    engines = [open_engine(name, tables) for name in ENGINES]
    try:
        for shape in SHAPES:
            if SHAPES[shape].sample:
                continue
            params = _params(shape, window)
            first, *others = [e.run(shape, params) for e in engines]
            for other in others:
                from k2matrix.query.reference import Expected

                expected = Expected(_as_frame(first), SHAPES[shape].order_by)
                check_result(other.table, expected, shape)
    finally:
        for e in engines:
            e.close()


def _as_frame(result: QueryResult) -> Any:
    import polars as pl

    return pl.from_arrow(result.table)


def test_pruning_is_reported(datasets: dict[str, Dataset], window: DataWindow) -> None:
    params = _params("filtered", window)
    with_files = open_engine("duckdb_parquet", datasets["day_symbol"].metadata_locations())
    scan = open_engine("duckdb_iceberg_scan", datasets["day_symbol"].metadata_locations())
    try:
        stats = with_files.run("filtered", params).stats
        assert stats["files_planned"] == 1 and stats["files_pruned"] == stats["files_total"] - 1
        assert 0 < stats["rows_in_planned_files"] < ROWS
        profile = scan.profile("filtered", params)
        assert profile["files_read"] == 1 and profile["files_total"] > 1
    finally:
        with_files.close()
        scan.close()


def test_parameters_are_bound_not_formatted(datasets: dict[str, Dataset],
                                            window: DataWindow) -> None:
    params = _params("filtered", window)
    params["symbol"] = "AAA' OR '1'='1"
    for name in ENGINES:
        engine = open_engine(name, datasets["unpartitioned"].metadata_locations())
        try:
            assert engine.run("filtered", params).rows_returned == 0
        finally:
            engine.close()


def test_raw_sql_with_bound_parameters_and_k2_rows(datasets: dict[str, Dataset],
                                                    window: DataWindow) -> None:
    for name in ("duckdb_iceberg_scan", "duckdb_parquet"):
        engine = open_engine(name, datasets["sorted"].metadata_locations())
        try:
            rows = execute_query(engine, "SELECT symbol, timestamp FROM trades "
                                 "WHERE symbol = $1 ORDER BY timestamp LIMIT 3",
                                 [window.symbol(0)])
            assert len(rows) == 3 and rows[0]["symbol"] == window.symbol(0)
            assert rows[0]["timestamp"].tzinfo is not None
            assert rows[0]["timestamp"] <= rows[1]["timestamp"]
        finally:
            engine.close()


def test_sql_error_names_the_query_id(datasets: dict[str, Dataset]) -> None:
    engine = open_engine("duckdb_iceberg_scan", datasets["unpartitioned"].metadata_locations())
    try:
        with pytest.raises(QueryError, match=r"query sql-[0-9a-f]{8} failed on "
                                             r"duckdb_iceberg_scan: .*no_such_column"):
            engine.run("SELECT no_such_column FROM trades")
        with pytest.raises(QueryError, match=r"unknown query shape 'filterd'.*known shapes"):
            engine.run("filterd", {})
    finally:
        engine.close()


def test_polars_refuses_parameters_in_raw_sql(datasets: dict[str, Dataset]) -> None:
    engine = open_engine("polars", datasets["unpartitioned"].metadata_locations())
    with pytest.raises(QueryError, match="cannot bind parameters"):
        engine.run("SELECT count(*) FROM trades WHERE symbol = $1", ["AAA"])
    assert engine.run("SELECT count(*) AS n FROM trades").table.column("n")[0].as_py() == ROWS


def test_shape_needing_a_table_that_is_not_open(datasets: dict[str, Dataset],
                                                window: DataWindow) -> None:
    only_trades = {"trades": datasets["unpartitioned"].metadata_locations()["trades"]}
    for name in ENGINES:
        engine = open_engine(name, only_trades)
        try:
            with pytest.raises(QueryError, match="table\\(s\\) quotes not open"):
                engine.run("join", _params("join", window))
        finally:
            engine.close()


@pytest.mark.parametrize("engine_name", list(ENGINES))
def test_missing_metadata_file_names_table_and_file(engine_name: str, tmp_path: Path) -> None:
    missing = tmp_path / "gone" / "v1.metadata.json"
    message = re.escape(f"table 'trades': metadata file {missing} does not exist")
    with pytest.raises(BackendError, match=message):
        open_engine(engine_name, {"trades": str(missing)})


@pytest.mark.parametrize("engine_name", list(ENGINES))
def test_corrupt_metadata_file_names_table_and_file(engine_name: str, tmp_path: Path,
                                                    datasets: dict[str, Dataset]) -> None:
    source = datasets["unpartitioned"].metadata_locations()["trades"].removeprefix("file://")
    broken = tmp_path / "00001-broken.metadata.json"
    shutil.copy(source, broken)
    broken.write_text(broken.read_text()[:200])
    message = re.escape(f"table 'trades': metadata file {broken} is not valid Iceberg table "
                        "metadata")
    with pytest.raises(BackendError, match=message):
        open_engine(engine_name, {"trades": str(broken)})


class CountingEngine:
    """A user engine plugged in by import path: it delegates to DuckDB and counts queries."""

    name = "counting"

    def __init__(self, tables: Mapping[str, str]) -> None:
        self.inner = open_engine("duckdb_iceberg_scan", tables)
        self.count = 0

    def run(self, query: str, params: Any = None) -> QueryResult:
        self.count += 1
        return self.inner.run(query, params)

    def profile(self, query: str, params: Any = None) -> dict[str, Any]:
        stats: dict[str, Any] = self.inner.profile(query, params)
        return stats

    def close(self) -> None:
        self.inner.close()


class NotAnEngine:
    def __init__(self, tables: Mapping[str, str]) -> None:
        self.tables = tables


def test_engine_by_import_path(datasets: dict[str, Dataset]) -> None:
    tables = datasets["unpartitioned"].metadata_locations()
    engine = open_engine(f"{__name__}:CountingEngine", tables)
    assert isinstance(engine, QueryEngine) and isinstance(engine, CountingEngine)
    engine.run("aggregation")
    assert engine.count == 1
    engine.close()
    with pytest.raises(PluginError, match="NotAnEngine lacks run, profile, close of the "
                                          "QueryEngine Protocol"):
        open_engine(f"{__name__}:NotAnEngine", tables)
    with pytest.raises(PluginError, match="engine 'duckdb': no engine of that name.*installed "
                                          r"\(entry point group k2matrix.engine\): "
                                          "duckdb_iceberg_scan, duckdb_parquet, polars"):
        open_engine("duckdb", tables)
    with pytest.raises(PluginError, match="no module named 'no_such_module'"):
        open_engine("no_such_module:Engine", tables)


def test_every_builtin_engine_is_registered_by_name() -> None:
    """The built-in engines are entry points like a user's: each name of axes.ENGINES
    resolves (pyproject.toml registers them; pip install -e . installs them)."""
    from k2matrix import implementations

    registered = implementations.installed("engine")
    assert set(ENGINES) <= set(registered)
    assert {implementations.resolve("engine", name).target for name in ENGINES} == {
        "k2matrix.query.duckdb_engines:DuckDBIcebergScanEngine",
        "k2matrix.query.duckdb_engines:DuckDBParquetEngine",
        "k2matrix.query.polars_engine:PolarsEngine"}


def test_extensions_load_from_package_files_without_network() -> None:
    path = extension_path("iceberg")
    assert path.is_file() and "duckdb_extension_iceberg" in str(path)
    con = connect()
    try:
        settings = dict(con.execute(
            "SELECT name, value FROM duckdb_settings() WHERE name IN "
            "('autoinstall_known_extensions', 'autoload_known_extensions', 'TimeZone')"
        ).fetchall())
        assert settings["autoinstall_known_extensions"] == "false"
        assert settings["autoload_known_extensions"] == "false"
        assert settings["TimeZone"] == "UTC"
        loaded = {r[0] for r in con.execute(
            "SELECT extension_name FROM duckdb_extensions() WHERE loaded").fetchall()}
        assert {"iceberg", "avro"} <= loaded
    finally:
        con.close()


def test_unknown_extension_is_a_backend_error() -> None:
    with pytest.raises(BackendError, match="duckdb-extension-nope is not installed"):
        extension_path("nope")


def test_empty_plan_returns_typed_empty_result(datasets: dict[str, Dataset],
                                               window: DataWindow) -> None:
    later = window.end + timedelta(days=3)
    params = {"start": later, "end": later + timedelta(minutes=5)}
    engine = open_engine("duckdb_parquet", datasets["day_symbol"].metadata_locations())
    try:
        result = engine.run("time_range", params)
        assert result.rows_returned == 0 and result.stats["files_planned"] == 0
        assert result.table.column_names == ["message_id", "symbol", "timestamp", "price",
                                             "quantity"]
    finally:
        engine.close()


def test_planned_query_runs_again_with_the_same_files(datasets: dict[str, Dataset],
                                                      window: DataWindow) -> None:
    from k2matrix.query.duckdb_engines import DuckDBParquetEngine

    engine = DuckDBParquetEngine(datasets["day_symbol"].metadata_locations())
    try:
        planned = engine.plan("filtered", _params("filtered", window))
        assert planned.stats["files_planned"] == 1
        first, again = engine.run_planned(planned), engine.run_planned(planned)
        assert first.table.equals(again.table) and "exec_ms" in again.stats
    finally:
        engine.close()


def test_table_names_must_be_sql_names(datasets: dict[str, Dataset]) -> None:
    location = datasets["unpartitioned"].metadata_locations()["trades"]
    with pytest.raises(QueryError, match="table name 'trades; DROP'"):
        open_engine("duckdb_iceberg_scan", {"trades; DROP": location})
