"""Result comparison and the independent reference computations."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from decimal import Decimal

import numpy as np
import polars as pl
import pyarrow as pa
import pytest

from k2matrix.errors import VerificationError
from k2matrix.query.compare import REL_TOL, check_result
from k2matrix.query.reference import Expected, _moving_average, reference
from k2matrix.schemas import arrow_schema

T0 = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _expected(order: tuple[tuple[str, bool], ...] = (("symbol", False),)) -> Expected:
    return Expected(pl.DataFrame({"symbol": ["A", "B", "C"], "n": [3, 2, 1],
                                  "vwap": [10.0, 20.0, 30.0]}), order)


def _result(symbols: list[str], n: list[int], vwap: list[float]) -> pa.Table:
    return pa.table({"symbol": symbols, "n": pa.array(n, pa.int64()),
                     "vwap": pa.array(vwap, pa.float64())})


def test_equal_result_passes_and_decimals_compare_as_numbers() -> None:
    check_result(_result(["A", "B", "C"], [3, 2, 1], [10.0, 20.0, 30.0 * (1 + REL_TOL / 10)]),
                 _expected())
    decimals = pa.table({"symbol": ["A"], "n": pa.array([Decimal("3.00000000")],
                                                        pa.decimal128(18, 8)),
                         "vwap": [10.0]})
    check_result(decimals, Expected(pl.DataFrame({"symbol": ["A"], "n": [3], "vwap": [10.0]})))


@pytest.mark.parametrize(("table", "message"), [
    (_result(["A", "B", "C"], [3, 2, 1], [10.0, 20.0, 30.001]), "column 'vwap' differs"),
    (_result(["A", "B", "C"], [3, 2, 2], [10.0, 20.0, 30.0]), "column 'n' differs"),
    (_result(["A", "B"], [3, 2], [10.0, 20.0]), "2 rows, expected 3"),
    (_result(["B", "A", "C"], [2, 3, 1], [20.0, 10.0, 30.0]), "not ordered by symbol"),
    (pa.table({"symbol": ["A"], "vwap": [1.0]}), "columns"),
])
def test_mismatches_are_reported(table: pa.Table, message: str) -> None:
    with pytest.raises(VerificationError, match=message):
        check_result(table, _expected(), "q1")


def test_unordered_query_accepts_any_order_and_ties_in_order_keys() -> None:
    check_result(_result(["C", "A", "B"], [1, 3, 2], [30.0, 10.0, 20.0]), _expected(()))
    tied = Expected(pl.DataFrame({"symbol": ["A", "B"], "n": [1, 1], "vwap": [1.0, 2.0]}),
                    (("n", False),))
    check_result(_result(["B", "A"], [1, 1], [2.0, 1.0]), tied)


def test_nulls_must_match() -> None:
    want = Expected(pl.DataFrame({"symbol": ["A"], "n": [1], "vwap": [None]},
                                 schema={"symbol": pl.String, "n": pl.Int64,
                                         "vwap": pl.Float64}))
    check_result(pa.table({"symbol": ["A"], "n": [1], "vwap": pa.array([None], pa.float64())}),
                 want)
    with pytest.raises(VerificationError):
        check_result(_result(["A"], [1], [0.0]), want)


def test_sample_check() -> None:
    population = pl.DataFrame({"id": ["a", "b", "c"], "v": [1.0, 2.0, 3.0]})
    want = Expected(population, sample_size=2)
    check_result(pa.table({"id": ["c", "a"], "v": [3.0, 1.0]}), want)
    for bad, message in [({"id": ["a"], "v": [1.0]}, "1 rows, expected 2"),
                         ({"id": ["a", "a"], "v": [1.0, 1.0]}, "duplicate"),
                         ({"id": ["a", "z"], "v": [1.0, 9.0]}, "not in the table"),
                         ({"id": ["a", "b"], "v": [1.0, 2.5]}, "column 'v' differs")]:
        with pytest.raises(VerificationError, match=message):
            check_result(pa.table(bad), want)


def test_moving_average_matches_a_naive_loop() -> None:
    rng = np.random.default_rng(3)
    groups = np.sort(rng.integers(0, 4, 200))
    values = rng.normal(100, 5, 200)
    got = _moving_average(groups, values, 5)
    for i in range(200):
        start = i
        while start > 0 and groups[start - 1] == groups[i] and i - start + 1 < 5:
            start -= 1
        assert got[i] == pytest.approx(values[start:i + 1].mean())


def _tables() -> dict[str, pa.Table]:
    def ts(seconds: list[int]) -> pa.Array:
        return pa.array([T0 + timedelta(seconds=s) for s in seconds], pa.timestamp("us", "UTC"))

    dec = pa.decimal128(18, 8)
    trades = pa.table({"symbol": ["X", "X", "Y", "X"], "timestamp": ts([1, 5, 6, 9]),
                       "price": pa.array([Decimal(10), Decimal(11), Decimal(50), Decimal(12)],
                                         dec),
                       "quantity": pa.array([Decimal(1), Decimal(2), Decimal(3), Decimal(4)],
                                            dec)})
    quotes = pa.table({"symbol": ["X", "Y", "X"], "timestamp": ts([0, 2, 6]),
                       "bid_price": pa.array([Decimal(9), Decimal(49), Decimal(10)], dec),
                       "ask_price": pa.array([Decimal(11), Decimal(51), Decimal(14)], dec)})
    names = arrow_schema("v2").names
    assert set(trades.column_names) <= set(names)
    return {"trades": trades, "quotes": quotes}


def test_join_reference_on_hand_made_rows() -> None:
    params = {"start": T0 + timedelta(seconds=1), "end": T0 + timedelta(seconds=10)}
    got = reference("join", params, _tables()).frame.to_dicts()
    # X trades at 1, 5 (quote at 0 is outside the window: unquoted at 1; none before 5 in
    # the window either) and 9 (quote at 6: spread 4, mid 12); Y at 6 (quote at 2).
    assert got == [
        {"symbol": "X", "trades": 3, "quoted": 1, "avg_spread": 4.0, "avg_mid_diff": 0.0},
        {"symbol": "Y", "trades": 1, "quoted": 1, "avg_spread": 2.0, "avg_mid_diff": 0.0},
    ]


def test_aggregation_and_subquery_reference_on_hand_made_rows() -> None:
    agg = reference("aggregation", {}, _tables()).frame.to_dicts()
    assert agg[0]["symbol"] == "X" and agg[0]["trades"] == 3 and agg[0]["volume"] == 7.0
    assert agg[0]["vwap"] == pytest.approx((10 * 1 + 11 * 2 + 12 * 4) / 7)
    params = {"start": T0, "end": T0 + timedelta(seconds=10)}
    sub = reference("subquery", params, _tables()).frame.to_dicts()
    assert sub == [{"symbol": "X", "volume": 7.0}]  # mean volume is 5
