"""Outside implementations with known bugs, plugged in by import path (``k2_bugs:Name``, the
folder on PYTHONPATH) the way ``examples/`` plugs in its own, to show what k2matrix's checks
make of them:

- :class:`RescalingWriter`: the K2 platform's writer bug. It converts the trades with its
  storage schema, which says ``decimal128(18, 6)`` for price and quantity, against its own
  tables' ``decimal(18, 8)``: pyarrow refuses ("Rescaling Decimal value would cause data
  loss");
- :class:`TruncatingWriter`: the same mistake made silently (an unsafe cast drops the last
  two digits, then the table's type is restored): the table holds other values;
- :class:`RenamingWriter`: a real table's own shape (``symbol`` stored as ``ticker``, an
  ``ingested_at`` column added) with the normalizer that reads it back as trades; and
  :class:`UndeclaredRenamingWriter`, the same without it;
- :class:`DriftingEngine`: a query engine whose first answer is right and whose later
  answers have the right row count and a wrong value.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import Catalog
from pyiceberg.schema import Schema
from pyiceberg.types import NestedField, TimestamptzType

from k2matrix.query.duckdb_engines import DuckDBIcebergScanEngine
from k2matrix.query.protocol import Params, QueryResult
from k2matrix.schemas import arrow_schema
from k2matrix.writer.layouts import create_table
from k2matrix.writer.schema import iceberg_schema

NARROW = pa.decimal128(18, 6)


class _Writer:
    """Appends to tables it creates with the trade schema (the suite's layout)."""

    def __init__(self, catalog: Catalog, *, namespace: str, schema: str = "v2",
                 layout: str = "unpartitioned") -> None:
        self.catalog, self.namespace, self.schema, self.layout = (catalog, namespace, schema,
                                                                  layout)

    def ensure_table(self, table_name: str, schema: str | None = None) -> str:
        create_table(self.catalog, f"{self.namespace}.{table_name}", schema or self.schema,
                     self.layout)
        return schema or self.schema

    def _append(self, data: pa.Table, table_name: str) -> int:
        table = self.catalog.load_table(f"{self.namespace}.{table_name}")
        table.append(data.cast(table.schema().as_arrow()))
        return int(data.num_rows)

    def write_trades(self, records: Sequence[Mapping[str, Any]], table_name: str) -> int:
        return self.write_arrow(pa.Table.from_pylist([dict(r) for r in records],
                                                     schema=arrow_schema(self.schema)),
                                table_name)

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        return self._append(table, table_name)

    def close(self) -> None:
        pass


class RescalingWriter(_Writer):
    """Converts with a storage schema whose decimals are ``(18, 6)``; its tables hold
    ``(18, 8)``."""

    def storage_schema(self, schema: str) -> pa.Schema:
        base = arrow_schema(schema)
        return pa.schema([f.with_type(NARROW) if pa.types.is_decimal(f.type) else f
                          for f in base])

    def write_trades(self, records: Sequence[Mapping[str, Any]], table_name: str) -> int:
        data = pa.Table.from_pylist([dict(r) for r in records],
                                    schema=self.storage_schema(self.schema))
        return self._append(data, table_name)

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        return self._append(table.cast(self.storage_schema(self.schema)), table_name)


class TruncatingWriter(_Writer):
    """Drops the last two decimal digits on the way (an unsafe cast), silently."""

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        for i, f in enumerate(table.schema):
            if pa.types.is_decimal(f.type):
                table = table.set_column(i, f, table.column(i).cast(NARROW, safe=False)
                                         .cast(f.type))
        return self._append(table, table_name)


class RenamingWriter(_Writer):
    """Stores ``symbol`` as ``ticker`` and adds ``ingested_at``, and says how to read its
    tables back as trades (``normalize``)."""

    def ensure_table(self, table_name: str, schema: str | None = None) -> str:
        schema = schema or self.schema
        base = iceberg_schema(schema)
        fields = [NestedField(f.field_id, "ticker" if f.name == "symbol" else f.name,
                              f.field_type, required=f.required) for f in base.fields]
        fields.append(NestedField(base.highest_field_id + 1, "ingested_at", TimestamptzType(),
                                  required=False))
        self.catalog.create_table_if_not_exists(f"{self.namespace}.{table_name}",
                                                schema=Schema(*fields))
        return schema

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        names = ["ticker" if n == "symbol" else n for n in table.column_names]
        stamped = table.rename_columns(names).append_column(
            "ingested_at", pa.array([None] * table.num_rows, pa.timestamp("us", tz="UTC")))
        return self._append(stamped, table_name)

    def normalize(self, table: pa.Table) -> pa.Table:
        names = ["symbol" if n == "ticker" else n for n in table.column_names]
        return table.rename_columns(names).drop_columns(["ingested_at"])


class UndeclaredRenamingWriter(RenamingWriter):
    normalize = None  # type: ignore[assignment]  # no normalizer declared


class DriftingEngine(DuckDBIcebergScanEngine):
    """Right the first time; afterwards the first numeric value of every result is off by
    one (same rows, same count)."""

    name = "drifting"

    def __init__(self, tables: Mapping[str, str]) -> None:
        super().__init__(tables)
        self.runs = 0

    def run(self, query: str, params: Params = None) -> QueryResult:
        result = super().run(query, params)
        self.runs += 1
        table = result.table
        if self.runs == 1 or table.num_rows == 0:
            return result
        for i, f in enumerate(table.schema):
            if pa.types.is_decimal(f.type) or pa.types.is_floating(f.type):
                column = table.column(i).combine_chunks()
                first = column[0].as_py()
                if first is None:
                    continue
                bumped = pa.array([first + 1], f.type)
                values = pa.concat_arrays([bumped, column.slice(1)])
                return QueryResult(result.query_id, table.set_column(i, f, values),
                                   result.stats)
        return result
