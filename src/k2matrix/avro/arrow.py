"""Vectorized Avro encoding of a whole Arrow table: numpy does the per-row work.

Each field becomes one or more *ragged* pieces, ``(lengths[n], data)``: every row's bytes
for that piece, concatenated in row order (a varint column, a string column with its
length prefixes, a decimal's two's complement bytes, …). The record is the pieces of its
fields in order, so the rows are assembled with one scatter per piece, and pyarrow turns the
result into one ``bytes`` object per row. Nested values (arrays, maps) are assembled the same
way one level down (per item, per entry), then summed per row.

The bytes equal fastavro's ``schemaless_writer`` output for the same records (tested).
Input is a table of ``schemas.arrow_schema(name)`` (compatible types are cast); a null in a
required field or an unknown enum symbol raises a WorkloadError naming field, row and value.
"""

from __future__ import annotations

import numpy as np  # before pyarrow converts numpy arrays (DESIGN.md)
import pyarrow as pa
import pyarrow.compute as pc

from k2matrix.errors import WorkloadError
from k2matrix.schemas import Field, RecordSchema, arrow_schema, get_schema

Ragged = tuple[np.ndarray, np.ndarray]  # (lengths int64[n], data uint8[lengths.sum()])
_SHIFTS = np.arange(10, dtype=np.uint64) * np.uint64(7)
_THRESHOLDS = np.array([1 << (7 * k) for k in range(1, 10)], dtype=np.uint64)
_COLUMNS10 = np.arange(10)
_COLUMNS8 = np.arange(8)
_ENTRIES = pa.list_(pa.field("entries", pa.struct([
    pa.field("key", pa.string(), nullable=False),
    pa.field("value", pa.string(), nullable=False)]), nullable=False))


def _empty(n: int) -> Ragged:
    return np.zeros(n, dtype=np.int64), np.empty(0, dtype=np.uint8)


def _constant(value: bytes, n: int) -> Ragged:
    return (np.full(n, len(value), dtype=np.int64),
            np.tile(np.frombuffer(value, dtype=np.uint8), n))


def varints(values: np.ndarray, present: np.ndarray | None = None) -> Ragged:
    """Avro longs (zig-zag varints) of int64 ``values``; rows not ``present`` get none."""
    v = values.astype(np.int64, copy=False)
    z = ((v << 1) ^ (v >> 63)).view(np.uint64)
    if len(z) == 0 or z.max() < 0x80:  # lengths, counts, small ints: one byte each
        if present is None:
            return np.ones(len(z), dtype=np.int64), z.astype(np.uint8)
        return present.astype(np.int64), z[present].astype(np.uint8)
    nb = np.searchsorted(_THRESHOLDS, z, side="right").astype(np.int64) + 1
    if present is not None:
        nb[~present] = 0
    width = int(nb.max())
    columns = _COLUMNS10[:width]
    groups = ((z[:, None] >> _SHIFTS[:width]) & np.uint64(0x7F)).astype(np.uint8)
    groups[columns < (nb[:, None] - 1)] |= 0x80
    return nb, groups[columns < nb[:, None]]


def _small_varints(values: np.ndarray) -> Ragged:
    """Varints of values known to be in [0, 64): one byte each."""
    return np.ones(len(values), dtype=np.int64), (values.astype(np.int64) * 2).astype(np.uint8)


def assemble(pieces: list[Ragged], n: int) -> Ragged:
    """Concatenate, row by row, the pieces' bytes."""
    lengths = np.zeros(n, dtype=np.int64)
    for plen, _ in pieces:
        lengths += plen
    pos = np.zeros(n, dtype=np.int64)
    np.cumsum(lengths[:-1], out=pos[1:])
    out = np.empty(int(lengths.sum()), dtype=np.uint8)
    for plen, pdata in pieces:
        if pdata.size:
            src = np.zeros(n, dtype=np.int64)
            np.cumsum(plen[:-1], out=src[1:])
            out[np.repeat(pos - src, plen) + np.arange(pdata.size)] = pdata
        pos += plen
    return lengths, out


def _per_row(items: Ragged, counts: np.ndarray) -> Ragged:
    """Group consecutive item bytes into rows of ``counts`` items each."""
    ends = np.cumsum(np.concatenate(([0], items[0])))
    bounds = np.concatenate(([0], np.cumsum(counts)))
    return ends[bounds[1:]] - ends[bounds[:-1]], items[1]


def _string_bytes(arr: pa.Array, present: np.ndarray | None = None) -> Ragged:
    """Length-prefixed UTF-8 of a string array (nothing for rows not ``present``, which
    must be empty strings)."""
    _, offsets_buf, data_buf = arr.buffers()
    offsets = np.frombuffer(offsets_buf, dtype=np.int32)[arr.offset:arr.offset + len(arr) + 1]
    data = (np.frombuffer(data_buf, dtype=np.uint8) if data_buf is not None
            else np.empty(0, dtype=np.uint8))
    lengths = np.diff(offsets).astype(np.int64)
    raw = (lengths, data[offsets[0]:offsets[-1]])
    return assemble([varints(lengths, present), raw], len(arr))


def _int64(arr: pa.Array) -> np.ndarray:
    filled = pc.fill_null(arr, 0) if arr.null_count else arr
    return np.asarray(filled.to_numpy(zero_copy_only=False), dtype=np.int64)


def _timestamps(arr: pa.Array, kind: str) -> np.ndarray:
    micros = _int64(arr.cast(pa.timestamp("us", tz="UTC")).cast(pa.int64()))
    return micros // 1000 if kind == "timestamp_ms" else micros


def _decimal_bytes(arr: pa.Array, present: np.ndarray) -> Ragged:
    """Length-prefixed big-endian two's complement, sized as fastavro sizes it."""
    words = np.frombuffer(arr.buffers()[1], dtype=np.int64)[2 * arr.offset:
                                                            2 * (arr.offset + len(arr))]
    low, high = words[0::2], words[1::2]
    if np.any(high != (low >> 63)):  # pragma: no cover - precision 18 fits in 64 bits
        raise WorkloadError("a decimal does not fit in 64 bits")
    magnitude = np.abs(low).view(np.uint64)
    nb = 1 + (magnitude[:, None] >= (np.uint64(1) << (np.arange(1, 9, dtype=np.uint64) * 8
                                                       - np.uint64(1)))).sum(axis=1)
    nb[~present] = 0
    big = low.astype(">i8").view(np.uint8).reshape(-1, 8)
    data = big[(8 - nb[:, None]) <= _COLUMNS8]
    return assemble([varints(nb, present), (nb.astype(np.int64), data)], len(arr))


def _enum_indices(arr: pa.Array, f: Field, present: np.ndarray) -> np.ndarray:
    idx = pc.index_in(arr, value_set=pa.array(f.symbols))
    unknown = np.asarray(idx.is_null().to_numpy(zero_copy_only=False)) & present
    if unknown.any():
        row = int(np.argmax(unknown))
        raise WorkloadError(f"record {row}: field {f.name!r} = {arr[row].as_py()!r}: "
                            f"expected one of {', '.join(f.symbols)}")
    return _int64(idx)


def _list_pieces(arr: pa.Array, item_pieces: list[Ragged], present: np.ndarray) -> list[Ragged]:
    """Avro array/map framing: count (if > 0), items, terminating 0 (non-null rows)."""
    n = len(arr)
    counts = _int64(pc.list_value_length(arr))
    n_items = int(counts.sum())
    items = assemble(item_pieces, n_items) if n_items else _empty(n)
    per_row = _per_row(items, counts) if n_items else _empty(n)
    end_len = present.astype(np.int64)
    return [varints(counts, counts > 0), per_row, (end_len, np.zeros(int(end_len.sum()),
                                                                      dtype=np.uint8))]


def _field_pieces(arr: pa.Array, f: Field) -> list[Ragged]:
    n = len(arr)
    valid = (np.ones(n, dtype=bool) if arr.null_count == 0
             else np.asarray(arr.is_valid().to_numpy(zero_copy_only=False)))
    if arr.null_count and not f.nullable:
        row = int(np.argmin(valid))
        raise WorkloadError(f"record {row}: field {f.name!r} = None: the field is not "
                            "nullable")
    pieces: list[Ragged] = []
    if f.nullable:
        pieces.append(_small_varints(valid.astype(np.int64)))
    if f.kind == "string":
        pieces.append(_string_bytes(pc.fill_null(arr, "") if arr.null_count else arr, valid))
    elif f.kind in ("int", "long"):
        pieces.append(varints(_int64(arr), valid))
    elif f.kind in ("timestamp_us", "timestamp_ms"):
        pieces.append(varints(_timestamps(arr, f.kind), valid))
    elif f.kind == "decimal":
        pieces.append(_decimal_bytes(arr, valid))
    elif f.kind == "enum":
        pieces.append(varints(_enum_indices(arr, f, valid), valid))
    elif f.kind == "strings":
        pieces.extend(_list_pieces(arr, [_string_bytes(arr.flatten())], valid))
    elif f.kind == "map":
        arr = arr.cast(_ENTRIES)  # MapArray.keys ignores slicing; a list of structs does not
        entries = arr.flatten()
        pieces.extend(_list_pieces(arr, [_string_bytes(entries.field("key")),
                                         _string_bytes(entries.field("value"))], valid))
    else:  # pragma: no cover - Kind is closed
        raise AssertionError(f.kind)
    return pieces


class ArrowEncoder:
    """Encode Arrow tables of one K2 schema to Avro values (prefixed by ``header``)."""

    def __init__(self, schema: str | RecordSchema, header: bytes = b"") -> None:
        self.schema = get_schema(schema) if isinstance(schema, str) else schema
        self.arrow_schema = arrow_schema(self.schema.name)
        self.header = header

    def conform(self, table: pa.Table) -> pa.Table:
        """``table`` with the schema's columns in order and types; WorkloadError otherwise."""
        missing = [f.name for f in self.schema.fields if f.name not in table.column_names]
        if missing:
            raise WorkloadError(f"table lacks field(s) {', '.join(map(repr, missing))} of "
                                f"schema {self.schema.name!r}")
        table = table.select(self.schema.names)
        if table.schema.equals(self.arrow_schema):
            return table
        columns = []
        for f, target in zip(self.schema.fields, self.arrow_schema, strict=True):
            col = table.column(f.name)
            try:
                columns.append(col.cast(target.type) if col.type != target.type else col)
            except (pa.ArrowInvalid, pa.ArrowNotImplementedError) as exc:
                raise WorkloadError(f"field {f.name!r}: column of type {col.type} cannot be "
                                    f"{target.type}: {exc}") from None
        return pa.Table.from_arrays(columns, names=self.schema.names)

    def encode_table(self, table: pa.Table) -> list[bytes]:
        """One Avro value per row."""
        table = self.conform(table).combine_chunks()
        n = table.num_rows
        if n == 0:
            return []
        pieces: list[Ragged] = [_constant(self.header, n)] if self.header else []
        for f in self.schema.fields:
            column = table.column(f.name)
            arr = column.chunk(0) if column.num_chunks else pa.array([], column.type)
            pieces.extend(_field_pieces(arr, f))
        lengths, data = assemble(pieces, n)
        offsets = np.zeros(n + 1, dtype=np.int64)
        np.cumsum(lengths, out=offsets[1:])
        values = pa.LargeBinaryArray.from_buffers(
            pa.large_binary(), n, [None, pa.py_buffer(offsets), pa.py_buffer(data)])
        out: list[bytes] = values.to_pylist()
        return out
