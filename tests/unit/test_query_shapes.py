"""Query shapes: parameter binding, bad input, row filters and default parameters."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from typing import Any

import pytest

from k2matrix.axes import QUERY_SHAPES
from k2matrix.errors import QueryError
from k2matrix.query.shapes import (
    FILTER_WINDOW,
    RANGE_WINDOW,
    SHAPES,
    DataWindow,
    bind,
    default_params,
    row_filters,
    selectivity_params,
)
from k2matrix.workload.generate import WorkloadSpec

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)
WINDOW = DataWindow.from_spec(WorkloadSpec("v2", rows=100_000, seed=1))


def test_every_matrix_shape_is_defined() -> None:
    assert set(SHAPES) == set(QUERY_SHAPES)


@pytest.mark.parametrize("name", list(SHAPES))
def test_default_params_bind(name: str) -> None:
    shape, bound = bind(name, default_params(name, WINDOW))
    assert set(bound) == set(shape.params)
    assert "$" not in "".join(str(v) for v in bound.values())


@pytest.mark.parametrize("name", list(SHAPES))
def test_sql_takes_values_only_as_bound_parameters(name: str) -> None:
    shape = SHAPES[name]
    sql = shape.render({t: t for t in shape.tables})
    for param in shape.params:
        assert f"${param}" in sql
    assert "{" not in sql


BAD: list[tuple[str, Any, str]] = [
    ("filterd", {}, "unknown query shape 'filterd'"),
    ("filtered", {"symbol": "AAA"}, "missing parameter(s) start, end"),
    ("aggregation", {"symbol": "AAA"}, "unexpected parameter(s) symbol"),
    ("filtered", {"symbol": "", "start": T0, "end": T0}, "symbol=''"),
    ("filtered", {"symbol": 7, "start": T0, "end": T0}, "symbol=7"),
    ("time_range", {"start": T0.replace(tzinfo=None), "end": T0}, "timezone-aware"),
    ("time_range", {"start": "2026-01-05", "end": T0}, "timezone-aware"),
    ("time_range", {"start": T0, "end": T0 - timedelta(seconds=1)}, "is before"),
    ("simple_scan", {"limit": -1}, "limit=-1"),
    ("simple_scan", {"limit": True}, "limit=True"),
    ("simple_scan", None, "missing parameter(s) limit"),
]


@pytest.mark.parametrize(("name", "params", "message"), BAD)
def test_bad_shape_or_params_raise_query_error(name: str, params: Any, message: str) -> None:
    with pytest.raises(QueryError) as info:
        bind(name, params)
    text = str(info.value)
    assert message in text
    assert repr(name) in text
    if "unknown" in message or "parameter(s)" in message:
        assert "known shapes are simple_scan, filtered, aggregation" in text


def test_row_filters_follow_the_parameters() -> None:
    shape, bound = bind("filtered", {"symbol": "AAB", "start": T0,
                                     "end": T0 + timedelta(hours=1)})
    text = repr(row_filters(shape, bound)["trades"])
    assert "symbol" in text and "AAB" in text and "timestamp" in text
    join, jb = bind("join", {"start": T0, "end": T0 + timedelta(minutes=5)})
    assert set(row_filters(join, jb)) == {"trades", "quotes"}
    agg, ab = bind("aggregation", {})
    assert repr(row_filters(agg, ab)["trades"]) == "AlwaysTrue()"


def test_default_windows_and_variants() -> None:
    filtered = default_params("filtered", WINDOW)
    assert filtered["end"] - filtered["start"] == FILTER_WINDOW
    assert WINDOW.start <= filtered["start"] < WINDOW.end
    ranged = default_params("time_range", WINDOW)
    assert ranged["end"] - ranged["start"] == RANGE_WINDOW
    assert default_params("filtered", WINDOW, 1)["symbol"] != filtered["symbol"]
    assert WINDOW.span == timedelta(seconds=50)  # 100K rows at 2000 rows/s


@pytest.mark.parametrize("selectivity", [0.001, 0.01, 0.5, 1.0])
def test_selectivity_window_is_that_fraction_of_the_span(selectivity: float) -> None:
    params = selectivity_params(WINDOW, selectivity)
    assert (params["end"] - params["start"]) / WINDOW.span == pytest.approx(selectivity)


@pytest.mark.parametrize("selectivity", [0.0, -0.1, 1.5])
def test_bad_selectivity(selectivity: float) -> None:
    with pytest.raises(QueryError, match="selectivity"):
        selectivity_params(WINDOW, selectivity)
