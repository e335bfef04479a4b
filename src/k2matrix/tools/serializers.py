"""Compare the Avro serializers: serialize-only and serialized-and-delivered throughput of
each serializer, the Arrow-table path and the raw ceiling (pre-serialized values)::

    python -m k2matrix.tools.serializers --schema v2 --messages 100000

The mock cluster and the in-memory registry by default; ``K2_KAFKA_BOOTSTRAP`` for a real
broker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import Any

from k2matrix.backends.config import Backends
from k2matrix.producer.bench import timed
from k2matrix.producer.k2producer import K2Producer
from k2matrix.producer.protocol import Record


def compare_serializers(schema: str = "v2", messages: int = 100_000, repeats: int = 3,
                        backends: Backends | None = None) -> list[tuple[str, float, float]]:
    """``(path, serialize-only records/s, serialized-and-delivered msg/s)`` for every
    serializer, the Arrow-table path and the raw ceiling (best of ``repeats``), on the
    backends of ``backends`` (default: the mock cluster and in-memory registry, with the
    ``K2_*`` environment applied)."""
    from k2matrix.backends.kafka import open_kafka
    from k2matrix.backends.registry import open_registry
    from k2matrix.producer.serializers import SERIALIZERS
    from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table

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
        prog="python -m k2matrix.tools.serializers",
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
