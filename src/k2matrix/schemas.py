"""The K2 record schemas: one definition each, from which the Avro and Arrow forms are
derived here and the Iceberg form in :mod:`k2matrix.writer.schema`.

Schemas: ``v1`` (the legacy trade), ``v2`` (the multi-asset trade) and ``quote_v2`` (a V2
quote, joined with trades in query workloads). Python records (the K2 dict API) use
``datetime`` in UTC for timestamps, ``Decimal`` for decimals, ``list`` for arrays and
``dict`` (or ``None``) for maps.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import cache
from typing import Any, Literal

import pyarrow as pa

Kind = Literal[
    "string", "int", "long", "decimal", "timestamp_ms", "timestamp_us", "enum", "strings", "map"
]

NAMESPACE = "com.k2.marketdata"


@dataclass(frozen=True)
class Field:
    """One field of a record schema."""

    name: str
    kind: Kind
    nullable: bool = False
    precision: int = 0
    scale: int = 0
    symbols: tuple[str, ...] = ()
    doc: str = ""


@dataclass(frozen=True)
class RecordSchema:
    """A named record schema: the single source of truth for every derived form."""

    name: str
    record_name: str
    fields: tuple[Field, ...]
    doc: str = ""

    def field(self, name: str) -> Field:
        for f in self.fields:
            if f.name == name:
                return f
        raise KeyError(name)

    @property
    def names(self) -> list[str]:
        return [f.name for f in self.fields]


def _dec(name: str, precision: int, scale: int, doc: str = "") -> Field:
    return Field(name, "decimal", precision=precision, scale=scale, doc=doc)


ASSET_CLASSES = ("equities", "crypto", "futures", "options")
SIDES = ("BUY", "SELL", "SELL_SHORT", "UNKNOWN")

TRADE_V1 = RecordSchema(
    name="v1",
    record_name="Trade",
    doc="K2 legacy (V1) equity trade.",
    fields=(
        Field("symbol", "string"),
        Field("company_id", "int"),
        Field("exchange", "string"),
        Field("exchange_timestamp", "timestamp_ms"),
        _dec("price", 18, 6),
        Field("volume", "long"),
        Field("qualifiers", "int"),
        Field("venue", "string"),
        Field("buyer_id", "string", nullable=True),
        Field("ingestion_timestamp", "timestamp_ms"),
        Field("sequence_number", "long", nullable=True),
    ),
)

TRADE_V2 = RecordSchema(
    name="v2",
    record_name="TradeV2",
    doc="K2 multi-asset (V2) trade.",
    fields=(
        Field("message_id", "string"),
        Field("trade_id", "string"),
        Field("symbol", "string"),
        Field("exchange", "string"),
        Field("asset_class", "enum", symbols=ASSET_CLASSES),
        Field("timestamp", "timestamp_us"),
        _dec("price", 18, 8),
        _dec("quantity", 18, 8),
        Field("currency", "string"),
        Field("side", "enum", symbols=SIDES),
        Field("trade_conditions", "strings"),
        Field("source_sequence", "long", nullable=True),
        Field("ingestion_timestamp", "timestamp_us"),
        Field("platform_sequence", "long", nullable=True),
        Field("vendor_data", "map", nullable=True),
    ),
)

QUOTE_V2 = RecordSchema(
    name="quote_v2",
    record_name="QuoteV2",
    doc="K2 multi-asset (V2) top-of-book quote.",
    fields=(
        Field("message_id", "string"),
        Field("symbol", "string"),
        Field("exchange", "string"),
        Field("asset_class", "enum", symbols=ASSET_CLASSES),
        Field("timestamp", "timestamp_us"),
        _dec("bid_price", 18, 8),
        _dec("bid_quantity", 18, 8),
        _dec("ask_price", 18, 8),
        _dec("ask_quantity", 18, 8),
        Field("currency", "string"),
        Field("ingestion_timestamp", "timestamp_us"),
    ),
)

SCHEMAS: dict[str, RecordSchema] = {s.name: s for s in (TRADE_V1, TRADE_V2, QUOTE_V2)}
TRADE_SCHEMAS = ("v1", "v2")


def get_schema(name: str) -> RecordSchema:
    """The schema called ``name`` (``v1``, ``v2`` or ``quote_v2``)."""
    try:
        return SCHEMAS[name]
    except KeyError:
        known = ", ".join(SCHEMAS)
        raise KeyError(f"unknown schema {name!r}: known schemas are {known}") from None


# ---------------------------------------------------------------------------- Avro


def _avro_type(f: Field) -> Any:
    base: Any
    if f.kind == "string":
        base = "string"
    elif f.kind == "int":
        base = "int"
    elif f.kind == "long":
        base = "long"
    elif f.kind == "decimal":
        base = {
            "type": "bytes",
            "logicalType": "decimal",
            "precision": f.precision,
            "scale": f.scale,
        }
    elif f.kind == "timestamp_ms":
        base = {"type": "long", "logicalType": "timestamp-millis"}
    elif f.kind == "timestamp_us":
        base = {"type": "long", "logicalType": "timestamp-micros"}
    elif f.kind == "enum":
        enum_name = "".join(part.capitalize() for part in f.name.split("_"))
        base = {"type": "enum", "name": enum_name, "symbols": list(f.symbols)}
    elif f.kind == "strings":
        base = {"type": "array", "items": "string"}
    elif f.kind == "map":
        base = {"type": "map", "values": "string"}
    else:  # pragma: no cover - Kind is closed
        raise AssertionError(f.kind)
    return ["null", base] if f.nullable else base


@cache
def _avro_schema_cached(name: str) -> dict[str, Any]:
    schema = get_schema(name)
    fields: list[dict[str, Any]] = []
    for f in schema.fields:
        entry: dict[str, Any] = {"name": f.name, "type": _avro_type(f)}
        if f.nullable:
            entry["default"] = None
        if f.doc:
            entry["doc"] = f.doc
        fields.append(entry)
    return {
        "type": "record",
        "name": schema.record_name,
        "namespace": NAMESPACE,
        "doc": schema.doc,
        "fields": fields,
    }


def avro_schema(name: str) -> dict[str, Any]:
    """The Avro schema (as a JSON-able dict) of ``name``. A fresh copy each call."""
    import copy

    return copy.deepcopy(_avro_schema_cached(name))


# ---------------------------------------------------------------------------- Arrow


def _arrow_type(f: Field) -> pa.DataType:
    if f.kind in ("string", "enum"):
        return pa.string()
    if f.kind == "int":
        return pa.int32()
    if f.kind == "long":
        return pa.int64()
    if f.kind == "decimal":
        return pa.decimal128(f.precision, f.scale)
    if f.kind in ("timestamp_ms", "timestamp_us"):
        # Iceberg has microsecond timestamps only (and pyiceberg's partition transforms take
        # nothing else), so the Arrow form is microseconds; millisecond fields hold values
        # truncated to the millisecond, which Avro's timestamp-millis carries exactly.
        return pa.timestamp("us", tz="UTC")
    if f.kind == "strings":
        return pa.list_(pa.field("element", pa.string(), nullable=False))
    if f.kind == "map":
        return pa.map_(pa.string(), pa.field("value", pa.string(), nullable=False))
    raise AssertionError(f.kind)  # pragma: no cover


@cache
def arrow_schema(name: str) -> pa.Schema:
    """The Arrow schema of ``name``: required fields are not nullable."""
    schema = get_schema(name)
    return pa.schema(
        [pa.field(f.name, _arrow_type(f), nullable=f.nullable) for f in schema.fields]
    )


# ---------------------------------------------------------------------------- records


def records_to_arrow(records: list[dict[str, Any]], name: str) -> pa.Table:
    """Convert K2 dict records to an Arrow table of schema ``name`` (column-wise, fast)."""
    schema = arrow_schema(name)
    columns = {f.name: [r[f.name] for r in records] for f in schema}
    return pa.Table.from_pydict(columns, schema=schema)


def arrow_to_records(table: pa.Table) -> list[dict[str, Any]]:
    """Convert an Arrow table to K2 dict records (maps become ``dict``)."""
    rows: list[dict[str, Any]] = table.to_pylist()
    map_columns = [f.name for f in table.schema if pa.types.is_map(f.type)]
    if map_columns:
        for row in rows:
            for col in map_columns:
                value = row[col]
                if value is not None:
                    row[col] = dict(value)
    return rows
