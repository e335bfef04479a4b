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

**Results beyond Arrow.** ``QueryResult.table`` may be a ``pyarrow.Table``, a pandas
``DataFrame`` or a list of dicts (K2's API returns dicts). The suite converts it to Arrow
outside the timed region (:meth:`QueryResult.arrow`) and reports the conversion on its own
(``result_form``, ``conversion_p50_ms``). A result may carry more columns than the shape's
(a K2-style API returns whole rows): the shape's columns are compared.

**Parameters for SQL-text engines.** An engine that takes SQL text without parameters gets
a shape as text with its parameters bound as typed literals:
:func:`k2matrix.query.shapes.literal_sql` (``shape, params, {table: source}``).

**Declaring what it serves.** A factory attribute ``supports = {"query_shapes": [...]}``
(and ``schemas``): a cell of another shape is ``not_applicable``, with the reason.

**Configuration.** A factory with a ``config`` parameter is called as
``Factory(config=...)``, a :class:`~k2matrix.component_config.ComponentConfig` whose
``tables`` give each table's metadata file and root folder and whose ``storage`` has the
object store's endpoint and credentials.

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
    """The rows of one query (Arrow, pandas or a list of dicts), its id, and what the engine
    reports about the scan: ``files_total`` / ``files_planned`` (files after pyiceberg
    pruning), ``plan_ms``, ``exec_ms`` where the engine knows them."""

    query_id: str
    table: Any  # pa.Table | pandas.DataFrame | list[dict[str, Any]]
    stats: dict[str, Any] = field(default_factory=dict)
    conversion_ms: float | None = None  # set by arrow() when it converted (untimed)

    @property
    def form(self) -> str:
        """``arrow``, ``pandas`` or ``dicts``: what the engine returned."""
        if isinstance(self.table, list):
            return "dicts"
        return "arrow" if hasattr(self.table, "num_rows") else "pandas"

    @property
    def rows_returned(self) -> int:
        if isinstance(self.table, list):
            return len(self.table)
        return int(self.table.num_rows) if hasattr(self.table, "num_rows") else len(self.table)

    def arrow(self) -> pa.Table:
        """The rows as Arrow; a pandas frame or a list of dicts is converted once (call it
        outside the timed region: the time it took is ``conversion_ms``)."""
        import time

        import pyarrow as pa

        if isinstance(self.table, pa.Table):
            return self.table
        started = time.perf_counter()
        if isinstance(self.table, list):
            converted = pa.Table.from_pylist(self.table)
        else:
            converted = pa.Table.from_pandas(self.table, preserve_index=False)
        self.conversion_ms = (time.perf_counter() - started) * 1e3
        self.table = converted
        return converted

    def rows(self) -> list[dict[str, Any]]:
        """The K2 API shape: one dict per row (timestamps as UTC datetimes)."""
        from k2matrix.schemas import arrow_to_records

        return arrow_to_records(self.arrow())


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
