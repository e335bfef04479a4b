"""The schema-compiled Avro encoder and its checked reference: bytes identical to fastavro's
``schemaless_writer`` for drawn records, and bad records named by field and value."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from decimal import Decimal
from typing import Any

import fastavro
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k2matrix.avro.checked import CheckedEncoder
from k2matrix.avro.compiled import CompiledEncoder
from k2matrix.avro.primitives import (
    confluent_header,
    decimal_bytes,
    encode_long,
    split_confluent,
)
from k2matrix.errors import WorkloadError
from k2matrix.schemas import SCHEMAS, avro_schema
from k2matrix.workload import strategies as ks
from k2matrix.workload.generate import WorkloadSpec, generate_records

PROPERTY = settings(max_examples=150, deadline=None)
HEADER = confluent_header(7)


def fastavro_bytes(schema: str, record: dict[str, Any]) -> bytes:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, fastavro.parse_schema(avro_schema(schema)), record)
    return buf.getvalue()


ENCODERS = {name: CompiledEncoder(name, header=HEADER) for name in SCHEMAS}


@pytest.mark.parametrize("schema", sorted(SCHEMAS))
@PROPERTY
@given(data=st.data())
def test_compiled_and_checked_bytes_equal_fastavro(schema: str, data: st.DataObject) -> None:
    record = data.draw(ks.records(schema))
    expected = fastavro_bytes(schema, record)
    encoder = ENCODERS[schema]
    assert encoder.encode(record) == HEADER + expected
    assert encoder.checked.encode(record) == expected


@pytest.mark.parametrize("schema", sorted(SCHEMAS))
@PROPERTY
@given(data=st.data())
def test_edge_case_records_and_batches_equal_fastavro(schema: str,
                                                      data: st.DataObject) -> None:
    batch = data.draw(ks.record_batches(schema, max_size=8))
    batch.append(data.draw(ks.edge_case_records(schema)))
    assert ENCODERS[schema].encode_many(batch) == [HEADER + fastavro_bytes(schema, r)
                                                   for r in batch]


@pytest.mark.parametrize("schema", ["v1", "v2"])
def test_generated_bulk_records_equal_fastavro(schema: str) -> None:
    records = generate_records(WorkloadSpec(schema=schema, rows=500, seed=11, null_ratio=0.3))
    assert ENCODERS[schema].encode_many(records) == [HEADER + fastavro_bytes(schema, r)
                                                     for r in records]


@given(st.integers(-(2**63), 2**63 - 1))
def test_long_encoding_equals_fastavro_over_the_whole_range(n: int) -> None:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, "long", n)
    assert encode_long(n) == buf.getvalue()


@pytest.mark.parametrize("n", [0, -1, 1, 63, -64, 64, 8191, -8192, 8192, 2**27, 2**41,
                               2**42, -(2**63), 2**63 - 1])
def test_long_encoding_at_varint_boundaries(n: int) -> None:
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, "long", n)
    assert encode_long(n) == buf.getvalue()


@pytest.mark.parametrize("n", [2**63, -(2**63) - 1, 2**64, -(2**70), 2**200])
def test_long_outside_64_bits_is_refused(n: int) -> None:
    with pytest.raises(OverflowError):
        encode_long(n)


@pytest.mark.parametrize("unscaled", [0, 1, -1, 127, -128, 128, -129, 255, 256, 32767,
                                      -32768, 10**18 - 1, -(10**18) + 1])
def test_decimal_bytes_sized_like_fastavro(unscaled: int) -> None:
    schema = {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 8}
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, schema, Decimal(unscaled).scaleb(-8))
    assert decimal_bytes(unscaled) == buf.getvalue()


def test_confluent_header_round_trip() -> None:
    assert HEADER == b"\x00\x00\x00\x00\x07"
    assert split_confluent(HEADER + b"body") == (7, b"body")
    with pytest.raises(ValueError, match="magic byte"):
        split_confluent(b"\x01\x00\x00\x00\x07body")


def test_timestamps_in_any_utc_tzinfo_or_naive_or_offset_encode_alike() -> None:
    record = generate_records(WorkloadSpec(schema="v2", rows=1, seed=3))[0]
    base = record["timestamp"].astimezone(dt.UTC)
    variants = [
        base,
        base.astimezone(zoneinfo.ZoneInfo("UTC")),
        base.replace(tzinfo=None),  # naive: read as UTC
        base.astimezone(dt.timezone(dt.timedelta(hours=10))),  # the same instant elsewhere
        base.astimezone(zoneinfo.ZoneInfo("Australia/Sydney")),
    ]
    encoded = {ENCODERS["v2"].encode({**record, "timestamp": ts}) for ts in variants}
    assert len(encoded) == 1
    assert encoded == {HEADER + fastavro_bytes("v2", {**record, "timestamp": base})}


def test_long_strings_and_large_collections_take_the_checked_path_with_equal_bytes() -> None:
    record = generate_records(WorkloadSpec(schema="v2", rows=1, seed=4))[0]
    record.update(message_id="é" * 9000, trade_conditions=["X"] * 10_000,
                  vendor_data={f"k{i}": "v" for i in range(9000)})
    assert ENCODERS["v2"].encode(record) == HEADER + fastavro_bytes("v2", record)


def test_missing_nullable_fields_encode_as_null() -> None:
    record = generate_records(WorkloadSpec(schema="v1", rows=1, seed=5))[0]
    del record["buyer_id"], record["sequence_number"]
    full = {**record, "buyer_id": None, "sequence_number": None}
    assert ENCODERS["v1"].encode(record) == HEADER + fastavro_bytes("v1", full)


def _v2() -> dict[str, Any]:
    return generate_records(WorkloadSpec(schema="v2", rows=1, seed=6))[0]


def _v1() -> dict[str, Any]:
    return generate_records(WorkloadSpec(schema="v1", rows=1, seed=6))[0]


BAD_RECORDS: list[tuple[str, str, Any, str]] = [
    # (schema, field, bad value, what the message must also say)
    ("v2", "price", "12.5", "expected a Decimal"),
    ("v2", "price", 12.5, "expected a Decimal"),
    ("v2", "price", Decimal("1.123456789"), "more than 8 fractional digits"),
    ("v2", "price", Decimal("12345678901.5"), "more than 18 digits"),
    ("v2", "price", Decimal("1." + "0" * 40 + "1"), "more than 8 fractional digits"),
    ("v2", "price", Decimal("NaN"), "finite"),
    ("v2", "quantity", Decimal("Infinity"), "finite"),
    ("v2", "side", "HOLD", "expected one of BUY"),
    ("v2", "asset_class", "bonds", "expected one of equities"),
    ("v2", "symbol", None, "not nullable"),
    ("v2", "symbol", 42, "expected a str"),
    ("v2", "message_id", b"bytes", "expected a str"),
    ("v2", "timestamp", "2026-01-05T14:30:00Z", "expected a datetime"),
    ("v2", "source_sequence", "7", "expected an integer"),
    ("v2", "source_sequence", 1.5, "expected an integer"),
    ("v2", "source_sequence", True, "expected an integer"),
    ("v2", "platform_sequence", 2**64, "64-bit"),
    ("v2", "trade_conditions", "@F", "expected a list of str"),
    ("v2", "trade_conditions", ["@", 7], "item 1"),
    ("v2", "vendor_data", ["a", "b"], "expected a dict"),
    ("v2", "vendor_data", {"k": 1}, "str keys and str values"),
    ("v1", "company_id", 2**31, "32-bit"),
    ("v1", "qualifiers", -(2**31) - 1, "32-bit"),
    ("v1", "price", Decimal("1.0000001"), "more than 6 fractional digits"),
    ("v1", "exchange_timestamp", 1.5, "expected a datetime"),
]


@pytest.mark.parametrize(("schema", "field", "value", "says"), BAD_RECORDS,
                         ids=[f"{s}-{f}-{v!r}"[:60] for s, f, v, _ in BAD_RECORDS])
def test_bad_values_are_named_by_field_and_value(schema: str, field: str, value: Any,
                                                 says: str) -> None:
    record = _v2() if schema == "v2" else _v1()
    record[field] = value
    for encode in (ENCODERS[schema].encode, CheckedEncoder(schema).encode):
        with pytest.raises(WorkloadError) as info:
            encode(record)
        message = str(info.value)
        assert f"field {field!r}" in message
        assert repr(value)[:40] in message
        assert says in message


def test_trailing_zeros_beyond_the_scale_are_exact_and_accepted() -> None:
    record = _v2()
    record["price"] = Decimal("1.1000000000000")  # 13 places, value fits scale 8
    plain = {**record, "price": Decimal("1.1")}
    assert ENCODERS["v2"].encode(record) == ENCODERS["v2"].encode(plain)
    assert ENCODERS["v2"].checked.encode(record) == fastavro_bytes("v2", plain)


def test_missing_required_field_is_named() -> None:
    record = _v2()
    del record["currency"]
    with pytest.raises(WorkloadError, match="field 'currency' is missing"):
        ENCODERS["v2"].encode(record)


def test_batch_errors_name_the_row() -> None:
    records = generate_records(WorkloadSpec(schema="v2", rows=5, seed=8))
    records[3]["side"] = "HOLD"
    with pytest.raises(WorkloadError, match=r"^record 3: field 'side' = 'HOLD'"):
        ENCODERS["v2"].encode_many(records)


def test_not_a_record_is_refused() -> None:
    with pytest.raises(WorkloadError, match="expected a dict record"):
        ENCODERS["v2"].encode(["not", "a", "record"])  # type: ignore[arg-type]


def test_the_generated_source_is_kept_for_reading() -> None:
    source = ENCODERS["v2"].source
    assert "def encode(r):" in source and "def encode_many(records):" in source
    assert "r['vendor_data']" in source
