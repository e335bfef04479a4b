"""K2 dict records to Arrow, fast and checked.

The fast path pulls every field of every record with one ``itemgetter`` call per record,
transposes the rows with ``zip`` (both in C) and lets pyarrow convert each column once. Only
when that fails (a missing key, a value pyarrow rejects, a null in a required field) does a
slow path walk the rows to find the first bad one and raise :class:`WorkloadError` naming the
row index, the field and the value. Nothing is converted partially: a batch either converts
whole or raises.

A record may omit a nullable field (it reads as ``None``, as Avro's ``null`` default does);
a required field must be present and not ``None``. Decimals must fit the column's precision
and scale exactly (pyarrow refuses to round): ``Decimal("1.123456789")`` does not fit
``decimal(18, 8)``.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from operator import itemgetter
from typing import Any

import pyarrow as pa

from k2matrix.errors import WorkloadError
from k2matrix.schemas import arrow_schema


@dataclass(frozen=True)
class _Plan:
    schema: pa.Schema
    getter: Any  # itemgetter over every field name, in schema order
    names: tuple[str, ...]
    types: tuple[pa.DataType, ...]
    required: tuple[bool, ...]
    lists: tuple[int, ...]  # positions of list columns (pyarrow would split a str into chars)


@cache
def _plan(schema_name: str) -> _Plan:
    schema = arrow_schema(schema_name)
    names = tuple(schema.names)
    return _Plan(
        schema=schema,
        getter=itemgetter(*names),
        names=names,
        types=tuple(f.type for f in schema),
        required=tuple(not f.nullable for f in schema),
        lists=tuple(i for i, f in enumerate(schema) if pa.types.is_list(f.type)),
    )


def records_to_table(records: Sequence[Mapping[str, Any]], schema_name: str) -> pa.Table:
    """Convert K2 dict records to an Arrow table of ``arrow_schema(schema_name)``.

    Raises :class:`WorkloadError` naming the first bad row, field and value when a required
    field is missing or null, or a value does not convert (e.g. a decimal that does not fit).
    """
    plan = _plan(schema_name)
    if not records:
        return plan.schema.empty_table()
    try:
        columns = list(zip(*map(plan.getter, records), strict=True))
        for i in plan.lists:
            _no_strings(columns[i], plan.names[i])
        arrays = [pa.array(col, type=typ) for col, typ in zip(columns, plan.types, strict=True)]
    except (KeyError, TypeError, ValueError, pa.ArrowException, AttributeError):
        arrays = _convert_slowly(records, plan)
    for name, arr, required in zip(plan.names, arrays, plan.required, strict=True):
        if required and arr.null_count:
            row = _first_null(arr)
            raise WorkloadError(f"record {row}: field {name!r} = None, but {name} is required "
                                f"in schema {schema_name!r}; give it a value")
    return pa.Table.from_arrays(arrays, schema=plan.schema)


def _no_strings(values: Sequence[Any], name: str) -> None:
    """A list field given a string would become a list of its characters: refuse it."""
    for row, value in enumerate(values):
        if isinstance(value, str | bytes):
            raise WorkloadError(f"record {row}: field {name!r} = {value!r} is a string, but "
                                f"{name} is a list of strings; wrap it: [{value!r}]")


def _first_null(arr: pa.Array) -> int:
    mask = arr.is_null().to_numpy(zero_copy_only=False)
    return int(mask.argmax())


def _convert_slowly(records: Sequence[Mapping[str, Any]], plan: _Plan) -> list[pa.Array]:
    """Column by column, tolerating omitted nullable fields; raise at the first bad value."""
    arrays = []
    for name, typ, required in zip(plan.names, plan.types, plan.required, strict=True):
        values = []
        for row, record in enumerate(records):
            if not isinstance(record, Mapping):
                raise WorkloadError(f"record {row}: expected a dict record, got "
                                    f"{type(record).__name__} {record!r:.80}")
            if name in record:
                values.append(record[name])
            elif required:
                raise WorkloadError(f"record {row}: required field {name!r} is missing "
                                    f"(fields present: {', '.join(sorted(map(str, record)))})")
            else:
                values.append(None)
        if pa.types.is_list(typ):
            _no_strings(values, name)
        try:
            arrays.append(pa.array(values, type=typ))
        except (TypeError, ValueError, pa.ArrowException):
            _raise_first_bad(values, name, typ)
    return arrays


def _raise_first_bad(values: list[Any], name: str, typ: pa.DataType) -> None:
    for row, value in enumerate(values):
        try:
            pa.array([value], type=typ)
        except (TypeError, ValueError, pa.ArrowException) as exc:
            raise WorkloadError(f"record {row}: field {name!r} = {value!r} does not fit {typ}: "
                                f"{exc}") from None
    raise WorkloadError(f"field {name!r}: the values do not convert to {typ}")  # pragma: no cover


def records_to_table_naive(records: Sequence[Mapping[str, Any]], schema_name: str) -> pa.Table:
    """The reference conversion (``schemas.records_to_arrow``): a dict of lists per column."""
    from k2matrix.schemas import records_to_arrow

    return records_to_arrow(list(records), schema_name)  # type: ignore[arg-type]
