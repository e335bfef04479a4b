"""The schemas: their Avro, Arrow and Iceberg forms agree, and records survive
Avro -> Python -> Arrow -> Iceberg unchanged (decimals exact, timestamps at their unit).

The records come from the Hypothesis strategies and from the bulk generator.
"""

from __future__ import annotations

import io
from collections.abc import Iterator
from datetime import datetime
from decimal import Decimal
from pathlib import Path
from typing import Any

import fastavro
import pyarrow as pa
import pytest
from fastavro.validation import validate
from hypothesis import HealthCheck, given, settings
from pyiceberg.catalog.sql import SqlCatalog
from pyiceberg.io.pyarrow import _check_pyarrow_schema_compatible, schema_to_pyarrow
from pyiceberg.table import Table

from k2matrix import schemas
from k2matrix.workload.edge_values import edge_case_rows
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table
from k2matrix.workload.strategies import record_batches, records
from k2matrix.writer.schema import iceberg_schema

ALL = ("v1", "v2", "quote_v2")
PROPERTY = settings(max_examples=60, deadline=None)
APPEND = settings(max_examples=8, deadline=None,
                  suppress_health_check=[HealthCheck.function_scoped_fixture])


# ---------------------------------------------------------------------------- helpers


def _exact(value: Any) -> Any:
    """A form in which equal means identical: a decimal's scale and a timestamp's offset
    count, as do the types of ints and strings."""
    if isinstance(value, Decimal):
        return ("decimal", value.as_tuple())
    if isinstance(value, datetime):
        return ("datetime", value.isoformat(), value.utcoffset())
    if isinstance(value, dict):
        return ("map", sorted((k, _exact(v)) for k, v in value.items()))
    if isinstance(value, list):
        return ("list", [_exact(v) for v in value])
    return (type(value).__name__, value)


def assert_same_records(got: list[dict[str, Any]], want: list[dict[str, Any]]) -> None:
    assert len(got) == len(want)
    for i, (g, w) in enumerate(zip(got, want, strict=True)):
        assert list(g) == list(w), f"row {i}: fields differ"
        for name in w:
            got, want_ = g[name], w[name]
            assert _exact(got) == _exact(want_), f"row {i}, {name}: {got!r} != {want_!r}"


def avro_round_trip(record: dict[str, Any], name: str) -> dict[str, Any]:
    parsed = fastavro.parse_schema(schemas.avro_schema(name))
    buf = io.BytesIO()
    fastavro.schemaless_writer(buf, parsed, record)
    buf.seek(0)
    out: dict[str, Any] = fastavro.schemaless_reader(buf, parsed, parsed)  # type: ignore[assignment]
    return out


def as_iceberg_arrow(table: pa.Table, name: str) -> pa.Table:
    """The table in the Arrow form pyiceberg derives from the Iceberg schema (field ids,
    large strings, microsecond timestamps): a lossless cast or an error."""
    return table.cast(schema_to_pyarrow(iceberg_schema(name)), safe=True)


def assert_survives_pipeline(rows: list[dict[str, Any]], name: str) -> None:
    """Avro -> Python -> Arrow -> Iceberg's Arrow form -> Python gives the rows back."""
    parsed = fastavro.parse_schema(schemas.avro_schema(name))
    decoded = []
    for row in rows:
        assert validate(row, parsed, raise_errors=True)
        decoded.append(avro_round_trip(row, name))
    assert_same_records(decoded, rows)
    table = schemas.records_to_arrow(decoded, name)
    assert table.schema.equals(schemas.arrow_schema(name))
    _check_pyarrow_schema_compatible(iceberg_schema(name), table.schema)
    assert_same_records(schemas.arrow_to_records(table), rows)
    assert_same_records(schemas.arrow_to_records(as_iceberg_arrow(table, name)), rows)


# ---------------------------------------------------------------------------- schema forms


@pytest.mark.parametrize("name", ALL)
def test_avro_schema_parses_and_is_a_fresh_copy(name: str) -> None:
    first = schemas.avro_schema(name)
    fastavro.parse_schema(first)
    first["fields"].clear()
    assert schemas.avro_schema(name)["fields"], "avro_schema must return a copy"


def _avro_types(name: str) -> dict[str, Any]:
    return {f["name"]: f["type"] for f in schemas.avro_schema(name)["fields"]}


def test_v1_avro_types_follow_the_k2_definition() -> None:
    t = _avro_types("v1")
    assert t["exchange_timestamp"] == {"type": "long", "logicalType": "timestamp-millis"}
    assert t["ingestion_timestamp"] == {"type": "long", "logicalType": "timestamp-millis"}
    assert t["price"] == {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 6}
    assert (t["company_id"], t["volume"], t["qualifiers"]) == ("int", "long", "int")
    assert t["buyer_id"] == ["null", "string"]
    assert t["sequence_number"] == ["null", "long"]


def test_v2_avro_types_follow_the_k2_definition() -> None:
    t = _avro_types("v2")
    assert t["timestamp"] == {"type": "long", "logicalType": "timestamp-micros"}
    assert t["ingestion_timestamp"] == {"type": "long", "logicalType": "timestamp-micros"}
    for dec in ("price", "quantity"):
        assert t[dec] == {"type": "bytes", "logicalType": "decimal", "precision": 18, "scale": 8}
    assert t["asset_class"]["symbols"] == ["equities", "crypto", "futures", "options"]
    assert t["side"]["symbols"] == ["BUY", "SELL", "SELL_SHORT", "UNKNOWN"]
    assert t["trade_conditions"] == {"type": "array", "items": "string"}
    assert t["vendor_data"] == ["null", {"type": "map", "values": "string"}]
    for nullable in ("source_sequence", "platform_sequence"):
        assert t[nullable] == ["null", "long"]


def test_nullable_avro_fields_default_to_null() -> None:
    for name in ALL:
        for f in schemas.avro_schema(name)["fields"]:
            if isinstance(f["type"], list):
                assert f["type"][0] == "null" and f.get("default", "absent") is None, f


@pytest.mark.parametrize("name", ALL)
def test_arrow_nullability_matches_the_definition(name: str) -> None:
    arrow = schemas.arrow_schema(name)
    assert arrow.names == schemas.get_schema(name).names
    for f in schemas.get_schema(name).fields:
        assert arrow.field(f.name).nullable == f.nullable, f.name


@pytest.mark.parametrize("name", ALL)
def test_arrow_schema_is_what_pyiceberg_expects(name: str) -> None:
    iceberg = iceberg_schema(name)
    _check_pyarrow_schema_compatible(iceberg, schemas.arrow_schema(name))
    ids = [f.field_id for f in iceberg.fields]
    assert ids == list(range(1, len(ids) + 1))
    all_ids = list(iceberg._lazy_id_to_field)
    assert len(all_ids) == len(set(all_ids))
    for f in schemas.get_schema(name).fields:
        assert iceberg.find_field(f.name).required == (not f.nullable), f.name


def test_unknown_schema_names_the_known_ones() -> None:
    with pytest.raises(KeyError, match="known schemas are v1, v2, quote_v2"):
        schemas.get_schema("v3")


# ---------------------------------------------------------------------------- properties


@pytest.mark.parametrize("name", ALL)
def test_drawn_records_survive_avro_arrow_iceberg(name: str) -> None:
    @PROPERTY
    @given(records(name))
    def check(record: dict[str, Any]) -> None:
        assert_survives_pipeline([record], name)

    check()


@pytest.mark.parametrize("name", ALL)
def test_drawn_batches_survive_avro_arrow_iceberg(name: str) -> None:
    @settings(max_examples=25, deadline=None)
    @given(record_batches(name, max_size=8))
    def check(batch: list[dict[str, Any]]) -> None:
        assert_survives_pipeline(batch, name)

    check()


@pytest.fixture(scope="module")
def catalog(tmp_path_factory: pytest.TempPathFactory) -> SqlCatalog:
    where: Path = tmp_path_factory.mktemp("warehouse")
    cat = SqlCatalog("k2test", uri=f"sqlite:///{where}/catalog.db", warehouse=f"file://{where}")
    cat.create_namespace("k2")
    return cat


@pytest.fixture(scope="module")
def tables(catalog: SqlCatalog) -> Iterator[dict[str, Table]]:
    yield {name: catalog.create_table(f"k2.{name}", schema=iceberg_schema(name))
           for name in ALL}


@pytest.mark.filterwarnings("ignore:Delete operation did not match any records")
@pytest.mark.parametrize("name", ALL)
def test_records_appended_to_iceberg_read_back_unchanged(name: str, tables: dict[str, Table]
                                                         ) -> None:
    table = tables[name]

    @APPEND
    @given(record_batches(name, max_size=10))
    def check(batch: list[dict[str, Any]]) -> None:
        table.overwrite(schemas.records_to_arrow(batch, name))
        back = table.scan().to_arrow()
        assert back.num_rows == len(batch)
        assert_same_records(schemas.arrow_to_records(back), batch)

    check()


# ---------------------------------------------------------------------------- the generator


@pytest.mark.parametrize("name", ALL)
@pytest.mark.parametrize("seed", [0, 7, 2**32 - 1])
def test_generated_rows_survive_avro_arrow_iceberg(name: str, seed: int) -> None:
    spec = WorkloadSpec(schema=name, rows=300, seed=seed, null_ratio=0.3, disorder=0.2)
    rows = generate_records(spec)
    assert len(rows) == 300
    assert_survives_pipeline(rows[::7], name)
    table = generate_table(spec)
    assert table.schema.equals(schemas.arrow_schema(name))
    as_iceberg_arrow(table, name)


@pytest.mark.parametrize("name", ALL)
def test_seeded_edge_rows_survive_avro_arrow_iceberg(name: str) -> None:
    assert_survives_pipeline(edge_case_rows(name, 200, seed=9), name)


@pytest.mark.parametrize("name", ["v1", "v2"])
def test_generated_rows_with_edge_cases_survive(name: str) -> None:
    spec = WorkloadSpec(schema=name, rows=200, seed=3, edge_case_fraction=0.1)
    assert_survives_pipeline(generate_records(spec), name)


@pytest.mark.parametrize("name", ["v1", "v2"])
def test_generated_rows_append_to_iceberg(name: str, catalog: SqlCatalog) -> None:
    spec = WorkloadSpec(schema=name, rows=500, seed=11, null_ratio=0.2)
    table = catalog.create_table(f"k2.generated_{name}", schema=iceberg_schema(name))
    table.append(generate_table(spec))
    back = table.scan().to_arrow()
    assert_same_records(schemas.arrow_to_records(back), generate_records(spec))
