"""The query shapes of the K2 query workload: the SQL of each, its parameters, the order of
its result, and the Iceberg row filter an engine may plan files with.

SQL is DuckDB's dialect over two sources, written ``{trades}`` and ``{quotes}``: each engine
substitutes its own source (a view over ``iceberg_scan``, ``read_parquet`` of planned files).
Parameter values (symbols, time bounds, limits) are always bound as ``$name`` parameters and
never formatted into SQL text. Time bounds are timezone-aware ``datetime`` values (UTC);
windows are half-open, ``start <= timestamp < end``.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING, Any

from k2matrix.errors import QueryError
from k2matrix.workload.generate import symbol_names

if TYPE_CHECKING:
    from pyiceberg.expressions import BooleanExpression

    from k2matrix.workload.generate import WorkloadSpec

WINDOW_ROWS = 20  # the moving average of the window shape covers the last 20 trades
FILTER_WINDOW = timedelta(hours=1)
RANGE_WINDOW = timedelta(minutes=5)


@dataclass(frozen=True)
class Shape:
    """One query shape: SQL with ``{trades}``/``{quotes}`` sources and ``$name`` params.

    ``order_by``: the result columns the query orders by, each ``(column, descending)``;
    empty when the order is unspecified. ``sample``: the query returns some rows of the
    table (``LIMIT`` without ``ORDER BY``), so its result is checked as a sample.
    """

    name: str
    description: str
    sql: str
    params: tuple[str, ...]
    tables: tuple[str, ...] = ("trades",)
    order_by: tuple[tuple[str, bool], ...] = ()
    sample: bool = False

    def render(self, sources: Mapping[str, str]) -> str:
        """The SQL with each table source filled in (engine-owned text, never user values)."""
        return self.sql.format(**{t: sources[t] for t in self.tables})


_TRADE_COLUMNS = "message_id, symbol, timestamp, price, quantity"

SHAPES: dict[str, Shape] = {s.name: s for s in (
    Shape(
        "simple_scan", "the first $limit trades the engine finds (LIMIT, no order)",
        f"SELECT {_TRADE_COLUMNS} FROM {{trades}} LIMIT $limit",
        params=("limit",), sample=True,
    ),
    Shape(
        "filtered", "one symbol's trades in a one-hour window, in time order",
        f"SELECT {_TRADE_COLUMNS}, side FROM {{trades}} "
        "WHERE symbol = $symbol AND timestamp >= $start AND timestamp < $end "
        "ORDER BY timestamp",
        params=("symbol", "start", "end"), order_by=(("timestamp", False),),
    ),
    Shape(
        "aggregation", "per symbol: trade count, volume and VWAP over the whole table",
        "SELECT symbol, count(*) AS trades, sum(quantity) AS volume, "
        "sum(price::DOUBLE * quantity::DOUBLE) / sum(quantity::DOUBLE) AS vwap "
        "FROM {trades} GROUP BY symbol ORDER BY symbol",
        params=(), order_by=(("symbol", False),),
    ),
    Shape(
        "time_range", "every trade in a time range (5 minutes by default), in time order",
        f"SELECT {_TRADE_COLUMNS} FROM {{trades}} "
        "WHERE timestamp >= $start AND timestamp < $end ORDER BY timestamp",
        params=("start", "end"), order_by=(("timestamp", False),),
    ),
    Shape(
        "join", "trades as-of joined with the prevailing quote of their symbol in a time "
        "range; per symbol: trades, quoted trades, mean spread and mean trade-minus-mid",
        "SELECT t.symbol AS symbol, count(*) AS trades, count(q.timestamp) AS quoted, "
        "avg(q.ask_price::DOUBLE - q.bid_price::DOUBLE) AS avg_spread, "
        "avg(t.price::DOUBLE - (q.bid_price::DOUBLE + q.ask_price::DOUBLE) / 2) AS avg_mid_diff "
        "FROM (SELECT symbol, timestamp, price FROM {trades} "
        "      WHERE timestamp >= $start AND timestamp < $end) t "
        "ASOF LEFT JOIN (SELECT symbol, timestamp, bid_price, ask_price FROM {quotes} "
        "      WHERE timestamp >= $start AND timestamp < $end) q "
        "ON t.symbol = q.symbol AND t.timestamp >= q.timestamp "
        "GROUP BY t.symbol ORDER BY t.symbol",
        params=("start", "end"), tables=("trades", "quotes"), order_by=(("symbol", False),),
    ),
    Shape(
        "window", f"per trade in a time range: the moving average of its symbol's last "
        f"{WINDOW_ROWS} prices, ordered by symbol and time",
        "SELECT symbol, timestamp, price, "
        "avg(price::DOUBLE) OVER (PARTITION BY symbol ORDER BY timestamp "
        f"ROWS BETWEEN {WINDOW_ROWS - 1} PRECEDING AND CURRENT ROW) AS moving_avg "
        "FROM {trades} WHERE timestamp >= $start AND timestamp < $end "
        "ORDER BY symbol, timestamp",
        params=("start", "end"), order_by=(("symbol", False), ("timestamp", False)),
    ),
    Shape(
        "subquery", "symbols whose traded volume in a window is above the average symbol's",
        "WITH v AS (SELECT symbol, sum(quantity) AS volume FROM {trades} "
        "           WHERE timestamp >= $start AND timestamp < $end GROUP BY symbol) "
        "SELECT symbol, volume FROM v WHERE volume > (SELECT avg(volume) FROM v) "
        "ORDER BY volume DESC, symbol",
        params=("start", "end"), order_by=(("volume", True), ("symbol", False)),
    ),
    Shape(
        "latest_trades", "one symbol's newest $limit trades in a window, newest first (K2's "
        "query_trades)",
        f"SELECT {_TRADE_COLUMNS} FROM {{trades}} "
        "WHERE symbol = $symbol AND timestamp >= $start AND timestamp < $end "
        "ORDER BY timestamp DESC LIMIT $limit",
        params=("symbol", "start", "end", "limit"), order_by=(("timestamp", True),),
    ),
    Shape(
        "market_summary", "one symbol's day (a UTC day from $start): open, high, low, close, "
        "volume, trade count and VWAP (K2's get_market_summary)",
        "SELECT symbol, arg_min(price, timestamp)::DOUBLE AS open_price, "
        "max(price)::DOUBLE AS high_price, min(price)::DOUBLE AS low_price, "
        "arg_max(price, timestamp)::DOUBLE AS close_price, "
        "sum(quantity)::DOUBLE AS volume, count(*) AS trade_count, "
        "sum(price::DOUBLE * quantity::DOUBLE) / sum(quantity::DOUBLE) AS vwap "
        "FROM {trades} WHERE symbol = $symbol AND timestamp >= $start AND timestamp < $end "
        "GROUP BY symbol",
        params=("symbol", "start", "end"),
    ),
)}
# The shapes of the mixed throughput and stress workloads (the K2 API shapes came later:
# the mixed cells of earlier runs stay comparable).
MIXED = ("simple_scan", "filtered", "aggregation", "time_range", "join", "window", "subquery")


def known_shapes() -> str:
    return ", ".join(SHAPES)


def get_shape(name: str) -> Shape:
    """The shape called ``name``; :class:`QueryError` naming it and the known shapes."""
    try:
        return SHAPES[name]
    except KeyError:
        raise QueryError(f"unknown query shape {name!r}: known shapes are {known_shapes()}"
                         ) from None


def _check_value(shape: str, name: str, value: Any) -> None:
    if name in ("start", "end"):
        if not isinstance(value, datetime) or value.tzinfo is None:
            raise QueryError(f"query shape {shape!r}: parameter {name}={value!r} must be a "
                             "timezone-aware datetime (UTC)")
    elif name == "symbol":
        if not isinstance(value, str) or not value:
            raise QueryError(f"query shape {shape!r}: parameter symbol={value!r} must be a "
                             "non-empty string")
    elif name == "limit" and (not isinstance(value, int) or isinstance(value, bool)
                              or value < 0):
        raise QueryError(f"query shape {shape!r}: parameter limit={value!r} must be a "
                         "non-negative integer")


def bind(name: str, params: Mapping[str, Any] | None) -> tuple[Shape, dict[str, Any]]:
    """The shape and its checked parameters. :class:`QueryError` for an unknown shape, a
    missing or unexpected parameter, or a bad value; the message names the shape, what it
    takes and the known shapes."""
    shape = get_shape(name)
    given = dict(params or {})
    missing = [p for p in shape.params if p not in given]
    extra = sorted(set(given) - set(shape.params))
    if missing or extra:
        parts = []
        if missing:
            parts.append(f"missing parameter(s) {', '.join(missing)}")
        if extra:
            parts.append(f"unexpected parameter(s) {', '.join(extra)}")
        takes = ", ".join(shape.params) or "no parameters"
        raise QueryError(f"query shape {name!r}: {'; '.join(parts)} (it takes {takes}); "
                         f"known shapes are {known_shapes()}")
    for key in shape.params:
        _check_value(name, key, given[key])
    if "start" in given and given["end"] < given["start"]:
        raise QueryError(f"query shape {name!r}: end={given['end']} is before "
                         f"start={given['start']}")
    return shape, given


def sql_literal(value: Any) -> str:
    """A parameter as a typed SQL literal (DuckDB): for engines that take SQL text only.
    Strings are quoted with quotes doubled; datetimes are ``TIMESTAMPTZ`` literals in UTC;
    anything else is refused (:class:`QueryError`)."""
    if isinstance(value, bool) or not isinstance(value, (int, str, datetime)):
        raise QueryError(f"parameter {value!r}: only strings, integers and timezone-aware "
                         "datetimes are bound as literals")
    if isinstance(value, int):
        return str(value)
    if isinstance(value, datetime):
        if value.tzinfo is None:
            raise QueryError(f"parameter {value!r}: a datetime must be timezone-aware")
        return f"TIMESTAMPTZ '{value.astimezone(UTC).isoformat()}'"
    return "'" + value.replace("'", "''") + "'"


def literal_sql(name: str, params: Mapping[str, Any] | None,
                sources: Mapping[str, Any]) -> str:
    """Shape ``name`` as SQL text with its (checked) parameters bound as literals
    (:func:`sql_literal`) and each table replaced by its source in ``sources``: SQL text, or
    a :class:`~k2matrix.component_config.TableRef` (an engine's ``config.tables``), read as
    DuckDB ``iceberg_scan`` of its metadata file. For an engine that runs SQL text without
    parameters (K2's ``execute_raw``). Longer names first, so ``$start`` never eats ``$s``."""
    shape, bound = bind(name, params)
    sql = shape.render({table: source if isinstance(source, str) else
                        f"iceberg_scan({sql_literal(str(source.metadata_location))})"
                        for table, source in sources.items()})
    for key in sorted(bound, key=len, reverse=True):
        sql = sql.replace(f"${key}", sql_literal(bound[key]))
    return sql


def row_filters(shape: Shape, params: Mapping[str, Any]) -> dict[str, BooleanExpression]:
    """Per table of ``shape``, the Iceberg row filter implied by its parameters (for engines
    that plan files with pyiceberg: partition and column-statistics pruning)."""
    from pyiceberg.expressions import (
        AlwaysTrue,
        And,
        EqualTo,
        GreaterThanOrEqual,
        LessThan,
        Reference,
    )

    out: dict[str, BooleanExpression] = {}
    for table in shape.tables:
        expr: BooleanExpression = AlwaysTrue()
        if "symbol" in params:
            expr = And(expr, EqualTo(term=Reference("symbol"), value=params["symbol"]))
        if "start" in params:
            ts = Reference("timestamp")
            expr = And(expr, GreaterThanOrEqual(term=ts, value=params["start"].isoformat()))
            expr = And(expr, LessThan(term=ts, value=params["end"].isoformat()))
        out[table] = expr
    return out


# ---------------------------------------------------------------------------- parameters


@dataclass(frozen=True)
class DataWindow:
    """What default parameters need to know of a dataset: its time span and symbols."""

    start: datetime
    end: datetime
    symbols: tuple[str, ...]

    @classmethod
    def from_spec(cls, spec: WorkloadSpec) -> DataWindow:
        start = datetime.fromtimestamp(spec.start_us / 1e6, tz=UTC)
        span = timedelta(seconds=max(spec.rows, 1) / spec.rows_per_second)
        return cls(start=start, end=start + span, symbols=tuple(symbol_names(spec.symbols)))

    @property
    def span(self) -> timedelta:
        return self.end - self.start

    def symbol(self, rank: int) -> str:
        """The symbol of popularity rank ``rank`` (0 = most traded; clipped to the universe)."""
        return self.symbols[min(rank, len(self.symbols) - 1)]

    def fraction(self, start: float, end: float) -> tuple[datetime, datetime]:
        """The window from fraction ``start`` to ``end`` of the data's time span."""
        return self.start + self.span * start, self.start + self.span * end


DEFAULT_SYMBOL_RANK = 29  # about 0.5% of trades with the default Zipf skew of 1.1
DEFAULT_LIMIT = 1000


def default_params(name: str, window: DataWindow, variant: int = 0) -> dict[str, Any]:
    """Parameters for shape ``name`` over a dataset; ``variant`` > 0 shifts the symbol and
    window, for throughput runs that should not repeat one query."""
    shape = get_shape(name)
    out: dict[str, Any] = {}
    if "limit" in shape.params:
        out["limit"] = DEFAULT_LIMIT
    if "symbol" in shape.params:
        out["symbol"] = window.symbol(DEFAULT_SYMBOL_RANK + 7 * variant)
    if "start" in shape.params:
        shift = (variant * 0.07) % 0.5
        if name == "market_summary":  # the UTC day of the data's start
            day = window.start.replace(hour=0, minute=0, second=0, microsecond=0)
            out["start"], out["end"] = day, day + timedelta(days=1)
        elif name in ("filtered", "subquery", "latest_trades"):
            start = window.start + window.span * (0.25 + shift)
            out["start"], out["end"] = start, start + FILTER_WINDOW
        else:
            start = window.start + window.span * (0.5 - shift)
            out["start"], out["end"] = start, start + RANGE_WINDOW
    return out


def selectivity_params(window: DataWindow, selectivity: float) -> dict[str, Any]:
    """``time_range`` parameters selecting about ``selectivity`` of the rows (data arrive at a
    steady rate, so a fraction of the time span is that fraction of the rows)."""
    if not 0 < selectivity <= 1:
        raise QueryError(f"selectivity={selectivity!r}: must be in (0, 1]")
    start, end = window.fraction(0.5 - selectivity / 2, 0.5 + selectivity / 2)
    return {"start": start, "end": end}
