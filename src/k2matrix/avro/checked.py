"""The checked Avro encoder: field by field, every value validated, every error naming the
field and the value.

It is the reference the compiled encoder (:mod:`avro_compiled`) falls back to when its fast
path meets anything unusual (a missing field, a wrong type, a very long string), so both
always produce the same bytes, and bad input always gets the same, precise message.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable, Mapping
from decimal import Decimal
from numbers import Integral
from typing import Any

from k2matrix.avro.primitives import (
    END_OF_BLOCKS,
    NULL_BRANCH,
    ONE_MICROSECOND,
    ONE_MILLISECOND,
    VALUE_BRANCH,
    decimal_bytes,
    decimal_unscaled,
    encode_int,
    encode_length,
    encode_long,
    encode_string,
    timestamp_units,
)
from k2matrix.errors import WorkloadError
from k2matrix.schemas import Field, RecordSchema, get_schema

FieldEncoder = Callable[[Any], bytes]


class _Invalid(Exception):
    """A value that does not fit its field; the message says what was expected."""


def _string(value: Any) -> bytes:
    if not isinstance(value, str):
        raise _Invalid("expected a str")
    return encode_string(value)


def _integer(value: Any, bits: int) -> int:
    if isinstance(value, bool) or not isinstance(value, Integral):
        raise _Invalid(f"expected an integer ({bits}-bit)")
    return int(value)


def _int(value: Any) -> bytes:
    try:
        return encode_int(_integer(value, 32))
    except OverflowError as exc:
        raise _Invalid(str(exc)) from None


def _long(value: Any) -> bytes:
    try:
        return encode_long(_integer(value, 64))
    except OverflowError as exc:
        raise _Invalid(str(exc)) from None


def _timestamp(unit: dt.timedelta) -> FieldEncoder:
    def encode(value: Any) -> bytes:
        if isinstance(value, bool) or not isinstance(value, dt.datetime | Integral):
            raise _Invalid("expected a datetime (UTC)")
        if not isinstance(value, dt.datetime):
            value = int(value)
        return _long(timestamp_units(value, unit))

    return encode


def _decimal(precision: int, scale: int) -> FieldEncoder:
    def encode(value: Any) -> bytes:
        if not isinstance(value, Decimal):
            raise _Invalid(f"expected a Decimal (precision {precision}, scale {scale})")
        if not value.is_finite():
            raise _Invalid("expected a finite Decimal")
        try:
            return decimal_bytes(decimal_unscaled(value, precision, scale))
        except ValueError as exc:
            raise _Invalid(f"{exc} (decimal({precision}, {scale}))") from None

    return encode


def _enum(symbols: tuple[str, ...]) -> FieldEncoder:
    index = {s: i for i, s in enumerate(symbols)}

    def encode(value: Any) -> bytes:
        if not isinstance(value, str) or value not in index:
            raise _Invalid(f"expected one of {', '.join(symbols)}")
        return encode_long(index[value])

    return encode


def _strings(value: Any) -> bytes:
    if not isinstance(value, list | tuple):
        raise _Invalid("expected a list of str")
    if not value:
        return END_OF_BLOCKS
    parts = [encode_length(len(value))]
    for i, item in enumerate(value):
        if not isinstance(item, str):
            raise _Invalid(f"item {i} = {item!r}: expected a str")
        parts.append(encode_string(item))
    parts.append(END_OF_BLOCKS)
    return b"".join(parts)


def _map(value: Any) -> bytes:
    if not isinstance(value, Mapping):
        raise _Invalid("expected a dict of str to str")
    if not value:
        return END_OF_BLOCKS
    parts = [encode_length(len(value))]
    for k, v in value.items():
        if not isinstance(k, str) or not isinstance(v, str):
            raise _Invalid(f"entry {k!r}: {v!r}: expected str keys and str values")
        parts.append(encode_string(k))
        parts.append(encode_string(v))
    parts.append(END_OF_BLOCKS)
    return b"".join(parts)


def field_encoder(f: Field) -> FieldEncoder:
    """The checked encoder of one field's value (nullability not included)."""
    if f.kind == "string":
        return _string
    if f.kind == "int":
        return _int
    if f.kind == "long":
        return _long
    if f.kind == "decimal":
        return _decimal(f.precision, f.scale)
    if f.kind == "timestamp_ms":
        return _timestamp(ONE_MILLISECOND)
    if f.kind == "timestamp_us":
        return _timestamp(ONE_MICROSECOND)
    if f.kind == "enum":
        return _enum(f.symbols)
    if f.kind == "strings":
        return _strings
    if f.kind == "map":
        return _map
    raise AssertionError(f.kind)  # pragma: no cover - Kind is closed


class CheckedEncoder:
    """Encode K2 dict records of one schema to Avro bodies, validating every field."""

    def __init__(self, schema: str | RecordSchema) -> None:
        self.schema = get_schema(schema) if isinstance(schema, str) else schema
        self._fields = [(f, field_encoder(f)) for f in self.schema.fields]

    def encode(self, record: Mapping[str, Any], row: int | None = None) -> bytes:
        """The Avro body of ``record``; WorkloadError naming the field and value if it does
        not fit the schema (and the row, when given)."""
        if not isinstance(record, Mapping):
            raise WorkloadError(f"{self._where(row)}expected a dict record of schema "
                                f"{self.schema.name!r}, got {type(record).__name__}")
        parts = []
        for f, encode in self._fields:
            if f.name not in record:
                if f.nullable:
                    parts.append(NULL_BRANCH)
                    continue
                raise WorkloadError(f"{self._where(row)}field {f.name!r} is missing (schema "
                                    f"{self.schema.name!r} requires it)")
            value = record[f.name]
            if value is None:
                if f.nullable:
                    parts.append(NULL_BRANCH)
                    continue
                raise WorkloadError(f"{self._where(row)}field {f.name!r} = None: the field is "
                                    f"not nullable in schema {self.schema.name!r}")
            try:
                body = encode(value)
            except _Invalid as exc:
                raise WorkloadError(f"{self._where(row)}field {f.name!r} = {value!r}: "
                                    f"{exc}") from None
            parts.append(VALUE_BRANCH + body if f.nullable else body)
        return b"".join(parts)

    def _where(self, row: int | None) -> str:
        return "" if row is None else f"record {row}: "
