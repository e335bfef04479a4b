"""The content checksum: blind to row order and chunking, additive, and changed by any one
value in any column."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table
from k2matrix.writer.checksum import Checksum, table_checksum
from k2matrix.writer.convert import records_to_table


def _large(schema: pa.Schema) -> pa.Schema:
    def widen(t: pa.DataType) -> pa.DataType:
        if pa.types.is_string(t):
            return pa.large_string()
        if pa.types.is_list(t):
            return pa.large_list(pa.field("element", pa.large_string(), nullable=False))
        return t

    return pa.schema([pa.field(f.name, widen(f.type), f.nullable) for f in schema])


@pytest.mark.parametrize("schema", ["v1", "v2"])
def test_order_chunking_and_large_types_do_not_change_it(schema: str) -> None:
    table = generate_table(WorkloadSpec(schema, 3000, 5, null_ratio=0.2))
    expected = table_checksum(table)
    shuffled = table.take(pa.array(np.random.default_rng(0).permutation(3000)))
    chunked = pa.concat_tables([shuffled.slice(0, 1000), shuffled.slice(1000)])
    assert table_checksum(shuffled) == expected
    assert table_checksum(chunked) == expected
    assert table_checksum(chunked.cast(_large(table.schema))) == expected
    assert table_checksum(table.slice(0, 1234)) + table_checksum(table.slice(1234)) == expected
    assert expected.rows == 3000


@pytest.mark.parametrize("schema", ["v1", "v2"])
def test_any_one_changed_value_changes_it(schema: str) -> None:
    records = generate_records(WorkloadSpec(schema, 50, 9))
    base = table_checksum(records_to_table(records, schema))
    other = generate_records(WorkloadSpec(schema, 50, 10))
    changed = 0
    for field in records[0]:
        for row in range(50):
            if records[row][field] != other[row][field]:
                edited = [dict(r) for r in records]
                edited[row][field] = other[row][field]
                assert table_checksum(records_to_table(edited, schema)) != base, field
                changed += 1
                break
    assert changed >= len(records[0]) - 2  # every column that the other seed varies


def test_nulls_empties_and_list_order_are_told_apart() -> None:
    records = generate_records(WorkloadSpec("v2", 2, 1))
    variants = []
    cases: list[tuple[list[str], dict[str, str] | None, int | None]] = [
        ([], None, None), ([], {}, None), (["F", "T"], None, None), (["T", "F"], None, None),
        ([], None, 0)]
    for conditions, vendor, seq in cases:
        edited = [dict(r) for r in records]
        edited[0].update(trade_conditions=conditions, vendor_data=vendor, source_sequence=seq)
        variants.append(table_checksum(records_to_table(edited, "v2")))
    assert len(set(variants)) == len(variants)


def test_map_entries_count_as_a_set() -> None:
    records = generate_records(WorkloadSpec("v2", 1, 1))
    a, b = dict(records[0]), dict(records[0])
    a["vendor_data"] = {"feed": "primary", "region": "apac"}
    b["vendor_data"] = {"region": "apac", "feed": "primary"}
    assert table_checksum(records_to_table([a], "v2")) == table_checksum(
        records_to_table([b], "v2"))


def test_empty_tables_and_sums() -> None:
    empty = table_checksum(generate_table(WorkloadSpec("v2", 0, 1)))
    assert empty == Checksum()
    one = table_checksum(generate_table(WorkloadSpec("v2", 10, 1)))
    assert one + empty == one
    assert str(one).startswith("10 rows, digest ")
