"""What a query engine implements to be swept by the query suite.

**Naming it.** In the ``engines`` axis of the matrix, by the name of an entry point in the
group ``k2matrix.engine`` (the built-ins: ``duckdb_iceberg_scan``, ``duckdb_parquet``,
``polars``) or by import path, ``"package.module:ClassName"``. The loader is
:mod:`k2matrix.implementations`; the axis value is the cell's ``engine`` parameter.

**The factory** (a class or a function) is called with the tables it serves,
``{table name: Iceberg metadata file}`` (``trades`` and ``quotes`` for the query workload),
and returns an object satisfying :class:`QueryEngine`: ``run`` a named shape of
:mod:`k2matrix.query.shapes` with its parameters (or raw SQL) and return a
:class:`QueryResult`. The suite checks every result against a reference computed from the
generated rows (floats to 1e-9, order where the shape orders) before its time counts.

**Optional.** What ``QueryResult.stats`` carries (``files_total``, ``files_planned``,
``plan_ms``, ``exec_ms``…) is recorded when present; ``profile`` may return ``{}``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any, Protocol, runtime_checkable

if TYPE_CHECKING:
    import pyarrow as pa

Params = Mapping[str, Any] | Sequence[Any] | None


@dataclass
class QueryResult:
    """The rows of one query (Arrow), its id, and what the engine reports about the scan:
    ``files_total`` / ``files_planned`` (files after pyiceberg pruning), ``plan_ms``,
    ``exec_ms`` where the engine knows them."""

    query_id: str
    table: pa.Table
    stats: dict[str, Any] = field(default_factory=dict)

    @property
    def rows_returned(self) -> int:
        return int(self.table.num_rows)

    def rows(self) -> list[dict[str, Any]]:
        """The K2 API shape: one dict per row (timestamps as UTC datetimes)."""
        from k2matrix.schemas import arrow_to_records

        return arrow_to_records(self.table)


@runtime_checkable
class QueryEngine(Protocol):
    """What the suite needs of a query engine."""

    name: str

    def run(self, query: str, params: Params = None) -> QueryResult:
        """Run a shape (by name) or raw SQL; :class:`QueryError` naming the query id."""
        ...

    def profile(self, query: str, params: Params = None) -> dict[str, Any]:
        """Scan statistics of one (untimed) run: ``files_read``, ``rows_scanned``… where known."""
        ...

    def close(self) -> None: ...
