"""The DuckDB query engines: ``iceberg_scan`` on the metadata file, and ``read_parquet`` over
the data files pyiceberg plans for each query."""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import duckdb
import pyarrow as pa

from k2matrix.backends.duckdb_ext import (
    EXTENSIONS,
    S3_EXTENSIONS,
    connect,
    create_s3_secret,
    sql_string,
)
from k2matrix.errors import K2Error, QueryError
from k2matrix.query.engine import (
    bind_shape,
    engine_fault,
    is_shape,
    load_table,
    query_id,
    s3_storage,
)
from k2matrix.query.protocol import Params, QueryResult
from k2matrix.query.shapes import Shape, row_filters

_PROFILE_SETTINGS = json.dumps({
    "OPERATOR_TYPE": "true", "OPERATOR_NAME": "true", "OPERATOR_CARDINALITY": "true",
    "OPERATOR_ROWS_SCANNED": "true", "EXTRA_INFO": "true",
})


def _scans(node: Mapping[str, Any]) -> list[Mapping[str, Any]]:
    found = [node] if node.get("operator_type") == "TABLE_SCAN" else []
    for child in node.get("children", []):
        found.extend(_scans(child))
    return found


@dataclass(frozen=True)
class PlannedQuery:
    """A query ready for DuckDB: its id, SQL, bound parameters and planning stats."""

    query_id: str
    sql: str
    params: Params
    stats: dict[str, Any]


class _DuckDBEngine:
    """Shared parts: the connection, running SQL with bound parameters, profiling."""

    name = "duckdb"

    def __init__(self, tables: Mapping[str, str], threads: int | None = None) -> None:
        self.tables = dict(tables)
        self.iceberg = {name: load_table(name, loc) for name, loc in self.tables.items()}
        s3 = next((c for c in map(s3_storage, self.tables.values()) if c is not None), None)
        self.con = connect(threads=threads, extensions=S3_EXTENSIONS if s3 else EXTENSIONS)
        if s3 is not None:
            create_s3_secret(self.con, s3)

    def _prepare(self, query: str, params: Params
                 ) -> tuple[str, str, Params, dict[str, Any]]:
        """``(query id, SQL, bound parameters, stats)`` for a shape or raw SQL."""
        qid = query_id(query)
        if not is_shape(query):
            return qid, query, params, {}
        shape, bound = bind_shape(query, params, self.tables)
        sql, stats = self._shape_sql(shape, bound)
        return qid, sql, bound, stats

    def _shape_sql(self, shape: Shape, bound: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        """The engine's SQL for a bound shape (may add bound parameters) and its stats."""
        raise NotImplementedError

    def _execute(self, qid: str, sql: str, params: Params) -> pa.Table:
        try:
            return self.con.execute(sql, params).to_arrow_table()
        except duckdb.Error as exc:
            fault = engine_fault(exc, self.tables)
            if fault is not None:
                raise fault from None
            raise QueryError(f"query {qid} failed on {self.name}: {type(exc).__name__}: "
                             f"{exc}") from None

    def run(self, query: str, params: Params = None) -> QueryResult:
        return self.run_planned(self.plan(query, params))

    def plan(self, query: str, params: Params = None) -> PlannedQuery:
        """The query bound and, for duckdb_parquet, its files planned: run it again and again
        with :meth:`run_planned` to time DuckDB alone (the table must not change meanwhile)."""
        return PlannedQuery(*self._prepare(query, params))

    def run_planned(self, planned: PlannedQuery) -> QueryResult:
        started = time.perf_counter()
        table = self._execute(planned.query_id, planned.sql, planned.params)
        stats = {**planned.stats, "exec_ms": (time.perf_counter() - started) * 1e3}
        return QueryResult(planned.query_id, table, stats)

    def profile(self, query: str, params: Params = None) -> dict[str, Any]:
        """Files read and rows scanned as DuckDB's profiler reports them for one run."""
        qid, sql, bound, stats = self._prepare(query, params)
        self.con.execute("PRAGMA enable_profiling = 'no_output'")
        self.con.execute(f"SET custom_profiling_settings = {sql_string(_PROFILE_SETTINGS)}")
        try:
            self._execute(qid, sql, bound)
            info = json.loads(self.con.get_profiling_information(format="json"))
        finally:
            self.con.execute("PRAGMA disable_profiling")
        scans = _scans(info)
        out = {k: v for k, v in stats.items() if not k.endswith("_ms")}
        out["files_read"] = sum(int(s.get("extra_info", {}).get("Total Files Read", 0))
                                for s in scans)
        # DuckDB's own figure; over many files it is not a row count (it can exceed the
        # table's rows), so it is kept under its DuckDB name and not called "rows scanned".
        out["duckdb_operator_rows_scanned"] = sum(int(s.get("operator_rows_scanned", 0))
                                                  for s in scans)
        out["scan_rows_out"] = sum(int(s.get("operator_cardinality", 0)) for s in scans)
        return out

    def close(self) -> None:
        self.con.close()

    def __enter__(self) -> _DuckDBEngine:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


class DuckDBIcebergScanEngine(_DuckDBEngine):
    """DuckDB ``iceberg_scan`` on each table's current metadata file, through a view per table
    (DuckDB reads the metadata, manifests and files itself, pruning with its own filters)."""

    name = "duckdb_iceberg_scan"

    def __init__(self, tables: Mapping[str, str], threads: int | None = None) -> None:
        super().__init__(tables, threads)
        for name, location in self.tables.items():
            self.con.execute(f"CREATE VIEW {name} AS SELECT * FROM "
                             f"iceberg_scan({sql_string(location.removeprefix('file://'))})")
        self.files_total = {n: len(list(t.scan().plan_files()))
                            for n, t in self.iceberg.items()}

    def _shape_sql(self, shape: Shape, bound: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        stats: dict[str, Any] = {"files_total": sum(self.files_total[t] for t in shape.tables)}
        return shape.render({t: t for t in shape.tables}), stats


class DuckDBParquetEngine(_DuckDBEngine):
    """DuckDB ``read_parquet`` over the data files pyiceberg plans for each query, so the
    table's partition spec and column statistics prune files before DuckDB opens any.

    Reads data files only: a table with delete files is refused (the query would be wrong).
    Raw SQL reads views over every data file (no pruning).
    """

    name = "duckdb_parquet"

    def __init__(self, tables: Mapping[str, str], threads: int | None = None) -> None:
        super().__init__(tables, threads)
        self.files_total: dict[str, int] = {}
        for name, table in self.iceberg.items():
            files, _ = self._plan(name, None)
            self.files_total[name] = len(files)
            empty = pa.Table.from_batches([], schema=table.schema().as_arrow())
            self.con.register("_k2_empty", empty)
            self.con.execute(f"CREATE TABLE {name}__empty AS SELECT * FROM _k2_empty")
            self.con.unregister("_k2_empty")
            self.con.execute(f"CREATE VIEW {name} AS {self._source(name, files, literal=True)}")

    def _plan(self, name: str, row_filter: Any) -> tuple[list[str], int]:
        """The data files to read for ``row_filter`` and the rows they hold."""
        scan = (self.iceberg[name].scan() if row_filter is None
                else self.iceberg[name].scan(row_filter=row_filter))
        files = []
        rows = 0
        for task in scan.plan_files():
            if task.delete_files:
                raise QueryError(f"table {name!r} has delete files; the duckdb_parquet engine "
                                 "reads data files only: use duckdb_iceberg_scan")
            files.append(task.file.file_path)
            rows += task.file.record_count
        return files, rows

    def _source(self, name: str, files: list[str], literal: bool = False) -> str:
        if not files:
            return f"SELECT * FROM {name}__empty"
        if literal:
            paths = ", ".join(sql_string(f) for f in files)
            return f"SELECT * FROM read_parquet([{paths}])"
        return f"(SELECT * FROM read_parquet(${name}_files))"

    def _shape_sql(self, shape: Shape, bound: dict[str, Any]) -> tuple[str, dict[str, Any]]:
        qid = shape.name
        started = time.perf_counter()
        filters = row_filters(shape, bound)
        sources: dict[str, str] = {}
        planned = planned_rows = 0
        for table in shape.tables:
            try:
                files, rows = self._plan(table, filters[table])
            except K2Error:
                raise
            except Exception as exc:
                fault = engine_fault(exc, self.tables)
                if fault is not None:
                    raise fault from None
                raise QueryError(f"query {qid}: pyiceberg could not plan the files of table "
                                 f"{table!r} ({type(exc).__name__}: {exc})") from None
            planned += len(files)
            planned_rows += rows
            if files:
                bound[f"{table}_files"] = files
                sources[table] = self._source(table, files)
            else:
                sources[table] = f"{table}__empty"
        total = sum(self.files_total[t] for t in shape.tables)
        stats: dict[str, Any] = {
            "files_total": total, "files_planned": planned, "files_pruned": total - planned,
            "rows_in_planned_files": planned_rows,
            "plan_ms": (time.perf_counter() - started) * 1e3,
        }
        return shape.render(sources), stats
