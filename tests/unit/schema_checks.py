"""Shared checks of the strategy tests: what a record of a schema must look like."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import fastavro
from fastavro.validation import validate
from hypothesis import settings

from k2matrix.schemas import avro_schema, get_schema

ROOT = Path(__file__).resolve().parents[2]
REAL_TEXT = (ROOT / "matrix.toml").read_text(encoding="utf-8")
PROPERTY = settings(max_examples=80, deadline=None)
SEARCH = settings(max_examples=2000, deadline=None, database=None)

Record = dict[str, Any]


def ticks_per_second(name: str, field: str) -> int:
    return 1_000 if get_schema(name).field(field).kind == "timestamp_ms" else 1_000_000


def assert_fits_schema(record: Record, name: str) -> None:
    """What fastavro does not check: decimal precision and exact scale, timestamp unit/zone."""
    schema = get_schema(name)
    assert list(record) == schema.names
    for f in schema.fields:
        value = record[f.name]
        if value is None:
            assert f.nullable, f.name
        elif f.kind == "decimal":
            _, digits, exponent = value.as_tuple()
            assert exponent == -f.scale, (f.name, value)
            assert len(digits) <= f.precision, (f.name, value)
            assert value > 0
        elif f.kind in ("timestamp_ms", "timestamp_us"):
            assert value.tzinfo is not None and value.utcoffset().total_seconds() == 0
            if f.kind == "timestamp_ms":
                assert value.microsecond % 1000 == 0, (f.name, value)
        elif f.kind == "enum":
            assert value in f.symbols
    parsed = fastavro.parse_schema(avro_schema(name))
    assert validate(record, parsed, raise_errors=True)
