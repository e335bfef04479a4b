"""The Polars query engine: ``polars.scan_iceberg`` with each shape as a lazy plan.

Parameters go into plans as literals of Polars expressions (bound values, never SQL text);
Polars pushes the filters into its Iceberg scan (pyiceberg planning with metadata statistics).
Raw SQL runs through ``polars.SQLContext`` over the tables, without parameters (Polars SQL
cannot bind them).
"""

from __future__ import annotations

import os
from collections.abc import Callable, Mapping
from typing import Any

import polars as pl

from k2matrix.backends.storage import polars_storage_options
from k2matrix.errors import K2Error, QueryError
from k2matrix.query.engine import (
    bind_shape,
    engine_fault,
    is_shape,
    load_table,
    query_id,
    s3_storage,
)
from k2matrix.query.protocol import Params, QueryResult
from k2matrix.query.shapes import WINDOW_ROWS

Frames = Mapping[str, pl.LazyFrame]
_F64 = pl.Float64


def _window(lf: pl.LazyFrame, p: Mapping[str, Any]) -> pl.LazyFrame:
    return lf.filter((pl.col("timestamp") >= p["start"]) & (pl.col("timestamp") < p["end"]))


def _simple_scan(f: Frames, p: Mapping[str, Any]) -> pl.LazyFrame:
    return f["trades"].select("message_id", "symbol", "timestamp", "price", "quantity"
                              ).head(p["limit"])


def _filtered(f: Frames, p: Mapping[str, Any]) -> pl.LazyFrame:
    return (_window(f["trades"].filter(pl.col("symbol") == p["symbol"]), p)
            .select("message_id", "symbol", "timestamp", "price", "quantity", "side")
            .sort("timestamp"))


def _aggregation(f: Frames, p: Mapping[str, Any]) -> pl.LazyFrame:
    price, qty = pl.col("price").cast(_F64), pl.col("quantity").cast(_F64)
    return (f["trades"].group_by("symbol")
            .agg(pl.len().alias("trades"), pl.col("quantity").sum().alias("volume"),
                 ((price * qty).sum() / qty.sum()).alias("vwap"))
            .sort("symbol"))


def _time_range(f: Frames, p: Mapping[str, Any]) -> pl.LazyFrame:
    return (_window(f["trades"], p)
            .select("message_id", "symbol", "timestamp", "price", "quantity")
            .sort("timestamp"))


def _join(f: Frames, p: Mapping[str, Any]) -> pl.LazyFrame:
    trades = _window(f["trades"], p).select("symbol", "timestamp", "price").sort("timestamp")
    quotes = (_window(f["quotes"], p)
              .select("symbol", pl.col("timestamp").alias("quote_ts"), "bid_price", "ask_price")
              .sort("quote_ts"))
    joined = trades.join_asof(quotes, left_on="timestamp", right_on="quote_ts", by="symbol",
                              strategy="backward", check_sortedness=False)
    bid, ask = pl.col("bid_price").cast(_F64), pl.col("ask_price").cast(_F64)
    return (joined.group_by("symbol")
            .agg(pl.len().alias("trades"), pl.col("quote_ts").count().alias("quoted"),
                 (ask - bid).mean().alias("avg_spread"),
                 (pl.col("price").cast(_F64) - (bid + ask) / 2).mean().alias("avg_mid_diff"))
            .sort("symbol"))


def _window_shape(f: Frames, p: Mapping[str, Any]) -> pl.LazyFrame:
    return (_window(f["trades"], p).select("symbol", "timestamp", "price")
            .sort("symbol", "timestamp")
            .with_columns(pl.col("price").cast(_F64)
                          .rolling_mean(window_size=WINDOW_ROWS, min_samples=1)
                          .over("symbol").alias("moving_avg")))


def _subquery(f: Frames, p: Mapping[str, Any]) -> pl.LazyFrame:
    volumes = _window(f["trades"], p).group_by("symbol").agg(pl.col("quantity").sum()
                                                              .alias("volume"))
    return (volumes.filter(pl.col("volume").cast(_F64) > pl.col("volume").cast(_F64).mean())
            .sort(["volume", "symbol"], descending=[True, False]))


def _latest_trades(f: Frames, p: Mapping[str, Any]) -> pl.LazyFrame:
    return (_window(f["trades"].filter(pl.col("symbol") == p["symbol"]), p)
            .select("message_id", "symbol", "timestamp", "price", "quantity")
            .sort("timestamp", descending=True).head(p["limit"]))


def _market_summary(f: Frames, p: Mapping[str, Any]) -> pl.LazyFrame:
    price, qty = pl.col("price").cast(_F64), pl.col("quantity").cast(_F64)
    return (_window(f["trades"].filter(pl.col("symbol") == p["symbol"]), p)
            .group_by("symbol")
            .agg(price.sort_by("timestamp").first().alias("open_price"),
                 price.max().alias("high_price"), price.min().alias("low_price"),
                 price.sort_by("timestamp").last().alias("close_price"),
                 qty.sum().alias("volume"), pl.len().alias("trade_count"),
                 ((price * qty).sum() / qty.sum()).alias("vwap")))


PLANS: dict[str, Callable[[Frames, Mapping[str, Any]], pl.LazyFrame]] = {
    "simple_scan": _simple_scan, "filtered": _filtered, "aggregation": _aggregation,
    "time_range": _time_range, "join": _join, "window": _window_shape,
    "subquery": _subquery, "latest_trades": _latest_trades, "market_summary": _market_summary,
}


class PolarsEngine:
    """``polars.scan_iceberg`` on each table (a pyiceberg StaticTable of its metadata file)."""

    name = "polars"

    def __init__(self, tables: Mapping[str, str]) -> None:
        # Without the optional polars_iceberg package Polars plans the scan with pyiceberg and
        # warns on every query; say so once here (the figures are pyiceberg-planned).
        os.environ.setdefault("POLARS_ICEBERG_PLANNER", "pyiceberg")
        self.tables = dict(tables)
        self.iceberg = {name: load_table(name, loc) for name, loc in self.tables.items()}
        self.files_total = {n: len(list(t.scan().plan_files())) for n, t in self.iceberg.items()}
        self.options = {n: polars_storage_options(c) for n, loc in self.tables.items()
                        if (c := s3_storage(loc)) is not None}

    def _frames(self, names: tuple[str, ...] | list[str]) -> dict[str, pl.LazyFrame]:
        return {n: pl.scan_iceberg(self.iceberg[n], storage_options=self.options.get(n))
                for n in names}

    def run(self, query: str, params: Params = None) -> QueryResult:
        qid = query_id(query)
        stats: dict[str, Any] = {}
        try:
            if is_shape(query):
                shape, bound = bind_shape(query, params, self.tables)
                stats["files_total"] = sum(self.files_total[t] for t in shape.tables)
                frame = PLANS[shape.name](self._frames(shape.tables), bound).collect()
            else:
                if params:
                    raise QueryError(f"query {qid}: the polars engine cannot bind parameters "
                                     "in raw SQL; use a query shape or a DuckDB engine")
                ctx = pl.SQLContext(self._frames(list(self.tables)))
                frame = ctx.execute(query).collect()
        except K2Error:
            raise
        except Exception as exc:
            fault = engine_fault(exc, self.tables)
            if fault is not None:
                raise fault from None
            raise QueryError(f"query {qid} failed on polars: {type(exc).__name__}: {exc}"
                             ) from None
        return QueryResult(qid, frame.to_arrow(), stats)

    def profile(self, query: str, params: Params = None) -> dict[str, Any]:
        """Polars reports no scan statistics: the table's file count only."""
        return {k: v for k, v in self.run(query, params).stats.items() if k == "files_total"}

    def close(self) -> None:
        self.iceberg.clear()
