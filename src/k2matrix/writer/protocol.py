"""What a writer implements to be swept by the writer suite (K2's API shape).

**Naming it.** ``[components.writer] impl = "package.module:Factory"`` in the matrix (or the
name of an entry point in the group ``k2matrix.writer``; the built-in is ``iceberg``,
:class:`~k2matrix.writer.iceberg.IcebergWriter`). The loader is :mod:`k2matrix.implementations`.

**The factory** (a class or a function) is called as
``Factory(catalog, *, namespace, schema, layout)``: the pyiceberg catalog of the matrix, the
namespace to write in, the trade schema (``"v1"``/``"v2"``) and the table layout (an axis
value, see :mod:`k2matrix.writer.layouts`) of the tables it creates. It returns an object
satisfying :class:`TradeWriter`. ``table_name`` arguments are names inside ``namespace``.

The suite reads every table back *through the catalog*, not through the writer: the table
must hold exactly the rows written (count and a content checksum over all columns) and its
snapshot summary must count them.

**Optional capabilities.** The suite uses these when the writer has them and otherwise
lists what it did instead in the cell's ``extra_info["capabilities_missing"]``:

- ``ensure_table(table_name, schema=None, layout=None) -> str``: create the table (untimed,
  before each round) with the writer's own table properties; without it the suite creates
  it with :func:`k2matrix.writer.layouts.create_table` and no extra properties;
- ``schema_of(table_name) -> str``: the schema of a table (the buffered cells wrap the
  writer in :class:`~k2matrix.writer.buffer.BufferedWriter`, which needs it); without it
  the suite answers from the tables it created;
- ``commits``: a list of :class:`~k2matrix.writer.iceberg.CommitRecord` (one per commit),
  for commit latency, CPU time and retries; without it the commit counts, bytes and files
  come from the tables' snapshot summaries and there are no commit timings.

**A table of its own shape.** The read-back compares the columns the rows were written with,
by name (the table may hold more). A writer whose tables store the trades otherwise declares
how, and the check fits its tables:

- ``storage_schema(schema) -> pyarrow.Schema``: the Arrow types it stores each trade column
  as (``decimal128(18, 8)``, ``timestamp[us, tz=UTC]``…). The rows written are compared in
  that form; a value that does not fit it is a VerificationError naming the column and the
  value, also when the writer itself fails on it (the K2 writer's ``decimal128(18, 6)``
  against its own ``(18, 8)``: "Rescaling Decimal value would cause data loss");
- ``normalize(table) -> pyarrow.Table``: a table read back, in the trade schema's column
  names (renamed columns, derived or extra ones dropped).

A difference names the column and its first differing value (:mod:`k2matrix.writer.diff`).

The ``writer.arrow_conversion`` cell measures k2matrix's own record-to-Arrow conversion
whatever the writer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

import pyarrow as pa


@runtime_checkable
class TradeWriter(Protocol):
    """What the writer suites need from a writer (K2's API shape)."""

    def write_trades(self, records: Sequence[Mapping[str, Any]], table_name: str) -> int:
        """Append dict records to ``table_name`` in one commit; return the rows written.

        A record that does not fit the table's schema raises
        :class:`~k2matrix.errors.WorkloadError` naming it (``record 7: field 'price' =
        Decimal(...)``), and nothing is committed (the ``writer.decimal_precision`` cell
        checks this)."""
        ...

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        """Append an Arrow table of the trade schema to ``table_name``; return its rows."""
        ...

    def close(self) -> None:
        """Write anything pending and release resources."""
        ...


@runtime_checkable
class SchemaAwareWriter(Protocol):
    """What :class:`~k2matrix.writer.buffer.BufferedWriter` wraps: a writer that appends
    Arrow tables and knows the trade schema (``v1``/``v2``) of each of its tables."""

    def schema_of(self, table_name: str) -> str: ...

    def write_arrow(self, table: pa.Table, table_name: str) -> int: ...

    def close(self) -> None: ...
