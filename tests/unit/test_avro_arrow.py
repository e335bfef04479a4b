"""The vectorized Arrow encoder: one value per row, bytes identical to fastavro's
``schemaless_writer`` (slices, nulls, empty and nested collections included)."""

from __future__ import annotations

import io
from typing import Any

import fastavro
import numpy as np
import pyarrow as pa
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from k2matrix.avro.arrow import ArrowEncoder, assemble, varints
from k2matrix.avro.primitives import confluent_header, encode_long
from k2matrix.errors import WorkloadError
from k2matrix.schemas import SCHEMAS, arrow_to_records, avro_schema, records_to_arrow
from k2matrix.workload import strategies as ks
from k2matrix.workload.generate import WorkloadSpec, generate_table

HEADER = confluent_header(3)


def fastavro_values(schema: str, records: list[dict[str, Any]]) -> list[bytes]:
    parsed = fastavro.parse_schema(avro_schema(schema))
    out = []
    for record in records:
        buf = io.BytesIO()
        fastavro.schemaless_writer(buf, parsed, record)
        out.append(HEADER + buf.getvalue())
    return out


@pytest.mark.parametrize("schema", sorted(SCHEMAS))
@settings(max_examples=60, deadline=None)
@given(data=st.data())
def test_drawn_batches_equal_fastavro(schema: str, data: st.DataObject) -> None:
    batch = data.draw(ks.record_batches(schema, max_size=12))
    batch.append(data.draw(ks.edge_case_records(schema)))
    table = records_to_arrow(batch, schema)
    assert ArrowEncoder(schema, HEADER).encode_table(table) == fastavro_values(schema, batch)


@pytest.mark.parametrize("schema", ["v1", "v2", "quote_v2"])
@pytest.mark.parametrize("null_ratio", [0.0, 0.4, 1.0])
def test_generated_tables_and_slices_equal_fastavro(schema: str, null_ratio: float) -> None:
    table = generate_table(WorkloadSpec(schema=schema, rows=700, seed=5, null_ratio=null_ratio))
    encoder = ArrowEncoder(schema, HEADER)
    expected = fastavro_values(schema, arrow_to_records(table))
    assert encoder.encode_table(table) == expected
    assert encoder.encode_table(table.slice(123, 301)) == expected[123:424]
    chunked = pa.concat_tables([table.slice(0, 200), table.slice(200)])
    assert encoder.encode_table(chunked) == expected


@given(st.lists(st.integers(-(2**63), 2**63 - 1), max_size=50))
def test_vectorized_varints_equal_scalar_ones(values: list[int]) -> None:
    lengths, data = varints(np.array(values, dtype=np.int64))
    assert bytes(data) == b"".join(encode_long(v) for v in values)
    assert lengths.tolist() == [len(encode_long(v)) for v in values]


def test_assemble_interleaves_pieces_row_by_row() -> None:
    a = (np.array([1, 0, 2]), np.frombuffer(b"abc", dtype=np.uint8))
    b = (np.array([2, 1, 0]), np.frombuffer(b"xyz", dtype=np.uint8))
    lengths, data = assemble([a, b], 3)
    assert lengths.tolist() == [3, 1, 2]
    assert bytes(data) == b"axy" + b"z" + b"bc"


def test_empty_table_gives_no_values() -> None:
    empty = pa.Table.from_pylist([], schema=records_to_arrow([], "v2").schema)
    assert ArrowEncoder("v2").encode_table(empty) == []


def test_unknown_enum_symbol_is_named_with_its_row() -> None:
    table = generate_table(WorkloadSpec(schema="v2", rows=10, seed=1))
    sides = table.column("side").to_pylist()
    sides[6] = "HOLD"
    table = table.set_column(table.schema.get_field_index("side"),
                             pa.field("side", pa.string(), nullable=False), pa.array(sides))
    with pytest.raises(WorkloadError, match=r"record 6: field 'side' = 'HOLD'"):
        ArrowEncoder("v2").encode_table(table)


def test_null_in_required_column_is_named_with_its_row() -> None:
    table = generate_table(WorkloadSpec(schema="v2", rows=10, seed=1))
    symbols = table.column("symbol").to_pylist()
    symbols[2] = None
    index = table.schema.get_field_index("symbol")
    table = table.set_column(index, "symbol", pa.array(symbols, pa.string()))
    with pytest.raises(WorkloadError, match=r"record 2: field 'symbol' = None"):
        ArrowEncoder("v2").encode_table(table)


def test_missing_column_is_named() -> None:
    table = generate_table(WorkloadSpec(schema="v2", rows=3, seed=1)).drop_columns(["currency"])
    with pytest.raises(WorkloadError, match="'currency'"):
        ArrowEncoder("v2").encode_table(table)


def test_compatible_column_types_are_cast() -> None:
    table = generate_table(WorkloadSpec(schema="v1", rows=20, seed=2))
    index = table.schema.get_field_index("volume")
    loose = table.set_column(index, "volume", table.column("volume").cast(pa.int32()))
    encoder = ArrowEncoder("v1", HEADER)
    assert encoder.encode_table(loose) == encoder.encode_table(table)
