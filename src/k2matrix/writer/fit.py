"""Whether the rows given to a writer fit the schema it stores them in, and which value does
not: the written rows in a writer's storage form (:func:`stored_form`) and the first value
that does not convert to its column's storage type (:func:`first_unfit`), named in a
:class:`~k2matrix.errors.VerificationError`.

A writer declares its storage schema with the optional capability ``storage_schema(schema)``
(:mod:`k2matrix.writer.protocol`): the Arrow types it stores each trade column as. The K2
platform's writer once converted a ``decimal(18, 8)`` column to ``decimal128(18, 6)`` against
its own ``(18, 8)`` schema; pyarrow refused with "Rescaling Decimal value would cause data
loss" and nothing said which column or value. Here that reads: ``column 'price' = Decimal(
'1234.56789012') (row 0) does not fit decimal128(18, 6) of the writer's storage schema
(Rescaling Decimal value would cause data loss); its table stores price as
decimal128(18, 8)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any, TypeAlias

import pyarrow as pa

from k2matrix.errors import VerificationError

Given: TypeAlias = pa.Table | Sequence[Mapping[str, Any]]  # what a writer was given
_CONVERSION = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError,
               TypeError, OverflowError)


@dataclass(frozen=True)
class Unfit:
    """The first value of ``column`` (at ``row``) that does not convert to ``target``."""

    column: str
    row: int
    value: Any
    target: pa.DataType
    reason: str

    def describe(self, where: str = "the writer's storage schema") -> str:
        return (f"column {self.column!r} = {self.value!r} (row {self.row}) does not fit "
                f"{self.target} of {where} ({self.reason})")


def _values(given: Given, name: str) -> tuple[pa.ChunkedArray | None, list[Any] | None]:
    if isinstance(given, pa.Table):
        return (given.column(name) if name in given.column_names else None), None
    return None, [record.get(name) for record in given]


def _first_bad(values: Sequence[Any], target: pa.DataType) -> tuple[int, str] | None:
    for row, value in enumerate(values):
        try:
            pa.array([value], type=target)
        except _CONVERSION as exc:
            return row, str(exc).splitlines()[0]
    return None


def first_unfit(given: Given, schema: pa.Schema) -> Unfit | None:
    """The first column of ``schema`` (in its order) with a given value that does not
    convert to its type, and that value; None when every value fits. Columns ``given`` lacks
    are left out (a writer may store more than it is given)."""
    if len(given) == 0:
        return None
    for target in schema:
        column, records = _values(given, target.name)
        if column is not None:
            try:
                column.cast(target.type, safe=True)
                continue
            except _CONVERSION:
                records = column.to_pylist()
        elif records is None or all(value is None for value in records):
            continue
        else:
            try:
                pa.array(records, type=target.type)
                continue
            except _CONVERSION:
                pass
        found = _first_bad(records, target.type)
        if found is not None:
            row, reason = found
            return Unfit(target.name, row, records[row], target.type, reason)
    return None


def stored_form(data: pa.Table, schema: pa.Schema) -> pa.Table:
    """``data`` with each column ``schema`` also has cast to its storage type (safely: a
    value that does not fit is a :class:`VerificationError` naming the column and value)."""
    arrays = []
    for name, column in zip(data.column_names, data.columns, strict=True):
        index = schema.get_field_index(name)
        if index < 0 or column.type == schema.field(index).type:
            arrays.append(column)
            continue
        try:
            arrays.append(column.cast(schema.field(index).type, safe=True))
        except _CONVERSION:
            unfit = first_unfit(data.select([name]), pa.schema([schema.field(index)]))
            raise VerificationError("the rows written do not fit the writer's storage schema: "
                                    + (unfit.describe() if unfit else name)) from None
    return pa.Table.from_arrays(arrays, names=data.column_names)


def type_mismatch(stored: pa.Schema, table: pa.Schema) -> str | None:
    """The first column the writer's storage schema and its table's schema type
    differently (``"price: the writer stores decimal128(18, 6), its table decimal128(18,
    8)"``); None when they agree on every shared column."""
    for f in stored:
        index = table.get_field_index(f.name)
        if index >= 0 and not _same(f.type, table.field(index).type):
            return (f"column {f.name!r}: the writer stores {f.type}, its table "
                    f"{table.field(index).type}")
    return None


def _same(a: pa.DataType, b: pa.DataType) -> bool:
    """Equal up to the string/list widths and the timestamp zone's spelling."""
    def plain(t: pa.DataType) -> str:
        text = str(t).replace("large_", "").replace("tz=+00:00", "tz=UTC")
        return text.replace("element: ", "item: ").replace(" not null", "")
    return plain(a) == plain(b)
