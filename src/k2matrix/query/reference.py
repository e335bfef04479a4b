"""Reference results of the query shapes, computed independently of every engine from the
generated Arrow tables in memory (numpy and Polars eager; no SQL, no Iceberg, no files).

Decimals become float64 before arithmetic; the comparison (:mod:`.query_compare`) allows a
relative tolerance for that. The moving average and the as-of join are written with numpy
(shifted sums, ``searchsorted``) so they share no code path with the Polars engine.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from datetime import datetime
from typing import Any

import numpy as np
import polars as pl
import pyarrow as pa

from k2matrix.query.shapes import WINDOW_ROWS, Shape, bind


@dataclass(frozen=True)
class Expected:
    """A reference result: the rows, the order the query imposes, and whether the query
    returns a sample (``LIMIT`` without order) whose rows must come from ``frame``."""

    frame: pl.DataFrame
    order_by: tuple[tuple[str, bool], ...] = ()
    sample_size: int | None = None


def _frame(table: pa.Table, columns: list[str]) -> pl.DataFrame:
    frame = pl.from_arrow(table.select(columns))
    assert isinstance(frame, pl.DataFrame)
    return frame.with_columns(pl.col(pl.Decimal).cast(pl.Float64))


def _in_window(frame: pl.DataFrame, p: Mapping[str, Any]) -> pl.DataFrame:
    ts = frame["timestamp"].dt.epoch("us").to_numpy()
    lo, hi = _us(p["start"]), _us(p["end"])
    return frame.filter(pl.Series((ts >= lo) & (ts < hi)))


def _us(moment: datetime) -> int:
    return round(moment.timestamp() * 1_000_000)


_COLS = ["message_id", "symbol", "timestamp", "price", "quantity"]


def _simple_scan(t: Mapping[str, pa.Table], p: Mapping[str, Any]) -> Expected:
    frame = _frame(t["trades"], _COLS)
    return Expected(frame, sample_size=min(p["limit"], frame.height))


def _filtered(t: Mapping[str, pa.Table], p: Mapping[str, Any]) -> Expected:
    frame = _frame(t["trades"], [*_COLS, "side"])
    frame = _in_window(frame.filter(pl.col("symbol") == p["symbol"]), p)
    return Expected(frame.sort("timestamp"), (("timestamp", False),))


def _aggregation(t: Mapping[str, pa.Table], p: Mapping[str, Any]) -> Expected:
    frame = _frame(t["trades"], ["symbol", "price", "quantity"])
    symbols = frame["symbol"].to_numpy()
    price, qty = frame["price"].to_numpy(), frame["quantity"].to_numpy()
    names, codes = np.unique(symbols, return_inverse=True)
    count = np.bincount(codes)
    volume = np.bincount(codes, weights=qty)
    notional = np.bincount(codes, weights=price * qty)
    out = pl.DataFrame({"symbol": names.astype(str), "trades": count, "volume": volume,
                        "vwap": notional / volume})
    return Expected(out, (("symbol", False),))


def _time_range(t: Mapping[str, pa.Table], p: Mapping[str, Any]) -> Expected:
    frame = _in_window(_frame(t["trades"], _COLS), p)
    return Expected(frame.sort("timestamp"), (("timestamp", False),))


def _join(t: Mapping[str, pa.Table], p: Mapping[str, Any]) -> Expected:
    trades = _in_window(_frame(t["trades"], ["symbol", "timestamp", "price"]), p)
    quotes = _in_window(_frame(t["quotes"], ["symbol", "timestamp", "bid_price", "ask_price"]),
                        p)
    names = np.unique(np.concatenate([trades["symbol"].to_numpy(),
                                      quotes["symbol"].to_numpy()]).astype(str))
    t_sym = np.searchsorted(names, trades["symbol"].to_numpy().astype(str))
    q_sym = np.searchsorted(names, quotes["symbol"].to_numpy().astype(str))
    scale = np.int64(10**16)  # (symbol, microseconds) as one sortable integer
    t_key = t_sym.astype(np.int64) * scale + trades["timestamp"].dt.epoch("us").to_numpy()
    q_key = q_sym.astype(np.int64) * scale + quotes["timestamp"].dt.epoch("us").to_numpy()
    q_order = np.argsort(q_key, kind="stable")
    q_key = q_key[q_order]
    idx = np.searchsorted(q_key, t_key, side="right") - 1  # the last quote at or before
    matched = idx >= 0
    matched[matched] = q_sym[q_order][idx[matched]] == t_sym[matched]
    bid = quotes["bid_price"].to_numpy()[q_order]
    ask = quotes["ask_price"].to_numpy()[q_order]
    spread = np.full(len(t_key), np.nan)
    mid_diff = np.full(len(t_key), np.nan)
    hit = idx[matched]
    spread[matched] = ask[hit] - bid[hit]
    mid_diff[matched] = trades["price"].to_numpy()[matched] - (bid[hit] + ask[hit]) / 2
    joined = pl.DataFrame({"symbol": trades["symbol"], "quoted": matched,
                           "spread": spread, "mid_diff": mid_diff}).with_columns(
        pl.col("spread", "mid_diff").fill_nan(None))
    out = joined.group_by("symbol").agg(
        pl.len().alias("trades"), pl.col("quoted").sum().alias("quoted"),
        pl.col("spread").mean().alias("avg_spread"),
        pl.col("mid_diff").mean().alias("avg_mid_diff"),
    ).sort("symbol")
    return Expected(out, (("symbol", False),))


def _moving_average(groups: np.ndarray, values: np.ndarray, width: int) -> np.ndarray:
    """Mean of each value and up to ``width - 1`` before it in its group (rows grouped).

    Summed as ``width`` shifted copies, not as differences of a running sum: those lose
    about 1e-9 relative precision over a million prices.
    """
    n = len(values)
    if n == 0:
        return values.astype(np.float64)
    starts = np.r_[0, np.flatnonzero(groups[1:] != groups[:-1]) + 1]
    start_of = np.repeat(starts, np.diff(np.r_[starts, n]))
    pos = np.arange(n)
    total = np.zeros(n, dtype=np.float64)
    count = np.zeros(n, dtype=np.int64)
    for back in range(width):
        valid = pos - back >= start_of
        total[valid] += values[pos[valid] - back]
        count += valid
    return np.asarray(total / count, dtype=np.float64)


def _window(t: Mapping[str, pa.Table], p: Mapping[str, Any]) -> Expected:
    frame = _in_window(_frame(t["trades"], ["symbol", "timestamp", "price"]), p)
    frame = frame.sort("symbol", "timestamp")
    ma = _moving_average(frame["symbol"].to_numpy(), frame["price"].to_numpy(), WINDOW_ROWS)
    out = frame.with_columns(pl.Series("moving_avg", ma))
    return Expected(out, (("symbol", False), ("timestamp", False)))


def _subquery(t: Mapping[str, pa.Table], p: Mapping[str, Any]) -> Expected:
    frame = _in_window(_frame(t["trades"], ["symbol", "timestamp", "quantity"]), p)
    names, codes = np.unique(frame["symbol"].to_numpy().astype(str), return_inverse=True)
    volume = np.bincount(codes, weights=frame["quantity"].to_numpy(), minlength=len(names))
    keep = volume > volume.mean() if len(names) else np.zeros(0, dtype=bool)
    order = sorted(np.flatnonzero(keep), key=lambda i: (-volume[i], names[i]))
    out = pl.DataFrame({"symbol": [str(names[i]) for i in order],
                        "volume": [float(volume[i]) for i in order]},
                       schema={"symbol": pl.String, "volume": pl.Float64})
    return Expected(out, (("volume", True), ("symbol", False)))


def _latest_trades(t: Mapping[str, pa.Table], p: Mapping[str, Any]) -> Expected:
    frame = _in_window(_frame(t["trades"], _COLS).filter(pl.col("symbol") == p["symbol"]), p)
    return Expected(frame.sort("timestamp", descending=True).head(p["limit"]),
                    (("timestamp", True),))


def _market_summary(t: Mapping[str, pa.Table], p: Mapping[str, Any]) -> Expected:
    frame = _in_window(_frame(t["trades"], ["symbol", "timestamp", "price", "quantity"])
                       .filter(pl.col("symbol") == p["symbol"]), p)
    if frame.height == 0:
        return Expected(pl.DataFrame(schema={c: pl.Float64 for c in (
            "symbol", "open_price", "high_price", "low_price", "close_price", "volume",
            "trade_count", "vwap")} | {"symbol": pl.String}))
    ts = frame["timestamp"].dt.epoch("us").to_numpy()
    price, qty = frame["price"].to_numpy(), frame["quantity"].to_numpy()
    out = pl.DataFrame({
        "symbol": [p["symbol"]], "open_price": [float(price[np.argmin(ts)])],
        "high_price": [float(price.max())], "low_price": [float(price.min())],
        "close_price": [float(price[np.argmax(ts)])], "volume": [float(qty.sum())],
        "trade_count": [frame.height], "vwap": [float((price * qty).sum() / qty.sum())]})
    return Expected(out)


REFERENCES: dict[str, Callable[[Mapping[str, pa.Table], Mapping[str, Any]], Expected]] = {
    "simple_scan": _simple_scan, "filtered": _filtered, "aggregation": _aggregation,
    "time_range": _time_range, "join": _join, "window": _window, "subquery": _subquery,
    "latest_trades": _latest_trades, "market_summary": _market_summary,
}


def reference(shape: str | Shape, params: Mapping[str, Any] | None,
              tables: Mapping[str, pa.Table]) -> Expected:
    """The expected result of ``shape`` with ``params`` over the generated ``tables``
    (``{"trades": ..., "quotes": ...}``)."""
    name = shape.name if isinstance(shape, Shape) else shape
    checked, bound = bind(name, params)
    return REFERENCES[checked.name](tables, bound)
