"""The content checksum: blind to row order and chunking, additive, and changed by any one
value in any column."""

from __future__ import annotations

from decimal import Decimal

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


def _column(values: list[object], typ: pa.DataType) -> pa.Table:
    return pa.table({"c": pa.array(values, type=typ)})


@pytest.mark.parametrize(("values", "typ", "other"), [
    ([True, False, None, True], pa.bool_(), [True, True, None, True]),
    ([1.5, -0.0, None, float("nan")], pa.float64(), [1.5, 0.25, None, float("nan")]),
    ([b"\x00\xff", b"", None], pa.binary(), [b"\x00\xfe", b"", None]),
    ([[1, 2], [], None], pa.list_(pa.int64()), [[2, 1], [], None]),
    ([[("a", "1")], None], pa.map_(pa.string(), pa.string()), [[("a", "2")], None]),
    ([{"x": 1, "y": "a"}, None], pa.struct([("x", pa.int32()), ("y", pa.string())]),
     [{"x": 1, "y": "b"}, None]),
    ([0, 86_400_000, None], pa.timestamp("ms", tz="UTC"), [0, 86_400_001, None]),
    ([0, 19_000], pa.date32(), [0, 19_001]),
])
def test_every_arrow_type_of_a_real_table_is_covered(values: list[object], typ: pa.DataType,
                                                     other: list[object]) -> None:
    table = _column(values, typ)
    checksum = table_checksum(table)
    assert checksum == table_checksum(table.take(pa.array(list(range(len(values)))[::-1])))
    assert checksum != table_checksum(_column(other, typ))
    assert checksum == table_checksum(table.slice(0, 1)) + table_checksum(table.slice(1))


def test_values_hash_alike_whatever_type_holds_them() -> None:
    """What a writer's table may give back for the same values: another timestamp unit or
    zone, another decimal scale, a dictionary, -0.0, another float width."""
    ts = [0, 1_700_000_000_123_000]
    assert table_checksum(_column(ts, pa.timestamp("us", tz="UTC"))) == table_checksum(
        _column([t // 1000 for t in ts], pa.timestamp("ms", tz="+00:00")))
    assert table_checksum(_column(ts, pa.timestamp("us"))) == table_checksum(
        _column([t * 1000 for t in ts], pa.timestamp("ns", tz="UTC")))
    assert table_checksum(_column([t * 1000 + 1 for t in ts], pa.timestamp("ns"))) != (
        table_checksum(_column(ts, pa.timestamp("us"))))  # a lost nanosecond shows
    dec = [Decimal("1.5"), Decimal("-0.000001")]
    assert table_checksum(_column(dec, pa.decimal128(18, 6))) == table_checksum(
        _column([Decimal("1.50000000"), Decimal("-0.00000100")], pa.decimal128(18, 8)))
    strings = pa.array(["a", "b", "a"]).dictionary_encode()
    assert table_checksum(pa.table({"c": strings})) == table_checksum(
        _column(["a", "b", "a"], pa.string()))
    assert table_checksum(_column([-0.0, 2.5], pa.float64())) == table_checksum(
        _column([0.0, 2.5], pa.float32()))


def test_each_column_keeps_its_own_sum() -> None:
    table = generate_table(WorkloadSpec("v2", 100, 3))
    checksum = table_checksum(table)
    assert [name for name, _ in checksum.columns] == table.column_names
    half = table_checksum(table.slice(0, 40)) + table_checksum(table.slice(40))
    assert half.columns == checksum.columns and len(half.sources) == 2
    changed = table.set_column(1, table.schema.field(1), table.column(1).take(
        pa.array([1, 0, *range(2, 100)])))
    assert dict(table_checksum(changed).columns) == dict(checksum.columns)  # a swap in one
