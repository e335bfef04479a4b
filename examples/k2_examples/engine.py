"""A query engine that reads with pyiceberg and computes in DuckDB.

Unlike the built-in DuckDB engines (DuckDB's iceberg extension, or DuckDB reading the
Parquet files pyiceberg plans), pyiceberg does all the reading here: for each query it scans
each table the shape needs to Arrow with the shape's row filter (partition and statistics
pruning, then row filtering), and DuckDB runs the shape's SQL over those Arrow tables, with
the parameters bound.

The matrix names it in the engines axis: ``"k2_examples.engine:PyIcebergArrowEngine"``.
"""

from __future__ import annotations

import time
from collections.abc import Mapping
from typing import Any

import duckdb
import pyarrow as pa
from pyiceberg.expressions import AlwaysTrue
from pyiceberg.table import StaticTable

from k2matrix.errors import QueryError
from k2matrix.query.protocol import Params, QueryResult
from k2matrix.query.shapes import SHAPES, bind, row_filters


class PyIcebergArrowEngine:
    name = "pyiceberg_arrow"

    def __init__(self, tables: Mapping[str, str]) -> None:
        self.tables = {name: StaticTable.from_metadata(location)
                       for name, location in tables.items()}
        self.con = duckdb.connect(":memory:")
        self.con.execute("SET TimeZone = 'UTC'")

    def _scan(self, sources: Mapping[str, Any]) -> tuple[dict[str, str], float]:
        """Each table of ``sources`` scanned to Arrow with its row filter, as a DuckDB view
        named like the table; the views and the milliseconds the scans took."""
        started = time.perf_counter()
        views = {}
        for name, row_filter in sources.items():
            if name not in self.tables:
                raise QueryError(f"table(s) {name} not open in this engine (open: "
                                 f"{', '.join(self.tables)})")
            arrow: pa.Table = self.tables[name].scan(row_filter=row_filter).to_arrow()
            self.con.register(name, arrow)  # a view named like the table
            views[name] = name
        return views, (time.perf_counter() - started) * 1e3

    def run(self, query: str, params: Params = None) -> QueryResult:
        args: Params
        if query in SHAPES:
            if params is not None and not isinstance(params, Mapping):
                raise QueryError(f"query shape {query!r}: parameters must be a mapping")
            shape, bound = bind(query, params)
            views, scan_ms = self._scan(row_filters(shape, bound))
            sql, args, qid = shape.render(views), bound, query
        else:
            views, scan_ms = self._scan({name: AlwaysTrue() for name in self.tables})
            sql, args, qid = query, params, "sql"
        started = time.perf_counter()
        try:
            table = self.con.execute(sql, args).to_arrow_table()
        except duckdb.Error as exc:
            raise QueryError(f"query {qid} failed on {self.name}: {exc}") from None
        return QueryResult(qid, table, {"scan_ms": scan_ms,
                                        "exec_ms": (time.perf_counter() - started) * 1e3})

    def profile(self, query: str, params: Params = None) -> dict[str, Any]:
        return {}

    def close(self) -> None:
        self.con.close()
