"""What the producer suite measures besides the timed call: the raw ceiling, paced
sending, memory per message, and the ``extra_info`` the summary reads; plus a comparison
of the serializers from the command line::

    python -m k2matrix.components.producer_bench --schema v2 --messages 100000
"""

from __future__ import annotations

import gc
import time
import tracemalloc
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path
from statistics import median
from typing import Any

from k2matrix.backends.config import Backends
from k2matrix.components.producer import K2Producer, Record
from k2matrix.components.producer_delivery import DeliveryReport

SPIN_BELOW_S = 0.0002  # closer than this to a send time: send now rather than sleep
POLL_ABOVE_S = 0.002  # further than this from a send time: wait inside poll()


def timed(run: Callable[[], object]) -> float:
    start = time.perf_counter()
    run()
    return time.perf_counter() - start


def measure_ceiling(producer: K2Producer, values: Sequence[bytes],
                    keys: Sequence[str | bytes | None], rounds: int = 3) -> float:
    """msg/s of producing already-serialized ``values`` (and flushing) with the same
    producer and configuration, to a topic of its own; the median of ``rounds``."""
    topic = producer.cluster.topic_name(f"{producer.topic}.ceiling")
    producer.cluster.create_topic(topic)
    producer.produce_payloads(values[:1], keys[:1], topic)  # metadata and leaders first
    producer.flush()
    seconds = []
    for _ in range(rounds):
        producer.reset()
        seconds.append(timed(lambda: (producer.produce_payloads(values, keys, topic),
                                      producer.flush())))
    producer.reset()
    return len(values) / median(seconds)


def produce_paced(producer: K2Producer, records: Sequence[Record], rate: float) -> float:
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
    return len(records) / (time.perf_counter() - start)


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


def measure_memory(producer: K2Producer, records: Sequence[Record], total: int,
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
               ceiling: float | None = None, verified: str = "",
               **more: Any) -> dict[str, Any]:
    """The suite's ``extra_info``: items per round, throughput, MB/s, latency percentiles,
    ceiling and efficiency."""
    throughput = items / seconds if seconds > 0 else 0.0
    bytes_per_msg = report.bytes / report.produced if report.produced else 0.0
    info: dict[str, Any] = {
        "items": items,
        "unit": "msg/s",
        "messages": report.produced,
        "bytes": report.bytes,
        "throughput": round(throughput, 1),
        "mb_per_s": round(throughput * bytes_per_msg / 1e6, 3),
        **report.latency.as_extra_info(),
    }
    if ceiling:
        info["ceiling_throughput"] = round(ceiling, 1)
        info["efficiency"] = round(throughput / ceiling, 4)
    if verified:
        info["verified"] = verified
    info.update(more)
    return info


# ---------------------------------------------------------------------------- comparison


def compare_serializers(schema: str = "v2", messages: int = 100_000, repeats: int = 3,
                        backends: Backends | None = None) -> list[tuple[str, float, float]]:
    """``(path, serialize-only records/s, serialized-and-delivered msg/s)`` for every
    serializer, the Arrow-table path and the raw ceiling (best of ``repeats``), on the
    backends of ``backends`` (default: the mock cluster and in-memory registry, with the
    ``K2_*`` environment applied)."""
    from k2matrix.backends.kafka import open_kafka
    from k2matrix.backends.registry import open_registry
    from k2matrix.components.producer_serializers import SERIALIZERS
    from k2matrix.generate import WorkloadSpec, generate_records, generate_table

    backends = (backends or Backends()).with_environment()
    spec = WorkloadSpec(schema=schema, rows=messages, seed=1)
    records, table = generate_records(spec), generate_table(spec)
    keys = [r["symbol"] for r in records]
    rows: list[tuple[str, float, float]] = []
    registry = open_registry(backends.schema_registry)
    with open_kafka(backends.kafka) as cluster:
        for kind in (*SERIALIZERS, "arrow-table", "ceiling"):
            serializer = "compiled" if kind in ("arrow-table", "ceiling") else kind
            with K2Producer(cluster, registry, schema, serializer=serializer) as producer:
                cluster.create_topic(producer.topic)
                producer.warm_up(records[0])
                producer.serialize_table(table.slice(0, 100))
                encode, send = _paths(kind, producer, records, table, keys)
                best_encode = best_send = 0.0
                for _ in range(repeats):
                    best_encode = max(best_encode, messages / timed(encode))
                    producer.reset()
                    best_send = max(best_send, messages / timed(send))
                rows.append((kind, best_encode, best_send))
    return rows


def _paths(kind: str, producer: K2Producer, records: Sequence[Record], table: Any,
           keys: Sequence[str]) -> tuple[Callable[[], object], Callable[[], object]]:
    """The serialize-only and the serialize-produce-flush call of one path."""
    if kind == "ceiling":
        values = producer.serializer.serialize_many(records)

        def encode() -> object:
            return values

        def send() -> object:
            producer.produce_payloads(values, keys)
            return producer.flush()
    elif kind == "arrow-table":
        def encode() -> object:
            return producer.serialize_table(table)

        def send() -> object:
            producer.produce_table(table)
            return producer.flush()
    else:
        def encode() -> object:
            return producer.serializer.serialize_many(records)

        def send() -> object:
            producer.produce_trades(records)
            return producer.flush()
    return encode, send


def main(argv: list[str] | None = None) -> int:
    import argparse
    import os

    parser = argparse.ArgumentParser(
        prog="python -m k2matrix.components.producer_bench",
        description="Compare the Avro serializers: serialize-only and serialized+delivered "
        "throughput (mock cluster by default; K2_KAFKA_BOOTSTRAP for a real broker).")
    parser.add_argument("--schema", default="v2", choices=("v1", "v2"))
    parser.add_argument("--messages", type=int, default=100_000)
    parser.add_argument("--repeats", type=int, default=3)
    args = parser.parse_args(argv)
    print(f"schema {args.schema}, {args.messages} messages, best of {args.repeats}, "
          f"load average {os.getloadavg()[0]:.1f}")
    print(f"{'path':12s} {'serialize rec/s':>16s} {'delivered msg/s':>16s}")
    for kind, encode, send in compare_serializers(args.schema, args.messages, args.repeats):
        shown = "(pre-serialized)" if kind == "ceiling" else f"{encode:16,.0f}"
        print(f"{kind:12s} {shown:>16s} {send:16,.0f}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
