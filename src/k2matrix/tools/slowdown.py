"""A known slowdown to inject, for measuring k2matrix's own comparisons: the built-in
producer, writer and DuckDB engines with extra CPU work added to their timed calls.

Each class here is the built-in implementation with its timed calls wrapped: after the call
returns, the wrapper adds ``fraction`` times the call's own work, so the call costs
``1 + fraction`` times as much:

- timed by a clock (``--clock wall`` or ``cpu``), it spins the CPU for ``fraction`` times
  the call's own wall time, whatever the machine's speed at that moment;
- counted (``--clock instructions``), it reads the call's own instruction count
  (:meth:`k2matrix.counting.callgrind.InstructionClock.lap`) and runs a loop of
  ``fraction`` times as many instructions: deterministic extra work, the same in every
  process (the loop's cost per turn is measured once per process, outside the count).

The fraction comes from the environment, per component::

    K2_SLOWDOWN="writer=0.10"              # the writer's calls 10% slower
    K2_SLOWDOWN="producer=0.05,query=0.05"

Without ``K2_SLOWDOWN`` (or for a component it does not name) they behave as the built-ins.
Plug them in by import path, on both sides of an A/B, and slow one side through the
environment::

    SLOW=set:components.writer.impl=k2matrix.tools.slowdown:SlowWriter
    k2matrix ab --baseline "$SLOW" --candidate "$SLOW+env:K2_SLOWDOWN=writer=0.10"

Wrapped: the producer's ``produce_trade``, ``produce_trades`` and ``flush``; the writer's
``write_arrow`` and ``write_trades``; an engine's ``run``. A call made from inside another
wrapped call is not slowed twice. Cells that do not go through the implementation (the
serializer-cache and Arrow-conversion cells) are unaffected; the paced-latency cell keeps
its pace (its round time is set by the rate).
"""

from __future__ import annotations

import itertools
import os
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from k2matrix.counting import callgrind
from k2matrix.errors import K2Error
from k2matrix.producer.delivery import DeliveryReport
from k2matrix.producer.k2producer import K2Producer
from k2matrix.query.duckdb_engines import DuckDBIcebergScanEngine, DuckDBParquetEngine
from k2matrix.query.protocol import QueryResult
from k2matrix.writer.iceberg import IcebergWriter

VARIABLE = "K2_SLOWDOWN"
COMPONENTS = ("producer", "writer", "query")
T = TypeVar("T")
_depth = threading.local()
clock = time.perf_counter  # what slowed() measures a call with


def fractions(text: str | None = None) -> dict[str, float]:
    """``"writer=0.10,query=0.05"`` -> ``{"writer": 0.1, "query": 0.05}`` (K2Error naming
    the problem otherwise)."""
    text = os.environ.get(VARIABLE, "") if text is None else text
    out: dict[str, float] = {}
    for item in (i.strip() for i in text.split(",") if i.strip()):
        name, _, value = item.partition("=")
        try:
            fraction = float(value)
        except ValueError:
            fraction = -1.0
        if name not in COMPONENTS or not 0.0 <= fraction <= 10.0:
            raise K2Error(f"{VARIABLE}={text!r}: {item!r} must be COMPONENT=FRACTION with "
                          f"COMPONENT one of {', '.join(COMPONENTS)} and FRACTION from 0 to "
                          "10, e.g. writer=0.10")
        out[name] = fraction
    return out


def spin(seconds: float) -> None:
    """Busy CPU work for ``seconds`` of wall time."""
    end = time.perf_counter() + seconds
    while time.perf_counter() < end:
        pass


def work(turns: int) -> int:
    """Deterministic CPU work: ``turns`` turns of a loop of constant cost per turn (no
    allocation in it: small integers are cached, so the heap's state cannot change the
    cost of a turn)."""
    total = 0
    for _ in itertools.repeat(None, turns):
        total = (total + 7) & 0x7F
    return total


_CALIBRATION_TURNS = 20_000
_per_turn: list[float] = []  # instructions per turn of work(), measured once per process


def extra_work(counter: callgrind.InstructionClock, instructions: int) -> None:
    """About ``instructions`` more instructions, counted in the region."""
    if not _per_turn:
        counter.lap()  # the region so far stays counted; the calibration does not
        work(_CALIBRATION_TURNS)
        _per_turn.append(counter.lap(keep=False) / _CALIBRATION_TURNS)
    work(round(instructions / _per_turn[0]))


def slowed(component: str, call: Callable[[], T]) -> T:
    """Run ``call``; then add the component's fraction of its work (outermost call): its
    instructions when counted, else its time. With no fraction for the component it is the
    plain call (no lap: callgrind's dumps are not free)."""
    depth = getattr(_depth, "value", 0)
    fraction = fractions().get(component, 0.0) if depth == 0 else 0.0
    counter = callgrind.ACTIVE
    counting = fraction > 0 and counter is not None and counter.counting
    if counting and counter is not None:
        counter.lap()
    _depth.value = depth + 1
    started = clock()
    try:
        return call()
    finally:
        _depth.value = depth
        if counting and counter is not None:
            extra_work(counter, int(counter.lap() * fraction))
        elif fraction:
            spin((clock() - started) * fraction)


class SlowProducer(K2Producer):
    """The built-in producer, its timed calls slowed by ``K2_SLOWDOWN``'s ``producer``."""

    def produce_trade(self, record: Any) -> None:
        slowed("producer", lambda: super(SlowProducer, self).produce_trade(record))

    def produce_trades(self, records: Any) -> int:
        return slowed("producer", lambda: super(SlowProducer, self).produce_trades(records))

    def flush(self, timeout: float | None = None, check: bool = True) -> DeliveryReport:
        return slowed("producer", lambda: super(SlowProducer, self).flush(timeout, check))


class SlowWriter(IcebergWriter):
    """The built-in writer, its appends slowed by ``K2_SLOWDOWN``'s ``writer``."""

    def write_trades(self, records: Any, table_name: str) -> int:
        return slowed("writer",
                      lambda: super(SlowWriter, self).write_trades(records, table_name))

    def write_arrow(self, table: Any, table_name: str, *,
                    snapshot_properties: Mapping[str, str] | None = None) -> int:
        return slowed("writer", lambda: super(SlowWriter, self).write_arrow(
            table, table_name, snapshot_properties=snapshot_properties))


class SlowIcebergScan(DuckDBIcebergScanEngine):
    """DuckDB ``iceberg_scan``, its queries slowed by ``K2_SLOWDOWN``'s ``query``."""

    def run(self, query: str, params: Any = None) -> QueryResult:
        return slowed("query", lambda: super(SlowIcebergScan, self).run(query, params))


class SlowParquet(DuckDBParquetEngine):
    """DuckDB ``read_parquet`` on planned files, its queries slowed likewise."""

    def run(self, query: str, params: Any = None) -> QueryResult:
        return slowed("query", lambda: super(SlowParquet, self).run(query, params))
