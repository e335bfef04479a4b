"""A content checksum of tables: equal for equal multisets of rows, in any order.

Each row hashes every column (strings and binaries byte by byte, integers and booleans by
value, decimals by their exact value whatever their scale, floats by their float64 bits with
-0.0 and NaN made one, timestamps with or without a zone by their instant to the microsecond
in whatever unit they come, dates by day, lists in order, maps as sets of entries, structs
field by field, dictionaries by their values, nulls distinctly); the checksum is the row
count and the sum of the row hashes modulo 2**64. Sums add up, so a writer can add the
checksums of the batches it wrote and compare the total with the checksum of the table read
back, whatever order its files and partitions return the rows in.

A checksum also keeps each column's own sum (:attr:`Checksum.columns`, not compared) and the
tables it was computed from (:attr:`Checksum.sources`), so a difference can be traced to its
column and first differing value (:mod:`k2matrix.writer.diff`).

Vectorized with numpy over the Arrow buffers: no per-row Python work.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

_U64 = np.uint64
_NULL = _U64(0x9E3779B97F4A7C15)
_BYTE_BASE = 0x100000001B3  # odd, so invertible modulo 2**64
_ELEM_BASE = 0xC2B2AE3D27D4EB4F


@dataclass(frozen=True)
class Checksum:
    """Row count and the sum of row hashes (mod 2**64). ``a + b`` is the checksum of both.
    ``columns`` (each column's sum of value hashes) and ``sources`` (the tables hashed)
    serve the diagnosis of a difference and take no part in equality."""

    rows: int = 0
    digest: int = 0
    columns: tuple[tuple[str, int], ...] = field(default=(), compare=False)
    sources: tuple[pa.Table, ...] = field(default=(), compare=False, repr=False)

    def __add__(self, other: Checksum) -> Checksum:
        sums = dict(self.columns)
        for name, value in other.columns:
            sums[name] = (sums.get(name, 0) + value) % 2**64
        return Checksum(self.rows + other.rows, (self.digest + other.digest) % 2**64,
                        tuple(sums.items()), self.sources + other.sources)

    def __str__(self) -> str:
        return f"{self.rows} rows, digest {self.digest:016x}"


def _mix(x: np.ndarray) -> np.ndarray:
    """splitmix64's finalizer: a bijective scramble of uint64 values."""
    with np.errstate(over="ignore"):
        z = x.astype(_U64, copy=True)
        z ^= z >> _U64(30)
        z *= _U64(0xBF58476D1CE4E5B9)
        z ^= z >> _U64(27)
        z *= _U64(0x94D049BB133111EB)
        z ^= z >> _U64(31)
    return z


_POWERS: dict[int, np.ndarray] = {}


def _powers(base: int, count: int) -> np.ndarray:
    """``base**k mod 2**64`` for k < count (cached, grown by doubling)."""
    have = _POWERS.get(base)
    if have is None or len(have) < count:
        size = max(count, 2 * len(have) if have is not None else 1024)
        out = np.full(size, base, dtype=_U64)
        out[0] = 1
        with np.errstate(over="ignore"):
            have = _POWERS[base] = np.cumprod(out, dtype=_U64)
    return have[:count]


def _ordered_sums(values: np.ndarray, offsets: np.ndarray, base: int) -> np.ndarray:
    """For each run ``values[offsets[i]:offsets[i+1]]``: sum of value * base**position."""
    n = len(values)
    start = offsets[:-1].astype(np.int64)
    end = offsets[1:].astype(np.int64)
    with np.errstate(over="ignore"):
        weighted = values.astype(_U64) * _powers(base, n)
        cums = np.concatenate([np.zeros(1, _U64), np.cumsum(weighted, dtype=_U64)])
        inverse = _powers(pow(base, -1, 2**64), n + 1)
        out: np.ndarray = (cums[end] - cums[start]) * inverse[start]
        return out


def _unordered_sums(values: np.ndarray, offsets: np.ndarray) -> np.ndarray:
    with np.errstate(over="ignore"):
        cums = np.concatenate([np.zeros(1, _U64), np.cumsum(values, dtype=_U64)])
        out: np.ndarray = cums[offsets[1:].astype(np.int64)] - cums[offsets[:-1].astype(np.int64)]
        return out


def _validity(arr: pa.Array) -> np.ndarray | None:
    if arr.null_count == 0:
        return None
    return np.asarray(arr.is_valid().to_numpy(zero_copy_only=False), dtype=bool)


def _string_hashes(arr: pa.Array) -> np.ndarray:
    if pa.types.is_string(arr.type):
        arr = arr.cast(pa.large_string())
    elif not (pa.types.is_large_string(arr.type) or pa.types.is_large_binary(arr.type)):
        arr = arr.cast(pa.large_binary())  # bytes: the same layout, no UTF-8 check
    buffers = arr.buffers()
    offsets = np.frombuffer(buffers[1], dtype=np.int64)[arr.offset: arr.offset + len(arr) + 1]
    data = (np.frombuffer(buffers[2], dtype=np.uint8) if buffers[2] is not None
            else np.zeros(0, np.uint8))
    first, last = int(offsets[0]), int(offsets[-1])
    body = data[first:last]
    sums = _ordered_sums(body.astype(_U64) + _U64(1), offsets - first, _BYTE_BASE)
    with np.errstate(over="ignore"):
        return _mix(sums ^ (np.diff(offsets).astype(_U64) * _U64(_ELEM_BASE)))


def _fixed_hashes(arr: pa.Array) -> np.ndarray:
    width = arr.type.bit_width // 8
    data = np.frombuffer(arr.buffers()[1], dtype=np.uint8)
    body = data[arr.offset * width: (arr.offset + len(arr)) * width]
    if width == 16:  # decimal128: two little-endian words
        words = body.view(_U64).reshape(-1, 2)
        with np.errstate(over="ignore"):
            return _mix(_mix(words[:, 0]) + words[:, 1])
    ints = body.view({1: np.int8, 2: np.int16, 4: np.int32, 8: np.int64}[width])
    return _mix(ints.astype(np.int64).view(_U64))


_CANONICAL = pa.decimal128(38, 18)


def _canonical_decimal(arr: pa.Array) -> pa.Array:
    """Decimals at one scale (18), so a value hashes alike whatever scale a table gives it
    (``decimal(18, 6)`` 1.5 and ``decimal(18, 8)`` 1.50000000); exact for every type with at
    most 18 decimals and 20 integer digits, the others by their own scale."""
    typ = arr.type
    if typ == _CANONICAL or typ.scale > 18 or typ.precision - typ.scale > 20:
        return arr
    return arr.cast(_CANONICAL)


def _int_hashes(values: np.ndarray) -> np.ndarray:
    return _mix(np.ascontiguousarray(values, dtype=np.int64).view(_U64))


_US_PER = {"s": 1_000_000, "ms": 1_000, "us": 1}


def _timestamp_hashes(arr: pa.Array) -> np.ndarray:
    """The instant in microseconds (exact for s, ms and us; nanoseconds when a value has
    some, so a lost nanosecond is a difference), whatever the zone."""
    unit = arr.type.unit
    raw = np.asarray(arr.cast(pa.int64()).fill_null(0).to_numpy(zero_copy_only=False),
                     dtype=np.int64)
    if unit == "ns":
        return _int_hashes(raw // 1000 if not np.any(raw % 1000) else raw)
    with np.errstate(over="ignore"):
        return _int_hashes(raw * _US_PER[unit])


def _float_hashes(arr: pa.Array) -> np.ndarray:
    values = np.asarray(arr.cast(pa.float64()).fill_null(0.0).to_numpy(zero_copy_only=False),
                        dtype=np.float64)
    values = np.where(values == 0.0, 0.0, values)  # -0.0 is 0.0
    values = np.where(np.isnan(values), np.nan, values)  # one NaN
    return _mix(np.ascontiguousarray(values).view(_U64) ^ _U64(0x5851F42D4C957F2D))


def _bool_hashes(arr: pa.Array) -> np.ndarray:
    return _int_hashes(np.asarray(arr.fill_null(False).to_numpy(zero_copy_only=False),
                                  dtype=np.int64))


def _list_hashes(arr: pa.Array) -> np.ndarray:
    if pa.types.is_fixed_size_list(arr.type):
        size = arr.type.list_size
        offsets = np.arange(arr.offset, arr.offset + len(arr) + 1, dtype=np.int64) * size
    else:
        offsets = arr.offsets.to_numpy()
    values = _column_hashes(arr.values)
    return _mix(_ordered_sums(values, offsets, _ELEM_BASE) + (np.diff(offsets).astype(_U64)))


def _map_hashes(arr: pa.MapArray) -> np.ndarray:
    offsets = arr.offsets.to_numpy()
    with np.errstate(over="ignore"):
        entries = _mix(_column_hashes(arr.keys) * _U64(3) + _column_hashes(arr.items))
    return _mix(_unordered_sums(entries, offsets) + (np.diff(offsets).astype(_U64)))


def _struct_hashes(arr: pa.StructArray) -> np.ndarray:
    out = np.zeros(len(arr), dtype=_U64)
    with np.errstate(over="ignore"):
        for index, child in enumerate(arr.flatten()):
            out = _mix(out * _U64(_ELEM_BASE) + _column_hashes(child) + _U64(index))
    return out


def _column_hashes(arr: pa.Array) -> np.ndarray:
    """One uint64 per value of ``arr`` (nulls hash to a constant)."""
    typ = arr.type
    if pa.types.is_dictionary(typ):
        return _column_hashes(arr.dictionary_decode())
    if pa.types.is_string(typ) or pa.types.is_large_string(typ) or pa.types.is_binary(
            typ) or pa.types.is_large_binary(typ) or pa.types.is_fixed_size_binary(typ):
        hashes = _string_hashes(arr if not pa.types.is_fixed_size_binary(typ)
                                else arr.cast(pa.binary()))
    elif pa.types.is_map(typ):
        hashes = _map_hashes(arr)
    elif (pa.types.is_list(typ) or pa.types.is_large_list(typ)
          or pa.types.is_fixed_size_list(typ)):
        hashes = _list_hashes(arr)
    elif pa.types.is_struct(typ):
        hashes = _struct_hashes(arr)
    elif pa.types.is_timestamp(typ):
        hashes = _timestamp_hashes(arr)
    elif pa.types.is_date(typ):
        hashes = _int_hashes(np.asarray(pc.cast(arr, pa.date32()).cast(pa.int32()).fill_null(0)
                                        .to_numpy(zero_copy_only=False)))
    elif pa.types.is_floating(typ):
        hashes = _float_hashes(arr)
    elif pa.types.is_boolean(typ):
        hashes = _bool_hashes(arr)
    elif pa.types.is_null(typ):
        return np.full(len(arr), _NULL, dtype=_U64)
    elif pa.types.is_decimal128(typ):
        hashes = _fixed_hashes(_canonical_decimal(arr))
    elif pa.types.is_integer(typ) or pa.types.is_time(typ):
        hashes = _fixed_hashes(arr)
    else:
        raise TypeError(f"checksum: column type {typ} is not supported")
    valid = _validity(arr)
    if valid is not None:
        hashes = np.where(valid, hashes, _NULL)
    return hashes


def column_hashes(column: pa.ChunkedArray | pa.Array) -> np.ndarray:
    """One uint64 per value of a column, in its order (equal values, equal hashes)."""
    chunks = column.chunks if isinstance(column, pa.ChunkedArray) else [column]
    parts = [_column_hashes(chunk) for chunk in chunks]
    return np.concatenate(parts) if parts else np.zeros(0, _U64)


def table_checksum(table: pa.Table | pa.RecordBatch) -> Checksum:
    """The checksum of ``table``'s rows over all its columns, in column order."""
    if isinstance(table, pa.RecordBatch):
        table = pa.Table.from_batches([table])
    rows = np.zeros(table.num_rows, dtype=_U64)
    columns = []
    with np.errstate(over="ignore"):
        for index, (name, column) in enumerate(zip(table.column_names, table.columns,
                                                   strict=True)):
            hashes = column_hashes(column)
            columns.append((name, int(np.sum(hashes, dtype=_U64)) if len(hashes) else 0))
            rows = _mix(rows * _U64(_ELEM_BASE) + hashes + _U64(index))
        digest = int(np.sum(rows, dtype=_U64)) if len(rows) else 0
    return Checksum(table.num_rows, digest, tuple(columns), (table,))
