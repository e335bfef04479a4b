"""Dict records to Arrow: equal to the generated tables, and every bad record refused with
its row index, field and value."""

from __future__ import annotations

from datetime import UTC, datetime
from decimal import Decimal
from typing import Any

import pytest

from k2matrix.errors import WorkloadError
from k2matrix.schemas import arrow_schema
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table
from k2matrix.writer.convert import records_to_table, records_to_table_naive


@pytest.mark.parametrize("schema", ["v1", "v2"])
@pytest.mark.parametrize("seed", [0, 7, 2**31])
def test_records_convert_to_the_generated_table(schema: str, seed: int) -> None:
    spec = WorkloadSpec(schema, 500, seed, null_ratio=0.3)
    records = generate_records(spec)
    table = records_to_table(records, schema)
    assert table.equals(generate_table(spec))
    assert table.equals(records_to_table_naive(records, schema))


@pytest.mark.parametrize("schema", ["v1", "v2"])
def test_edge_case_records_convert(schema: str) -> None:
    spec = WorkloadSpec(schema, 60, 3, edge_case_fraction=0.5)
    assert records_to_table(generate_records(spec), schema).equals(generate_table(spec))


def test_no_records_give_an_empty_table_of_the_schema() -> None:
    table = records_to_table([], "v2")
    assert table.num_rows == 0
    assert table.schema.equals(arrow_schema("v2"))


def test_omitted_nullable_fields_read_as_null() -> None:
    records = generate_records(WorkloadSpec("v2", 5, 1))
    for r in records:
        del r["vendor_data"], r["platform_sequence"]
    table = records_to_table(records, "v2")
    assert table.column("vendor_data").null_count == 5
    assert table.column("platform_sequence").null_count == 5


def _v2(row: int, **change: Any) -> list[dict[str, Any]]:
    records: list[dict[str, Any]] = generate_records(WorkloadSpec("v2", 6, 11))
    for key, value in change.items():
        if value is _DROP:
            del records[row][key]
        else:
            records[row][key] = value
    return records


_DROP = object()

BAD_V2 = [
    # (row, field, change, what the message must say)
    (3, "symbol", _DROP, r"record 3: required field 'symbol' is missing"),
    (0, "price", None, r"record 0: field 'price' = None, but price is required"),
    (4, "price", Decimal("12345678901.5"), r"record 4: field 'price' = Decimal\('12345678901.5'\)"),
    (2, "quantity", Decimal("1.123456789"),
     r"record 2: field 'quantity' = Decimal\('1.123456789'\)"),
    (5, "price", 1.5, r"record 5: field 'price' = 1.5 does not fit decimal128\(18, 8\)"),
    (1, "source_sequence", "seven", r"record 1: field 'source_sequence' = 'seven'"),
    (2, "timestamp", "2026-01-05", r"record 2: field 'timestamp' = '2026-01-05'"),
    (3, "trade_conditions", "F", r"record 3: field 'trade_conditions' = 'F'"),
    (1, "price", Decimal("NaN"), r"record 1: field 'price' = Decimal\('NaN'\)"),
]


@pytest.mark.parametrize(("row", "field", "value", "message"), BAD_V2,
                         ids=[f"{f}-{i}" for i, (_, f, _v, _m) in enumerate(BAD_V2)])
def test_bad_v2_records_are_refused_naming_row_field_value(row: int, field: str, value: Any,
                                                          message: str) -> None:
    with pytest.raises(WorkloadError, match=message):
        records_to_table(_v2(row, **{field: value}), "v2")


def test_v1_decimal_scale_is_six() -> None:
    records = generate_records(WorkloadSpec("v1", 3, 2))
    records[1]["price"] = Decimal("1.1234567")
    with pytest.raises(WorkloadError, match=r"record 1: field 'price'.*decimal128\(18, 6\)"):
        records_to_table(records, "v1")
    records[1]["price"] = Decimal("999999999999.999999")
    assert records_to_table(records, "v1").column("price")[1].as_py() == records[1]["price"]


def test_a_record_that_is_not_a_dict_is_refused() -> None:
    records: list[Any] = generate_records(WorkloadSpec("v1", 3, 2))
    records[2] = ("AAPL", 1)
    with pytest.raises(WorkloadError, match="record 2: expected a dict record, got tuple"):
        records_to_table(records, "v1")


def test_naive_and_aware_utc_datetimes_agree() -> None:
    records = generate_records(WorkloadSpec("v1", 2, 2))
    aware = datetime(2026, 1, 5, 14, 30, 0, 123000, tzinfo=UTC)
    records[0]["exchange_timestamp"] = aware
    records[1]["exchange_timestamp"] = aware.replace(tzinfo=None)
    column = records_to_table(records, "v1").column("exchange_timestamp")
    assert column[0] == column[1]
