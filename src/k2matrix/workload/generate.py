"""Seeded, vectorized bulk market data.

A :class:`WorkloadSpec` (schema, row count, seed, data shape) expands into an Arrow table of
``schemas.arrow_schema(spec.schema)``; the same spec always gives the same table. Everything
is drawn with numpy and assembled column-wise with pyarrow: no per-row Python work, except
for the optional fraction of edge-case rows (see :func:`_edge_rows`).

What the data looks like: a universe of ``symbols`` tickers whose popularity follows a Zipf
law with exponent ``skew``; per-symbol random-walk prices; event timestamps that increase at
``rows_per_second`` from ``start``, with a ``disorder`` fraction shuffled by up to a few
seconds; nullable fields null with probability ``null_ratio``.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import TYPE_CHECKING, Any

import numpy as np  # imported before pyarrow converts numpy arrays (see DESIGN.md)
import pyarrow as pa
import pyarrow.compute as pc

from k2matrix.schemas import (
    ASSET_CLASSES,
    SIDES,
    TRADE_SCHEMAS,
    arrow_schema,
    arrow_to_records,
    get_schema,
    records_to_arrow,
)
from k2matrix.workload.edge_values import edge_case_rows

if TYPE_CHECKING:
    from k2matrix.cell import Cell

EXCHANGES = ("ASX", "NYSE", "NASDAQ", "LSE", "CME", "BINANCE")
VENUES = ("LIT", "DARK", "AUCTION", "OTC")
CURRENCIES = ("USD", "AUD", "GBP", "EUR", "USDT")
CONDITIONS = ("@", "F", "T", "I", "O", "6", "X")
VENDOR_KEYS = ("feed", "region", "latency_class")
VENDOR_VALUES = ("primary", "backup", "apac", "emea", "amer", "fast", "slow")


@dataclass(frozen=True)
class WorkloadSpec:
    """Everything that decides a generated table. Equal specs give equal tables."""

    schema: str
    rows: int
    seed: int
    symbols: int = 500
    skew: float = 1.1
    null_ratio: float = 0.05
    disorder: float = 0.0
    edge_case_fraction: float = 0.0
    start: str = "2026-01-05T14:30:00Z"
    rows_per_second: int = 2000

    def __post_init__(self) -> None:
        get_schema(self.schema)
        checks: list[tuple[str, bool, str]] = [
            ("rows", isinstance(self.rows, int) and self.rows >= 0, "a non-negative integer"),
            ("seed", isinstance(self.seed, int) and self.seed >= 0, "a non-negative integer"),
            ("symbols", isinstance(self.symbols, int) and self.symbols >= 1, "at least 1"),
            ("skew", 0 <= self.skew <= 10, "a Zipf exponent from 0 to 10"),
            ("null_ratio", 0 <= self.null_ratio <= 1, "a fraction from 0 to 1"),
            ("disorder", 0 <= self.disorder <= 1, "a fraction from 0 to 1"),
            ("edge_case_fraction", 0 <= self.edge_case_fraction <= 1, "a fraction from 0 to 1"),
            ("rows_per_second", self.rows_per_second >= 1, "a positive integer"),
        ]
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be {allowed}")

    @classmethod
    def from_cell(cls, cell: Cell, rows: int, schema: str | None = None, seed_offset: int = 0
                  ) -> WorkloadSpec:
        """The spec for ``rows`` rows of a cell: its seed, schema and data shape."""
        s = cell.settings
        return cls(
            schema=schema or cell.schema or "v2",
            rows=rows,
            seed=(cell.seed + seed_offset) % 2**32,
            symbols=int(s.get("symbols", cls.symbols)),
            skew=float(s.get("skew", cls.skew)),
            null_ratio=float(s.get("null_ratio", cls.null_ratio)),
            disorder=float(s.get("disorder", cls.disorder)),
            edge_case_fraction=float(s.get("edge_case_fraction", cls.edge_case_fraction)),
            start=str(s.get("start", cls.start)),
            rows_per_second=int(s.get("rows_per_second", cls.rows_per_second)),
        )

    @property
    def start_us(self) -> int:
        moment = datetime.fromisoformat(self.start.replace("Z", "+00:00"))
        return int(moment.timestamp()) * 1_000_000 + moment.microsecond


def symbol_names(count: int) -> list[str]:
    """The symbol universe: ``count`` distinct, stable ticker-like names (AAA, AAB, …)."""
    names = []
    for i in range(count):
        letters = ""
        n = i
        for _ in range(3):
            letters = chr(ord("A") + n % 26) + letters
            n //= 26
        names.append(letters if n == 0 else f"{letters}{n}")
    return names


def _decimal_array(unscaled: np.ndarray, precision: int, scale: int) -> pa.Array:
    """A decimal128 array from int64 unscaled values, without per-value Python work."""
    words = np.empty((len(unscaled), 2), dtype=np.int64)
    words[:, 0] = unscaled
    words[:, 1] = np.where(unscaled < 0, -1, 0)
    return pa.Array.from_buffers(
        pa.decimal128(precision, scale), len(unscaled), [None, pa.py_buffer(words.tobytes())]
    )


def _strings(prefix: str, numbers: np.ndarray) -> pa.Array:
    """``prefix`` followed by each number in decimal, vectorized."""
    text = pa.array(numbers, type=pa.int64()).cast(pa.string())
    return pc.binary_join_element_wise(pa.scalar(prefix), text, "")


def _pick(vocabulary: tuple[str, ...], idx: np.ndarray) -> pa.Array:
    return pa.array(vocabulary, type=pa.string()).take(pa.array(idx, type=pa.int32()))


def _nullable(arr: pa.Array, null_mask: np.ndarray) -> pa.Array:
    if not null_mask.any():
        return arr
    return pc.if_else(pa.array(null_mask), pa.nulls(len(arr), arr.type), arr)


class _Market:
    """The shared random state of one table: symbols, timestamps, prices."""

    def __init__(self, spec: WorkloadSpec, rng: np.random.Generator, rows: int) -> None:
        self.rows = rows
        ranks = np.arange(1, spec.symbols + 1, dtype=np.float64)
        weights = ranks ** (-spec.skew)
        weights /= weights.sum()
        self.sym = rng.choice(spec.symbols, size=rows, p=weights).astype(np.int32)
        self.names = symbol_names(spec.symbols)
        sym_rng = np.random.default_rng(spec.seed ^ 0x5EED)  # per-universe, not per-table
        self.sym_exchange = sym_rng.integers(0, len(EXCHANGES), spec.symbols)
        self.sym_asset = sym_rng.choice(len(ASSET_CLASSES), spec.symbols, p=[0.7, 0.2, 0.07, 0.03])
        self.sym_currency = sym_rng.integers(0, len(CURRENCIES), spec.symbols)
        self.base_price = np.exp(sym_rng.normal(4.0, 1.2, spec.symbols)).clip(0.5, 20_000)

        step_us = 1_000_000 / spec.rows_per_second
        ts = spec.start_us + (np.arange(rows, dtype=np.float64) * step_us).astype(np.int64)
        if spec.disorder > 0 and rows:
            moved = rng.random(rows) < spec.disorder
            ts[moved] += rng.integers(-3_000_000, 3_000_000, int(moved.sum()))
        self.ts_us = ts

        # Per-symbol random walk: cumulative log-returns within each symbol, in event order.
        steps = rng.normal(0.0, 2e-4, rows)
        order = np.argsort(self.sym, kind="stable")
        walk = np.empty(rows)
        if rows:
            cum = np.cumsum(steps[order])
            sorted_sym = self.sym[order]
            group_start = np.r_[0, np.flatnonzero(np.diff(sorted_sym)) + 1]
            offsets = np.repeat(cum[group_start] - steps[order][group_start],
                                np.diff(np.r_[group_start, rows]))
            walk[order] = cum - offsets
        self.price = self.base_price[self.sym] * np.exp(walk)

    def symbol_array(self) -> pa.Array:
        return pa.array(self.names, type=pa.string()).take(pa.array(self.sym))

    def timestamps(self, unit: str, offset_us: np.ndarray | None = None) -> pa.Array:
        ts = self.ts_us if offset_us is None else self.ts_us + offset_us
        if unit == "ms":
            ts = ts // 1000 * 1000  # millisecond precision, microsecond unit
        return pa.array(ts, type=pa.timestamp("us", tz="UTC"))


def _v1(spec: WorkloadSpec, rng: np.random.Generator, m: _Market) -> dict[str, pa.Array]:
    n = m.rows
    return {
        "symbol": m.symbol_array(),
        "company_id": pa.array(1000 + m.sym, type=pa.int32()),
        "exchange": _pick(EXCHANGES, m.sym_exchange[m.sym]),
        "exchange_timestamp": m.timestamps("ms"),
        "price": _decimal_array(np.round(m.price * 1e6).astype(np.int64), 18, 6),
        "volume": pa.array(rng.geometric(0.002, n).astype(np.int64)),
        "qualifiers": pa.array(rng.integers(0, 4, n).astype(np.int32)),
        "venue": _pick(VENUES, rng.integers(0, len(VENUES), n)),
        "buyer_id": _nullable(_strings("B", rng.integers(0, 50_000, n)),
                              rng.random(n) < spec.null_ratio),
        "ingestion_timestamp": m.timestamps("ms", rng.exponential(2000, n).astype(np.int64)),
        "sequence_number": _nullable(pa.array(np.arange(1, n + 1, dtype=np.int64)),
                                     rng.random(n) < spec.null_ratio),
    }


def _conditions(rng: np.random.Generator, n: int) -> pa.Array:
    counts = rng.choice(3, size=n, p=[0.5, 0.35, 0.15])
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int32)
    values = _pick(CONDITIONS, rng.integers(0, len(CONDITIONS), int(offsets[-1])))
    typ = pa.list_(pa.field("element", pa.string(), nullable=False))
    return pa.ListArray.from_arrays(pa.array(offsets), values, type=typ)


def _vendor(spec: WorkloadSpec, rng: np.random.Generator, n: int) -> pa.Array:
    # Vendor data is sparse: most rows carry none (null), some carry one or two entries.
    present = rng.random(n) < 0.2
    counts = np.where(present, rng.integers(1, 3, n), 0)
    offsets = np.r_[0, np.cumsum(counts)].astype(np.int32)
    total = int(offsets[-1])
    key_idx = np.zeros(total, dtype=np.int64)
    if total:
        starts = np.repeat(offsets[:-1], counts)
        key_idx = np.arange(total) - starts  # distinct keys within a map
    keys = _pick(VENDOR_KEYS, key_idx)
    items = _pick(VENDOR_VALUES, rng.integers(0, len(VENDOR_VALUES), total))
    typ = pa.map_(pa.string(), pa.field("value", pa.string(), nullable=False))
    mask = pa.array(~present)
    return pa.MapArray.from_arrays(pa.array(offsets), keys, items, type=typ, mask=mask)


def _v2(spec: WorkloadSpec, rng: np.random.Generator, m: _Market) -> dict[str, pa.Array]:
    n = m.rows
    idx = np.arange(n, dtype=np.int64)
    qty = np.round(rng.lognormal(3.0, 1.5, n).clip(1e-4, 1e6) * 1e8).astype(np.int64)
    return {
        "message_id": _strings(f"m{spec.seed}-", idx),
        "trade_id": _strings(f"t{spec.seed}-", idx),
        "symbol": m.symbol_array(),
        "exchange": _pick(EXCHANGES, m.sym_exchange[m.sym]),
        "asset_class": _pick(ASSET_CLASSES, m.sym_asset[m.sym]),
        "timestamp": m.timestamps("us"),
        "price": _decimal_array(np.round(m.price * 1e8).astype(np.int64), 18, 8),
        "quantity": _decimal_array(qty, 18, 8),
        "currency": _pick(CURRENCIES, m.sym_currency[m.sym]),
        "side": _pick(SIDES, rng.choice(len(SIDES), n, p=[0.48, 0.48, 0.03, 0.01])),
        "trade_conditions": _conditions(rng, n),
        "source_sequence": _nullable(pa.array(idx + 1), rng.random(n) < spec.null_ratio),
        "ingestion_timestamp": m.timestamps("us", rng.exponential(2000, n).astype(np.int64)),
        "platform_sequence": _nullable(pa.array(idx + 1), rng.random(n) < spec.null_ratio),
        "vendor_data": _vendor(spec, rng, n),
    }


def _quote_v2(spec: WorkloadSpec, rng: np.random.Generator, m: _Market) -> dict[str, pa.Array]:
    n = m.rows
    spread = m.price * rng.uniform(1e-4, 1e-3, n)
    bid = np.round((m.price - spread / 2) * 1e8).astype(np.int64)
    ask = np.round((m.price + spread / 2) * 1e8).astype(np.int64)
    return {
        "message_id": _strings(f"q{spec.seed}-", np.arange(n, dtype=np.int64)),
        "symbol": m.symbol_array(),
        "exchange": _pick(EXCHANGES, m.sym_exchange[m.sym]),
        "asset_class": _pick(ASSET_CLASSES, m.sym_asset[m.sym]),
        "timestamp": m.timestamps("us"),
        "bid_price": _decimal_array(bid, 18, 8),
        "bid_quantity": _decimal_array(rng.integers(1, 10_000, n) * 10**8, 18, 8),
        "ask_price": _decimal_array(ask, 18, 8),
        "ask_quantity": _decimal_array(rng.integers(1, 10_000, n) * 10**8, 18, 8),
        "currency": _pick(CURRENCIES, m.sym_currency[m.sym]),
        "ingestion_timestamp": m.timestamps("us", rng.exponential(2000, n).astype(np.int64)),
    }


_BUILDERS = {"v1": _v1, "v2": _v2, "quote_v2": _quote_v2}


def _edge_rows(spec: WorkloadSpec, count: int) -> pa.Table:
    """Edge-case rows from the values the Hypothesis edge-case strategies draw from, picked
    with a seeded generator: a Hypothesis draw, even under ``@seed``, depends on the modules
    a process has loaded, so it cannot promise the same rows in every process."""
    return records_to_arrow(edge_case_rows(spec.schema, count, spec.seed), spec.schema)


def generate_table(spec: WorkloadSpec) -> pa.Table:
    """The Arrow table of ``spec``: deterministic for the spec, schema ``arrow_schema``."""
    rng = np.random.default_rng(spec.seed)
    edge = 0
    if spec.edge_case_fraction > 0 and spec.schema in TRADE_SCHEMAS:
        edge = min(spec.rows, round(spec.rows * spec.edge_case_fraction))
    bulk_rows = spec.rows - edge
    market = _Market(spec, rng, bulk_rows)
    columns = _BUILDERS[spec.schema](spec, rng, market)
    table = pa.Table.from_pydict(columns, schema=arrow_schema(spec.schema))
    if edge:
        table = pa.concat_tables([table, _edge_rows(spec, edge)])
        order = rng.permutation(spec.rows)
        table = table.take(pa.array(order))
    return table


def generate_records(spec: WorkloadSpec) -> list[dict[str, Any]]:
    """The rows of ``spec`` as K2 dict records (datetime, Decimal, list, dict or None)."""
    return arrow_to_records(generate_table(spec))
