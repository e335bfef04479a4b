"""A writer on plain pyiceberg: ``Table.append`` of an Arrow table, one commit per call.

Unlike the built-in IcebergWriter it has no retry of lost commit races, no snapshot expiry,
no commit records and no table creation: the table's own Iceberg schema (``as_arrow``) is
the target of the conversion, done by ``pyarrow.Table.from_pylist``. The writer suite creates
the tables it writes (this writer has no ``ensure_table``), answers the buffered writer's
``schema_of`` itself and takes commit counts from the snapshots, and says so in each cell's
``capabilities_missing``.

It takes configuration, not objects (a ``config`` parameter: the cell's
:class:`~k2matrix.component_config.ComponentConfig`) and opens its own catalog from it, by
the catalog's name and properties, as a platform's writer would (see docs/plugins.md).

The matrix names it ``[components.writer] impl = "k2_examples.writer:PlainIcebergWriter"``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

import pyarrow as pa
from pyiceberg.catalog import load_catalog
from pyiceberg.exceptions import NoSuchTableError
from pyiceberg.table import Table

from k2matrix.component_config import ComponentConfig
from k2matrix.errors import WorkloadError


class PlainIcebergWriter:
    """Appends trades to existing Iceberg tables of the cell's catalog and namespace."""

    def __init__(self, config: ComponentConfig) -> None:
        if config.catalog is None:
            raise WorkloadError("PlainIcebergWriter needs a catalog in its configuration")
        self.catalog = load_catalog(config.catalog.name, **config.catalog.properties)
        self.namespace = config.catalog.namespace
        self.tables: dict[str, Table] = {}

    def _table(self, table_name: str) -> Table:
        if table_name not in self.tables:
            try:
                self.tables[table_name] = self.catalog.load_table(
                    f"{self.namespace}.{table_name}")
            except NoSuchTableError:
                raise WorkloadError(f"table {self.namespace}.{table_name} does not exist: "
                                    "create it first") from None
        return self.tables[table_name]

    def write_trades(self, records: Sequence[Mapping[str, Any]], table_name: str) -> int:
        table = self._table(table_name)
        schema = table.schema().as_arrow()
        try:
            data = pa.Table.from_pylist([dict(r) for r in records], schema=schema)
        except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError):
            raise _first_bad(records, schema) from None
        return self._append(table, data)

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        target = self._table(table_name)
        schema = target.schema().as_arrow()
        return self._append(target, table.select(schema.names).cast(schema))

    def _append(self, table: Table, data: pa.Table) -> int:
        if data.num_rows:
            table.append(data)
        return int(data.num_rows)

    def close(self) -> None:
        self.tables.clear()


def _first_bad(records: Sequence[Mapping[str, Any]], schema: pa.Schema) -> WorkloadError:
    """The error naming the first record and field that does not convert."""
    for i, record in enumerate(records):
        for field in schema:
            value = record.get(field.name)
            try:
                pa.array([value], type=field.type)
            except (pa.ArrowInvalid, pa.ArrowTypeError, ValueError, TypeError) as exc:
                return WorkloadError(f"record {i}: field {field.name!r} = {value!r}: {exc}")
    return WorkloadError("the records do not convert to the table's schema")
