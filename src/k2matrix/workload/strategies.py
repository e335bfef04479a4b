"""Hypothesis strategies for K2 workloads: records per schema (edge cases included), and batch
sizes, query shapes, cells and workload specs drawn from a loaded :class:`~k2matrix.matrix.Matrix`.

Records are K2 dict records valid for ``schemas.avro_schema(name)``: timestamps are UTC
``datetime`` s at the schema's unit (whole milliseconds for V1, microseconds for V2),
decimals are ``Decimal`` s with exactly the schema's scale and at most its precision, enums
are symbol strings, arrays are lists and maps are ``dict`` or ``None``.

Hypothesis is for drawing *specs* and edge cases, not bulk rows: it cannot draw a list of 1K
V2 records. Draw a seed with :func:`workload_specs` and expand it with
:mod:`k2matrix.workload.generate`; bulk data takes its edge-case rows from :func:`edge_case_rows`,
which gives the same rows for a seed in every process (a Hypothesis draw does not).

Every strategy checks its arguments when it is built and raises
``ValueError`` (or :class:`~k2matrix.errors.MatrixError` for an unknown profile) naming
``argument=value`` and the fix.
"""

from __future__ import annotations

import copy
from collections.abc import Mapping, Sequence
from decimal import Decimal
from functools import cache
from typing import Any

from hypothesis import strategies as st
from hypothesis.strategies import SearchStrategy

from k2matrix.cell import Cell
from k2matrix.matrix import Matrix
from k2matrix.schemas import SCHEMAS, TRADE_SCHEMAS, Field, RecordSchema
from k2matrix.workload.edge_values import (
    INT32_MAX,
    INT64_MAX,
    LONG_MAX,
    MAX_INGESTION_DELAY,
    check_schema,
    check_size,
    edge_ticks,
    edge_values,
    latest_tick,
    order_quote,
    ticks_per_second,
    to_datetime,
)
from k2matrix.workload.generate import CONDITIONS, WorkloadSpec

# Beyond about 50-75 records per example Hypothesis stalls; bulk rows come from generate.
MAX_BATCH = 50

_SYMBOL = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789.-=/"),
                  min_size=1, max_size=12)
_CODE = st.text(st.sampled_from("ABCDEFGHIJKLMNOPQRSTUVWXYZ"), min_size=1, max_size=10)
_VENDOR_TEXT = st.text(st.characters(codec="utf-8"), max_size=24)
_CONDITION = st.one_of(st.sampled_from(CONDITIONS), _VENDOR_TEXT)
_NORMAL_STRINGS: dict[str, SearchStrategy[str]] = {
    "symbol": _SYMBOL,
    "exchange": st.one_of(st.sampled_from(("ASX", "NYSE", "NASDAQ", "LSE", "CME")), _CODE),
    "currency": st.sampled_from(("USD", "AUD", "EUR", "GBP", "JPY", "USDT")),
    "message_id": st.uuids().map(str),
}


@cache
def _event_ticks(f: Field, edge: bool) -> SearchStrategy[int]:
    return st.sampled_from(edge_ticks(f)) if edge else st.integers(0, latest_tick(f))


@cache
def _delays(per_second: int) -> SearchStrategy[int]:
    return st.integers(0, int(MAX_INGESTION_DELAY.total_seconds()) * per_second)


def _decimal(f: Field) -> SearchStrategy[Decimal]:
    realistic = st.integers(max(1, 10**f.scale // 100), 10 ** (f.scale + 5))
    unscaled = st.one_of(realistic, st.integers(1, 10**f.precision - 1))
    return unscaled.map(lambda n: Decimal(n).scaleb(-f.scale))


def _base(f: Field, edge: bool) -> SearchStrategy[Any]:
    """Values of a non-timestamp field, ignoring nullability."""
    if edge:
        return st.sampled_from(edge_values(f)).map(copy.copy)
    if f.kind == "decimal":
        return _decimal(f)
    if f.kind == "int":
        return st.integers(0, INT32_MAX)
    if f.kind == "long":
        return st.integers(0, LONG_MAX.get(f.name, INT64_MAX))
    if f.kind == "enum":
        return st.sampled_from(f.symbols)
    if f.kind == "strings":
        return st.lists(_CONDITION, max_size=4)
    if f.kind == "map":
        return st.dictionaries(_VENDOR_TEXT, _VENDOR_TEXT, max_size=4)
    if f.kind == "string":
        return _NORMAL_STRINGS.get(f.name, _VENDOR_TEXT)
    raise AssertionError(f"no strategy for {f.kind}")  # pragma: no cover - Kind is closed


@cache  # built once per field: fresh strategies per draw would double the cost of a draw
def _value(f: Field, edge: bool) -> SearchStrategy[Any]:
    base = _base(f, edge)
    if not f.nullable or (f.kind == "map" and edge):  # the map edge values include None
        return base
    return st.one_of(st.none(), base)


@st.composite
def _records(draw: st.DrawFn, schema: RecordSchema, edge_only: bool) -> dict[str, Any]:
    names = schema.names
    edge: set[str] = set()
    if edge_only or draw(st.booleans()):  # about half the general draws carry edge values
        flags = draw(st.lists(st.booleans(), min_size=len(names), max_size=len(names)))
        edge = {n for n, flag in zip(names, flags, strict=True) if flag}
        if not edge:
            edge = {draw(st.sampled_from(names))}
    record: dict[str, Any] = {}
    event: int | None = None  # the first timestamp field is the event time, in ticks
    for f in schema.fields:
        if f.kind in ("timestamp_ms", "timestamp_us"):
            per_s = ticks_per_second(f)
            if event is None:
                event = draw(_event_ticks(f, f.name in edge))
                ticks = event
            else:  # later timestamps (ingestion) follow the event; equal is the edge case
                ticks = event + (0 if f.name in edge else draw(_delays(per_s)))
            record[f.name] = to_datetime(ticks, per_s)
        else:
            record[f.name] = draw(_value(f, f.name in edge))
    return record


def _checked_records(schema: str, edge_only: bool) -> SearchStrategy[dict[str, Any]]:
    rs = check_schema(schema, list(SCHEMAS))
    strategy = _records(rs, edge_only=edge_only)
    return strategy.map(order_quote) if rs.name == "quote_v2" else strategy


def records(schema: str) -> SearchStrategy[dict[str, Any]]:
    """One K2 dict record of ``schema`` (``v1``, ``v2`` or ``quote_v2``), edge cases included."""
    return _checked_records(schema, edge_only=False)


def trade_records(schema: str) -> SearchStrategy[dict[str, Any]]:
    """One trade record of ``schema`` (``v1`` or ``v2``), valid for its Avro schema.

    Ordinary values and the edge cases real feeds have (maximum precision and scale, tiny and
    huge prices, empty and null collections, non-ASCII vendor strings, equal event and
    ingestion timestamps, missing sequences) in the same stream.
    """
    check_schema(schema, TRADE_SCHEMAS, hint="; for quotes use quote_records()")
    return records(schema)


def quote_records() -> SearchStrategy[dict[str, Any]]:
    """One V2 quote record (``quote_v2``); the ask is never below the bid."""
    return records("quote_v2")


def edge_case_records(schema: str) -> SearchStrategy[dict[str, Any]]:
    """Records of ``schema`` in which at least one field holds an edge value (the generator
    mixes these into bulk data at the spec's ``edge_case_fraction``)."""
    return _checked_records(schema, edge_only=True)


@st.composite
def _batches(draw: st.DrawFn, schema: str, min_size: int, max_size: int
             ) -> list[dict[str, Any]]:
    batch = draw(st.lists(records(schema), min_size=min_size, max_size=max_size))
    if len(batch) > 1 and draw(st.booleans()):
        # Several trades in the same instant (a sweep of the book): equal event times.
        fields = [f for f in SCHEMAS[schema].fields if f.kind.startswith("timestamp")]
        first = fields[0].name
        moment = batch[0][first]
        for rec in batch:
            shift = moment - rec[first]
            for f in fields:
                rec[f.name] = rec[f.name] + shift
    return batch


def record_batches(schema: str, min_size: int = 1, max_size: int = 20
                   ) -> SearchStrategy[list[dict[str, Any]]]:
    """A small list of records of ``schema``; sometimes every event timestamp is equal."""
    check_schema(schema, list(SCHEMAS))
    check_size("min_size", min_size, 0, MAX_BATCH)
    check_size("max_size", max_size, max(min_size, 1), MAX_BATCH)
    return _batches(schema, min_size, max_size)


# ---------------------------------------------------------------------------- matrix


def _check_matrix(matrix: object) -> Matrix:
    if not isinstance(matrix, Matrix):
        raise ValueError(f"matrix={matrix!r}: must be a Matrix; load one with "
                         "k2matrix.matrix.load_matrix(path)")
    return matrix


def _check_profile(matrix: Matrix, profile: object) -> str:
    if not isinstance(profile, str):
        raise ValueError(f"profile={profile!r}: must be a profile name such as 'smoke'; "
                         f"defined: {', '.join(matrix.profiles)}")
    matrix.profile(profile)  # raises MatrixError naming the profiles that exist
    return profile


def _axis_values(matrix: Matrix, axis: str, param: str, profile: str | None) -> list[Any]:
    """The values of an axis: globally, or those the profile's cells use (else its override)."""
    if profile is None:
        return list(matrix.axes[axis])
    prof = matrix.profile(_check_profile(matrix, profile))
    used = dict.fromkeys(c.params[param] for c in matrix.cells(profile) if param in c.params)
    if used:
        return list(used)
    return list(prof.axes.get(axis, matrix.axes[axis]))


def _sampled(values: Sequence[Any], what: str) -> SearchStrategy[Any]:
    if not values:
        raise ValueError(f"{what}: there are no values to draw from; add some to matrix.toml")
    return st.sampled_from(list(values))


def batch_sizes(matrix: Matrix, profile: str | None = None) -> SearchStrategy[int]:
    """A batch size of the matrix: the global axis, or those the profile's cells use."""
    m = _check_matrix(matrix)
    return _sampled(_axis_values(m, "batch_sizes", "batch_size", profile),
                    f"batch_sizes(profile={profile!r})")


def query_shapes(matrix: Matrix, profile: str | None = None) -> SearchStrategy[str]:
    """A query shape of the matrix: the global axis, or those the profile's cells use."""
    m = _check_matrix(matrix)
    return _sampled(_axis_values(m, "query_shapes", "query_shape", profile),
                    f"query_shapes(profile={profile!r})")


def cells(matrix: Matrix, profile: str, component: str | None = None
          ) -> SearchStrategy[Cell]:
    """A cell of ``profile`` (optionally only those of ``component``)."""
    m = _check_matrix(matrix)
    planned = m.cells(_check_profile(m, profile))
    if component is not None:
        components = sorted({c.component for c in planned})
        if component not in components:
            raise ValueError(f"component={component!r}: profile {profile!r} has no cells of "
                             f"it; use one of {', '.join(map(repr, components))}")
        planned = [c for c in planned if c.component == component]
    return _sampled(planned, f"cells(profile={profile!r})")


def _shape(base: Mapping[str, Any], vary: bool) -> SearchStrategy[dict[str, Any]]:
    fixed = {k: st.just(v) for k, v in base.items()}
    if not vary:
        return st.fixed_dictionaries(fixed)
    unit = st.floats(0.0, 1.0, allow_nan=False)
    varied: dict[str, SearchStrategy[Any]] = {
        "symbols": st.integers(1, max(1, int(base["symbols"]))),
        "skew": st.floats(0.0, 3.0, allow_nan=False),
        "null_ratio": unit,
        "disorder": unit,
        "rows_per_second": st.integers(1, 100_000),
        "edge_case_fraction": st.sampled_from((0.0, 0.02, 0.2)),
    }
    return st.fixed_dictionaries({k: st.one_of(fixed[k], varied[k]) if k in varied else fixed[k]
                                  for k in base})


def workload_specs(matrix: Matrix, profile: str, *, max_rows: int | None = None,
                   vary_shape: bool = True) -> SearchStrategy[WorkloadSpec]:
    """A :class:`~k2matrix.workload.generate.WorkloadSpec`: a seed, a schema and a batch size of the
    profile, and its data shape (``vary_shape``: sometimes other symbol counts, skews, null
    ratios, disorder, densities and edge-case fractions). ``max_rows`` caps the batch size
    for fast tests."""
    m = _check_matrix(matrix)
    prof = m.profile(_check_profile(m, profile))
    if max_rows is not None:
        check_size("max_rows", max_rows, 1, 10**9)
    schemas = _axis_values(m, "schemas", "schema", profile)
    sizes = [s for s in _axis_values(m, "batch_sizes", "batch_size", profile)
             if max_rows is None or s <= max_rows]
    if not sizes:
        sizes = [max_rows] if max_rows is not None else []
    base = {**m.data, **prof.data}
    return st.builds(
        lambda seed, schema, rows, shape: WorkloadSpec(schema=schema, rows=rows, seed=seed,
                                                       **shape),
        st.integers(0, 2**32 - 1),
        _sampled(schemas, f"workload_specs(profile={profile!r}) schemas"),
        _sampled(sizes, f"workload_specs(profile={profile!r}, max_rows={max_rows!r}) sizes"),
        _shape(base, vary_shape),
    )


__all__ = [
    "batch_sizes", "cells", "edge_case_records", "query_shapes", "quote_records",
    "record_batches", "records", "trade_records", "workload_specs",
]
