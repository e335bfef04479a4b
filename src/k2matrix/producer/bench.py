"""What the producer suite measures besides the timed call: the raw ceiling, paced
sending, memory per message, and the ``extra_info`` the summary reads. (The serializer
comparison on the command line is :mod:`k2matrix.tools.serializers`.)"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from k2matrix.producer.delivery import DeliveryReport
from k2matrix.producer.protocol import BatchProducer, PacedProducer, PayloadProducer, Record
from k2matrix.stats import paired_ceiling_info, throughput

SPIN_BELOW_S = 0.0002  # closer than this to a send time: send now rather than sleep
POLL_ABOVE_S = 0.002  # further than this from a send time: wait inside poll()


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


class RawReference:
    """The raw ceiling measured beside the cell, round by round: a second producer of the
    same implementation and configuration produces the cell's already-serialized values
    (and flushes) to a topic of its own. :meth:`round` runs one reference round; the suite
    calls it before each of the cell's rounds (the benchmark's untimed setup), so the
    efficiency pairs each round with the reference that ran just before it."""

    def __init__(self, producer: PayloadProducer, values: Sequence[bytes],
                 keys: Sequence[str | bytes | None],
                 ready: Callable[[], None] | None = None) -> None:
        self.producer = producer
        self.values = values
        self.keys = keys
        self.seconds: list[float] = []
        self._ready = ready  # waits for a warm-up running beside the cell's own
        self._prepared = False

    def round(self) -> None:
        if not self._prepared:
            if self._ready is not None:
                self._ready()
            self.producer.produce_payloads(self.values[:1], self.keys[:1])  # leaders first
            self.producer.flush()
            self._prepared = True
        self.producer.reset()
        self.seconds.append(timed(lambda: (self.producer.produce_payloads(self.values,
                                                                          self.keys),
                                           self.producer.flush())))


def produce_paced(producer: PacedProducer, records: Sequence[Record], rate: float) -> float:
    """Produce ``records`` one by one at ``rate`` msg/s, each at its scheduled time; returns
    the achieved rate.

    While waiting for the next send time the producer serves delivery reports (``poll``),
    so that a message's latency, which librdkafka counts up to the moment the application
    receives its report, is not inflated by reports left waiting in the queue."""
    interval = 1.0 / rate
    poll = producer.poll
    start = time.perf_counter()
    for i, record in enumerate(records):
        poll(0)
        delay = start + i * interval - time.perf_counter()
        if delay > POLL_ABOVE_S:
            poll(delay - POLL_ABOVE_S / 2)  # millisecond resolution: wake a little early
            delay = start + i * interval - time.perf_counter()
        if delay > SPIN_BELOW_S:
            time.sleep(delay)
        producer.produce_trade(record)
    return throughput(len(records), time.perf_counter() - start)


def rss_bytes() -> int:
    """Resident set size of this process (Linux /proc; 0 elsewhere)."""
    try:
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) * 1024
    except OSError:
        pass
    return 0


@dataclass(frozen=True)
class MemoryFootprint:
    messages: int
    python_peak_bytes: int
    rss_growth_bytes: int

    def extra_info(self) -> dict[str, Any]:
        return {
            "memory_messages": self.messages,
            "python_peak_bytes": self.python_peak_bytes,
            "rss_growth_bytes": self.rss_growth_bytes,
            "python_peak_bytes_per_msg": round(self.python_peak_bytes / self.messages, 2),
            "rss_growth_bytes_per_msg": round(self.rss_growth_bytes / self.messages, 2),
        }


def measure_memory(producer: BatchProducer, records: Sequence[Record], total: int,
                   trace: bool = True) -> MemoryFootprint:
    """Produce ``total`` messages (``records`` repeated) and flush, tracking the Python
    heap peak (tracemalloc) and the RSS growth (sampled every chunk; it includes
    librdkafka's queues and, with the mock cluster, the in-process brokers' logs)."""
    gc.collect()
    base_rss = peak_rss = rss_bytes()
    if trace:
        tracemalloc.start()
        tracemalloc.reset_peak()
    try:
        sent = 0
        while sent < total:
            chunk = records[: min(len(records), total - sent)]
            sent += producer.produce_trades(chunk)
            peak_rss = max(peak_rss, rss_bytes())
        producer.flush()
        peak_rss = max(peak_rss, rss_bytes())
        python_peak = tracemalloc.get_traced_memory()[1] if trace else 0
    finally:
        if trace:
            tracemalloc.stop()
    return MemoryFootprint(messages=total, python_peak_bytes=python_peak,
                           rss_growth_bytes=max(0, peak_rss - base_rss))


def extra_info(report: DeliveryReport, items: int, seconds: float,
               reference: RawReference | None = None, rounds: Sequence[float] = (),
               verified: str = "", **more: Any) -> dict[str, Any]:
    """The suite's ``extra_info``: items per round, throughput, MB/s, latency percentiles,
    and with a ``reference`` the efficiency of the cell's ``rounds`` against it and the
    ceiling it implies (:func:`k2matrix.stats.paired_ceiling_info`)."""
    measured = throughput(items, seconds)
    bytes_per_msg = report.bytes / report.produced if report.produced else 0.0
    info: dict[str, Any] = {
        "items": items,
        "unit": "msg/s",
        "messages": report.produced,
        "bytes": report.bytes,
        "throughput": round(measured, 1),
        "mb_per_s": round(measured * bytes_per_msg / 1e6, 3),
        **report.latency.as_extra_info(),
    }
    if reference is not None and rounds:
        paired = paired_ceiling_info(items, rounds, reference.seconds)
        if "efficiency" in paired:
            info["efficiency"] = paired["efficiency"]
            info["ceiling_throughput"] = round(measured / paired["efficiency"], 1)
    if verified:
        info["verified"] = verified
    info.update(more)
    return info
