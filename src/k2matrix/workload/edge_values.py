"""Edge values of the trade and quote fields, and edge-case rows picked from them with a
seeded RNG: the same rows for a seed in every process. No Hypothesis here: the generator
(:mod:`k2matrix.workload.generate`) mixes these rows into bulk data, and the strategies
(:mod:`k2matrix.workload.strategies`) draw from the same values.
"""

from __future__ import annotations

import copy
import random
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta
from decimal import Decimal
from functools import cache
from typing import Any

from k2matrix.schemas import SCHEMAS, Field, RecordSchema

INT32_MAX = 2**31 - 1
INT64_MAX = 2**63 - 1
EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
# Event times are drawn from the epoch up to this moment (exclusive), at the schema's unit.
LATEST = datetime(2100, 1, 1, tzinfo=UTC)
MAX_INGESTION_DELAY = timedelta(seconds=10)

# Fields whose long values stay in a realistic range (so sums of them cannot overflow int64).
LONG_MAX: dict[str, int] = {"volume": 10**12}

# Hand-picked edge values, per field name (strings) or per kind.
_NON_ASCII = ("東京証券取引所", "Zürich Börse", "Ελληνικό Χρηματιστήριο", "📈🚀", "Москва",
              "\u00a0nbsp\u200bzero-width", "O'Reilly \"quoted\" \\ back")
_EDGE_STRINGS: dict[str, tuple[str, ...]] = {
    "symbol": ("A", "BRK.B", "BTC-USD", "ES=F", "7203.T", "ZZZZZZZZZZZZZZZZ"),
    "exchange": ("X", "NASDAQ", "BINANCE", "XETRA-FRANKFURT"),
    "currency": ("USD", "USDT", "JPY", "BTC"),
    "message_id": ("00000000-0000-0000-0000-000000000000", "ffffffff-ffff-ffff-ffff-ffffffffffff"),
}
_DEFAULT_EDGE_STRINGS = ("", " ", *_NON_ASCII, "x" * 256)
_EDGE_MAPS: tuple[dict[str, str] | None, ...] = (
    None,
    {},
    {"venue_name": "東京証券取引所"},
    {"": ""},
    {"ключ": "значение", "emoji": "📈", "note": "Zürich"},
    {f"k{i}": "v" * i for i in range(20)},
)
_EDGE_LISTS: tuple[list[str], ...] = ([], [""], ["@", "@"], ["東", "F"], ["@", "F", "T", "I"] * 4)

def ticks_per_second(f: Field) -> int:
    return 1_000 if f.kind == "timestamp_ms" else 1_000_000


def to_datetime(ticks: int, per_second: int) -> datetime:
    return EPOCH + timedelta(microseconds=ticks * (1_000_000 // per_second))


def latest_tick(f: Field) -> int:
    return int((LATEST - EPOCH).total_seconds()) * ticks_per_second(f) - 1


@cache
def edge_ticks(f: Field) -> tuple[int, ...]:
    """Edge event times of a timestamp field, in ticks of its unit since the epoch."""
    per_s = ticks_per_second(f)
    moments = (EPOCH, datetime(2000, 2, 29, 23, 59, 59, tzinfo=UTC),
               datetime(2026, 1, 5, 14, 30, tzinfo=UTC))
    return (
        *(int((m - EPOCH).total_seconds()) * per_s for m in moments),
        (2**31 - 1) * per_s + per_s - 1,  # the last tick of 32-bit epoch seconds (2038)
        latest_tick(f),
    )


@cache
def edge_values(f: Field) -> tuple[Any, ...]:
    """The edge values of a non-timestamp field, the extremes first (Hypothesis draws early
    choices more often). Lists and dicts are shared: copy before handing them out."""
    if f.kind == "decimal":
        top = 10**f.precision - 1  # the largest unscaled value: every digit used
        return tuple(Decimal(n).scaleb(-f.scale) for n in (
            top,                          # huge: just under 10^(precision - scale)
            1,                            # tiny: 1e-scale
            int("123456789012345678"[: f.precision]),  # maximum precision, varied digits
            10**f.scale,                  # exactly one
            10**f.scale + 1,              # one plus the smallest step: full scale
            top - (10**f.scale - 1),      # the largest whole number
        ))
    if f.kind == "int":
        return (INT32_MAX, 0)
    if f.kind == "long":
        return (LONG_MAX.get(f.name, INT64_MAX), 0)
    if f.kind == "enum":
        return (f.symbols[0], f.symbols[-1])
    if f.kind == "strings":
        return _EDGE_LISTS
    if f.kind == "map":
        return _EDGE_MAPS  # None included
    if f.kind == "string":
        return _EDGE_STRINGS.get(f.name, _DEFAULT_EDGE_STRINGS)
    raise AssertionError(f"no edge values for {f.kind}")  # pragma: no cover - Kind is closed


def check_schema(name: object, allowed: Sequence[str], argument: str = "schema",
            hint: str = "") -> RecordSchema:
    if not isinstance(name, str) or name not in allowed:
        raise ValueError(f"{argument}={name!r}: unknown schema; use one of "
                         f"{', '.join(map(repr, allowed))}{hint}")
    return SCHEMAS[name]


def order_quote(record: dict[str, Any]) -> dict[str, Any]:
    """A quote's ask is at or above its bid (a locked market, bid == ask, is an edge case)."""
    if record["ask_price"] < record["bid_price"]:
        record["bid_price"], record["ask_price"] = record["ask_price"], record["bid_price"]
    return record


_PLAIN_STRINGS: dict[str, tuple[str, ...]] = {
    "symbol": ("AAPL", "BHP", "BTC-USD"), "exchange": ("NASDAQ", "ASX", "BINANCE"),
    "currency": ("USD", "AUD", "USDT"),
}
_PLAIN_START = datetime(2026, 1, 5, 14, 30, tzinfo=UTC)


def _plain(f: Field, rng: random.Random) -> Any:
    """An ordinary value for the fields of an edge-case row that hold no edge value."""
    if f.nullable and rng.random() < 0.1:
        return None
    if f.kind == "decimal":
        return Decimal(rng.randrange(max(1, 10**f.scale // 100), 10 ** (f.scale + 5))).scaleb(
            -f.scale)
    if f.kind in ("int", "long"):
        return rng.randrange(0, 1_000_000)
    if f.kind == "enum":
        return rng.choice(f.symbols)
    if f.kind == "strings":
        return rng.sample(["@", "F", "T", "I"], rng.randrange(0, 3))
    if f.kind == "map":
        return {"feed": rng.choice(("primary", "backup"))}
    if f.name == "message_id":
        return str(uuid.UUID(int=rng.getrandbits(128), version=4))
    return rng.choice(_PLAIN_STRINGS.get(f.name, ("plain", "LIT", "B1")))


def edge_case_rows(schema: str, count: int, seed: int) -> list[dict[str, Any]]:
    """``count`` edge-case records of ``schema`` (the values :func:`edge_case_records` draws
    from), identical for the same seed in every process.

    For bulk data: a Hypothesis draw, even under ``@seed``, depends on the constants of the
    modules the process has loaded, so it cannot promise the same rows in two processes."""
    rs = check_schema(schema, list(SCHEMAS))
    check_size("count", count, 0, 10**8)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed={seed!r}: must be a non-negative integer")
    rng = random.Random(seed)
    rows = []
    for _ in range(count):
        edge = {n for n in rs.names if rng.random() < 0.5} or {rng.choice(rs.names)}
        record: dict[str, Any] = {}
        event: int | None = None
        for f in rs.fields:
            if f.kind in ("timestamp_ms", "timestamp_us"):
                per_s = ticks_per_second(f)
                if event is None:
                    start = int((_PLAIN_START - EPOCH).total_seconds()) * per_s
                    event = (rng.choice(edge_ticks(f)) if f.name in edge
                             else start + rng.randrange(0, 6 * 3600 * per_s))
                    ticks = event
                else:
                    delay = int(MAX_INGESTION_DELAY.total_seconds()) * per_s
                    ticks = event + (0 if f.name in edge else rng.randrange(0, delay + 1))
                record[f.name] = to_datetime(ticks, per_s)
            elif f.name in edge:
                choices = edge_values(f)
                if f.nullable and f.kind != "map":
                    choices = (None, *choices)
                record[f.name] = copy.copy(rng.choice(choices))
            else:
                record[f.name] = _plain(f, rng)
        rows.append(order_quote(record) if rs.name == "quote_v2" else record)
    return rows


def check_size(name: str, value: object, minimum: int, maximum: int) -> int:
    if isinstance(value, bool) or not isinstance(value, int) or not minimum <= value <= maximum:
        raise ValueError(f"{name}={value!r}: must be an integer from {minimum} to {maximum}; "
                         "for more rows draw a seed with workload_specs() and expand it with "
                         "k2matrix.workload.generate")
    return value
