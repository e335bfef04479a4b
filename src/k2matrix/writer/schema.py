"""The Iceberg form of the K2 record schemas (derived from :mod:`k2matrix.schemas`)."""

from __future__ import annotations

from typing import TYPE_CHECKING

from k2matrix.schemas import get_schema

if TYPE_CHECKING:
    from pyiceberg.schema import Schema as IcebergSchema


def iceberg_schema(name: str) -> IcebergSchema:
    """The Iceberg schema of ``name``: top-level field ids 1..N, nested ids after them.

    Millisecond timestamps become Iceberg ``timestamptz`` (microseconds), which holds every
    millisecond value exactly.
    """
    from pyiceberg.schema import Schema
    from pyiceberg.types import (
        DecimalType,
        IcebergType,
        IntegerType,
        ListType,
        LongType,
        MapType,
        NestedField,
        StringType,
        TimestamptzType,
    )

    schema = get_schema(name)
    next_id = len(schema.fields) + 1
    fields = []
    for field_id, f in enumerate(schema.fields, start=1):
        itype: IcebergType
        if f.kind in ("string", "enum"):
            itype = StringType()
        elif f.kind == "int":
            itype = IntegerType()
        elif f.kind == "long":
            itype = LongType()
        elif f.kind == "decimal":
            itype = DecimalType(f.precision, f.scale)
        elif f.kind in ("timestamp_ms", "timestamp_us"):
            itype = TimestamptzType()
        elif f.kind == "strings":
            itype = ListType(element_id=next_id, element_type=StringType(), element_required=True)
            next_id += 1
        elif f.kind == "map":
            itype = MapType(
                key_id=next_id,
                key_type=StringType(),
                value_id=next_id + 1,
                value_type=StringType(),
                value_required=True,
            )
            next_id += 2
        else:  # pragma: no cover
            raise AssertionError(f.kind)
        fields.append(
            NestedField(field_id=field_id, name=f.name, field_type=itype, required=not f.nullable)
        )
    return Schema(*fields)
