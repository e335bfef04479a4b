"""Buffered writing: many small input batches, few Iceberg commits.

A pyiceberg commit costs tens of milliseconds however few rows it carries, so committing
each 100-row batch from a consumer caps ingestion near a few thousand rows/s.
:class:`BufferedWriter` wraps a writer that knows its tables' schemas
(:class:`~k2matrix.writer.protocol.SchemaAwareWriter`, e.g. the Iceberg writer): each
input batch is checked and converted on arrival (a bad record is refused at the call that
brought it, never at a later flush), kept in memory, and written as one commit when a
table's buffer reaches ``flush_rows`` rows or its oldest row is ``flush_age_s`` old (checked
on each write and by :meth:`poll`). :meth:`flush` and :meth:`close` write what is left.

Rows are acknowledged (counted in the return value) when buffered; they are durable after
the flush that commits them. A failed flush puts its rows back in the buffer and raises.

Flushing on a worker thread while the caller converts the next batches was tried and
dropped: pyiceberg's write path is mostly Python, so the two threads contend for the GIL and
100K dict rows took 1.3 s instead of 0.8-1.2 s.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import pyarrow as pa

from k2matrix.writer.convert import records_to_table
from k2matrix.writer.iceberg import conform
from k2matrix.writer.protocol import SchemaAwareWriter


@dataclass
class _Buffer:
    parts: list[pa.Table] = field(default_factory=list)
    rows: int = 0
    since: float = 0.0


class BufferedWriter:
    """A :class:`~k2matrix.writer.iceberg.TradeWriter` that commits in large batches."""

    def __init__(self, writer: SchemaAwareWriter, *, flush_rows: int = 50_000,
                 flush_age_s: float = 5.0,
                 clock: Callable[[], float] = time.monotonic) -> None:
        """``clock``: seconds from any fixed point, what the age of a buffer is read from."""
        if flush_rows < 1:
            raise ValueError(f"flush_rows={flush_rows!r}: must be a positive number of rows")
        if flush_age_s <= 0:
            raise ValueError(f"flush_age_s={flush_age_s!r}: must be a positive number of "
                             "seconds")
        self.writer = writer
        self.flush_rows = flush_rows
        self.flush_age_s = flush_age_s
        self._clock = clock
        self._buffers: dict[str, _Buffer] = {}

    @property
    def pending_rows(self) -> int:
        """Rows buffered, not yet committed."""
        return sum(b.rows for b in self._buffers.values())

    def write_trades(self, records: Sequence[Mapping[str, Any]], table_name: str) -> int:
        schema = self.writer.schema_of(table_name)
        return self._add(table_name, records_to_table(records, schema))

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        schema = self.writer.schema_of(table_name)
        return self._add(table_name, conform(table, schema))

    def _add(self, table_name: str, data: pa.Table) -> int:
        if data.num_rows == 0:
            return 0
        buffer = self._buffers.setdefault(table_name, _Buffer())
        if not buffer.parts:
            buffer.since = self._clock()
        buffer.parts.append(data)
        buffer.rows += data.num_rows
        if buffer.rows >= self.flush_rows or self._aged(buffer):
            self._flush_table(table_name)
        return int(data.num_rows)

    def _aged(self, buffer: _Buffer) -> bool:
        return bool(buffer.parts) and self._clock() - buffer.since >= self.flush_age_s

    def poll(self) -> int:
        """Flush every buffer whose oldest row has waited ``flush_age_s``; rows committed."""
        return sum(self._flush_table(name) for name, b in list(self._buffers.items())
                   if self._aged(b))

    def flush(self) -> int:
        """Commit everything buffered; the rows committed."""
        return sum(self._flush_table(name) for name in list(self._buffers))

    def _flush_table(self, table_name: str) -> int:
        buffer = self._buffers.get(table_name)
        if buffer is None or not buffer.parts:
            return 0
        data = pa.concat_tables(buffer.parts)
        del self._buffers[table_name]
        try:
            return self.writer.write_arrow(data, table_name)
        except BaseException:
            self._requeue(table_name, data)
            raise

    def _requeue(self, table_name: str, data: pa.Table) -> None:
        buffer = self._buffers.setdefault(table_name, _Buffer(since=self._clock()))
        buffer.parts.insert(0, data)
        buffer.rows += data.num_rows

    def close(self) -> None:
        self.flush()
        self.writer.close()
