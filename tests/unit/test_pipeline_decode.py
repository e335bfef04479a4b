"""The sink's bulk decoder (k2matrix.pipeline.decode): Confluent-wire values framed as one
Avro container block and read by DuckDB equal fastavro's decoding of each value, for drawn
batches of both trade schemas (edge values included) and for any decimal."""

from __future__ import annotations

import io
from decimal import Decimal
from typing import Any

import fastavro
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from test_avro_arrow import fastavro_values

from k2matrix.errors import BackendError
from k2matrix.pipeline.decode import AvroDecoder, decimal_from_bytes
from k2matrix.schemas import avro_schema
from k2matrix.workload import strategies as ks
from k2matrix.writer.convert import records_to_table

DECODERS: dict[str, AvroDecoder] = {}


def _decoder(schema: str) -> AvroDecoder:
    if schema not in DECODERS:
        DECODERS[schema] = AvroDecoder(schema)
    return DECODERS[schema]


def _values(schema: str, records: list[dict[str, Any]]) -> list[bytes]:
    return fastavro_values(schema, records)


def _one_by_one(schema: str, values: list[bytes]) -> pa.Table:
    parsed = fastavro.parse_schema(avro_schema(schema))
    return records_to_table([fastavro.schemaless_reader(io.BytesIO(v[5:]), parsed)
                             for v in values], schema)


@pytest.mark.parametrize("schema", ["v1", "v2"])
@settings(max_examples=40, deadline=None)
@given(data=st.data())
def test_drawn_batches_decode_as_fastavro_does(schema: str, data: st.DataObject) -> None:
    values = _values(schema, data.draw(ks.record_batches(schema, max_size=12)))
    got = _decoder(schema).decode(values)
    assert got.equals(_one_by_one(schema, values))


@settings(max_examples=200, deadline=None)
@given(st.lists(st.one_of(st.integers(-(10**18) + 1, 10**18 - 1),
                          st.sampled_from([0, 1, -1, 127, 128, -128, -129, 255, 256,
                                           2**31, -(2**31), 10**18 - 1, -(10**18) + 1]),
                          st.none()), max_size=30))
def test_any_unscaled_decimal_converts_exactly(unscaled: list[int | None]) -> None:
    raw = [None if u is None else u.to_bytes(max(1, (u.bit_length() + 8) // 8), "big",
                                             signed=True) for u in unscaled]
    got = decimal_from_bytes(pa.array(raw, pa.binary()), pa.decimal128(18, 8))
    assert got.to_pylist() == [None if u is None else Decimal(u).scaleb(-8) for u in unscaled]


def test_a_value_without_the_confluent_header_is_named() -> None:
    good = _values("v1", [{"symbol": "A", "company_id": 1, "exchange": "ASX",
                           "exchange_timestamp": 0, "price": Decimal("1.5"), "volume": 2,
                           "qualifiers": 0, "venue": "X", "buyer_id": None,
                           "ingestion_timestamp": 0, "sequence_number": None}])
    assert _decoder("v1").decode(good).num_rows == 1
    with pytest.raises(BackendError, match="message 1 is not a Confluent-wire Avro value"):
        _decoder("v1").decode([*good, b"\x01" + good[0][1:]])


def test_rewritten_blocks_of_equal_size_are_read_anew() -> None:
    """The same number of rows of the same size, other values: never the previous block."""
    def one(symbol: str) -> list[bytes]:
        return _values("v1", [{"symbol": symbol, "company_id": 1, "exchange": "ASX",
                               "exchange_timestamp": 0, "price": Decimal("1.5"), "volume": 2,
                               "qualifiers": 0, "venue": "X", "buyer_id": None,
                               "ingestion_timestamp": 0, "sequence_number": None}])
    for symbol in "ABCDE":
        assert _decoder("v1").decode(one(symbol)).column("symbol").to_pylist() == [symbol]


def test_a_block_duckdb_misreads_is_decoded_one_by_one_and_counted() -> None:
    """DuckDB's reader cuts a map key at a NUL (legal in Avro); the round-trip check sees
    it and the block is decoded with fastavro instead."""
    record = {"message_id": "m", "trade_id": "t", "symbol": "S", "exchange": "ASX",
              "asset_class": "equities", "timestamp": 0, "price": Decimal("1.5"),
              "quantity": Decimal("2"), "currency": "USD", "side": "BUY",
              "trade_conditions": [], "source_sequence": None, "ingestion_timestamp": 0,
              "platform_sequence": None, "vendor_data": {"a\x00b": "c"}}
    decoder = AvroDecoder("v2")
    try:
        values = _values("v2", [record, {**record, "vendor_data": {"k": "v"}}])
        got = decoder.decode(values)
        assert decoder.fallbacks == 1
        assert got.equals(_one_by_one("v2", values))
        assert got.column("vendor_data").to_pylist()[0] == [("a\x00b", "c")]
        decoder.decode(values[1:])
        assert decoder.fallbacks == 1  # a block DuckDB reads right is not decoded twice
    finally:
        decoder.close()
