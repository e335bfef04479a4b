"""Confluent-wire Avro values to an Arrow table, in bulk: the sink's decoder.

Decoding message by message (fastavro's ``schemaless_reader``, then dicts to Arrow) alone
caps one sink's rate (docs/measurements.md has the figures). This decoder frames
the values' Avro bodies (each after the 5-byte Confluent header) as one block of an Avro
object container file, with the writer schema in its header, and lets DuckDB's ``avro``
extension (loaded from its PyPI package, :mod:`k2matrix.backends.duckdb_ext`) read the block
into Arrow in C++, several times faster. DuckDB reads a ``decimal`` on ``bytes`` as the
raw bytes and the enums as dictionaries; :func:`decode` turns them into the writer's Arrow
schema (``schemas.arrow_schema``): the unscaled two's-complement big-endian integers into
``decimal128`` without a Python loop, the timestamps into UTC.

Every decoded block is checked: re-encoded with k2matrix's vectorized encoder
(:class:`k2matrix.avro.arrow.ArrowEncoder`, byte-identical to fastavro) it must give back
the very bodies it came from. A block that does not (DuckDB's reader cuts a map key at its
first NUL character, legal in Avro) is decoded value by value with fastavro instead, and
:attr:`AvroDecoder.fallbacks` counts it; nothing wrong reaches the table silently.

The container format is the Avro specification's (magic ``Obj\\x01``, metadata map with
``avro.schema`` and ``avro.codec = null``, a 16-byte sync marker, then blocks of a count,
a byte size, the concatenated data and the marker).
"""

from __future__ import annotations

import json
import os
import tempfile
from collections.abc import Sequence
from functools import cache
from pathlib import Path
from types import TracebackType
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from k2matrix.avro.arrow import ArrowEncoder
from k2matrix.backends.duckdb_ext import connect, sql_string
from k2matrix.errors import BackendError
from k2matrix.schemas import arrow_schema, avro_schema

HEADER = 5  # Confluent wire format: magic byte 0, then a 4-byte schema id
MAGIC = 0


def _long(n: int) -> bytes:
    """An Avro ``long``: zig-zag, then 7 bits a byte, low first."""
    z = (n << 1) ^ (n >> 63)
    out = bytearray()
    while z > 0x7F:
        out.append((z & 0x7F) | 0x80)
        z >>= 7
    out.append(z)
    return bytes(out)


def _bytes(data: bytes) -> bytes:
    return _long(len(data)) + data


@cache
def _header(schema: str, sync: bytes) -> bytes:
    meta = {"avro.schema": json.dumps(avro_schema(schema)).encode(), "avro.codec": b"null"}
    return (b"Obj\x01" + _long(len(meta))
            + b"".join(_bytes(k.encode()) + _bytes(v) for k, v in meta.items())
            + _long(0) + sync)


def container(bodies: Sequence[bytes], schema: str, sync: bytes) -> bytes:
    """An Avro object container file holding ``bodies`` (encoded datums) in one block."""
    data = b"".join(bodies)
    return _header(schema, sync) + _long(len(bodies)) + _long(len(data)) + data + sync


def bodies_of(values: Sequence[bytes], where: str) -> list[bytes]:
    """The Avro bodies of Confluent-wire values; BackendError naming the first bad one."""
    out = []
    for i, value in enumerate(values):
        if len(value) < HEADER or value[0] != MAGIC:
            raise BackendError(f"{where}: message {i} is not a Confluent-wire Avro value "
                               "(magic byte 0 and a 4-byte schema id first)")
        out.append(value[HEADER:])
    return out


def decimal_from_bytes(column: pa.Array, type_: pa.Decimal128Type) -> pa.Array:
    """Avro ``decimal`` bytes (unscaled, two's complement, big-endian; at most 8 bytes for
    a precision up to 18) as a ``decimal128`` array, vectorized."""
    binary = column.cast(pa.binary()) if not pa.types.is_binary(column.type) else column
    if isinstance(binary, pa.ChunkedArray):
        binary = binary.combine_chunks()
    n = len(binary)
    offsets = np.frombuffer(binary.buffers()[1], dtype=np.int32, count=n + 1,
                            offset=binary.offset * 4)
    lengths = np.diff(offsets)
    if lengths.size and int(lengths.max()) > 8:
        raise BackendError(f"a decimal of {int(lengths.max())} bytes does not fit "
                           f"{type_} (at most 8 bytes): check the writer schema")
    start = int(offsets[0])
    raw = np.frombuffer(binary.buffers()[2] or b"", dtype=np.uint8)[start:int(offsets[-1])]
    grid = np.zeros((n, 8), dtype=np.uint8)
    rows = np.repeat(np.arange(n), lengths)
    within = np.arange(raw.size) - np.repeat(offsets[:-1] - start, lengths)
    grid[rows, 8 - lengths[rows] + within] = raw
    negative = np.zeros(n, dtype=bool)
    has = lengths > 0
    negative[has] = raw[offsets[:-1][has] - start] >= 0x80
    pad = (np.arange(8)[None, :] < (8 - lengths)[:, None]) & negative[:, None]
    grid[pad] = 0xFF
    unscaled = grid.view(">i8").reshape(n).astype("<i8")
    words = np.empty((n, 2), dtype="<i8")
    words[:, 0], words[:, 1] = unscaled, unscaled >> 63
    validity = binary.buffers()[0]
    return pa.Array.from_buffers(type_, n, [validity, pa.py_buffer(words.tobytes())],
                                 null_count=binary.null_count)


def to_schema(table: pa.Table, schema: str) -> pa.Table:
    """DuckDB's reading of an Avro block as the writer's Arrow schema."""
    target = arrow_schema(schema)
    columns = []
    for field in target:
        column = table.column(field.name).combine_chunks()
        if pa.types.is_decimal(field.type):
            column = decimal_from_bytes(column, field.type)
        elif pa.types.is_dictionary(column.type):
            column = column.dictionary_decode()
        if pa.types.is_timestamp(field.type) and pa.types.is_timestamp(column.type):
            column = pc.cast(column, pa.timestamp("us"))  # DuckDB: naive UTC
        columns.append(column.cast(field.type) if column.type != field.type else column)
    return pa.Table.from_arrays(columns, schema=target)


def _one_by_one(bodies: list[bytes], schema: str) -> pa.Table:
    """fastavro, value by value: the decoder of last resort."""
    import io

    from fastavro import parse_schema, schemaless_reader

    from k2matrix.writer.convert import records_to_table

    parsed = parse_schema(avro_schema(schema))
    records: list[Any] = [schemaless_reader(io.BytesIO(b), parsed) for b in bodies]
    return records_to_table(records, schema)


class AvroDecoder:
    """Decodes batches of one schema's Confluent-wire values; one DuckDB connection and one
    scratch file (in /dev/shm when there is one) per decoder."""

    def __init__(self, schema: str, where: str = "the topic") -> None:
        self.schema, self.where = schema, where
        self._sync = os.urandom(16)
        shm = Path("/dev/shm")
        self._dir = tempfile.TemporaryDirectory(prefix="k2matrix-avro-",
                                                dir=shm if shm.is_dir() else None)
        self._blocks = 0
        self._encoder = ArrowEncoder(schema)
        self.fallbacks = 0  # blocks whose DuckDB reading did not round-trip
        self._con = connect(threads=1, extensions=("avro",))

    def decode(self, values: Sequence[bytes]) -> pa.Table:
        """The values as a table of ``arrow_schema(schema)`` (empty for no values)."""
        if not values:
            return arrow_schema(self.schema).empty_table()
        bodies = bodies_of(values, self.where)
        table = self._read(bodies)
        if self._encoder.encode_table(table) == bodies:
            return table
        self.fallbacks += 1
        return _one_by_one(bodies, self.schema)

    def _read(self, bodies: list[bytes]) -> pa.Table:
        # a new file for each block: DuckDB may serve a rewritten file from its file cache
        self._blocks += 1
        path = Path(self._dir.name) / f"block-{self._blocks}.avro"
        path.write_bytes(container(bodies, self.schema, self._sync))
        try:
            read = self._con.sql(
                f"SELECT * FROM read_avro({sql_string(str(path))})").to_arrow_table()
        finally:
            path.unlink()
        if read.num_rows != len(bodies):
            raise BackendError(f"{self.where}: {len(bodies)} values decoded into "
                               f"{read.num_rows} rows; the writer schema is not {self.schema}")
        return to_schema(read, self.schema)

    def close(self) -> None:
        self._con.close()
        self._dir.cleanup()

    def __enter__(self) -> AvroDecoder:
        return self

    def __exit__(self, kind: type[BaseException] | None, value: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()
