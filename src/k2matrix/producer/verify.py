"""Read a topic back and check it holds exactly what was produced.

A separate consumer (its own connection, through the bootstrap servers) reads every
partition from the beginning; each value's schema id is looked up in the registry and the
body decoded by fastavro (an independent Avro reader, not our encoder); the decoded records
must equal the produced ones as a multiset, keys included.

For very large cells a sample is verified instead (the verdict says so): the first ``sample``
messages read back must each decode to one of the produced records; the count rests on the
broker's acknowledgements (delivered == produced). Two reasons: librdkafka's mock cluster
keeps only about 5 MB per partition (older batches are dropped, measured here: of 250,000 V2
trades on 4 partitions, 243,460 remained), and Tansu 0.6's high watermarks lag the last
batch, so neither a full read nor the watermarks can count a million messages.
"""

from __future__ import annotations

import datetime as dt
import io
import time
from collections import Counter
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass
from functools import cache
from typing import Any

import fastavro
from confluent_kafka import Consumer, KafkaException, TopicPartition
from confluent_kafka.schema_registry import SchemaRegistryClient

from k2matrix.avro.primitives import split_confluent
from k2matrix.backends.kafka import KafkaCluster
from k2matrix.backends.registry import writer_schema
from k2matrix.errors import BackendError, VerificationError
from k2matrix.schemas import get_schema

Record = Mapping[str, Any]
OFFSET_BEGINNING = -2


@dataclass(frozen=True)
class Verification:
    messages: int
    decoded: int
    sampled: bool

    def describe(self) -> str:
        if self.sampled:
            return (f"delivered==produced ({self.messages}), 0 errors; sample: the first "
                    f"{self.decoded} messages read back and decoded equal to produced ones")
        return (f"delivered==produced ({self.messages}), 0 errors; read back and decoded "
                f"all {self.decoded} equal")


def _utc(value: Any) -> Any:
    if isinstance(value, dt.datetime):
        return value.replace(tzinfo=dt.UTC) if value.tzinfo is None else (
            value.astimezone(dt.UTC))
    return value


def _utc_ms(value: Any) -> Any:
    value = _utc(value)
    if isinstance(value, dt.datetime):
        return value.replace(microsecond=value.microsecond // 1000 * 1000)
    return value


def _sequence(value: Any) -> Any:
    return tuple(value) if isinstance(value, list | tuple) else value


def _mapping(value: Any) -> Any:
    return tuple(sorted(value.items())) if isinstance(value, dict) else value


_NORMALIZERS: dict[str, Callable[[Any], Any]] = {
    "timestamp_us": _utc, "timestamp_ms": _utc_ms, "strings": _sequence, "map": _mapping,
}


@cache
def _normalizers(schema_name: str) -> tuple[tuple[str, Callable[[Any], Any] | None], ...]:
    return tuple((f.name, _NORMALIZERS.get(f.kind)) for f in get_schema(schema_name).fields)


def normalize(record: Record, schema_name: str) -> tuple[Hashable, ...]:
    """A hashable, canonical form of a K2 record as Avro carries it (millisecond
    timestamps truncated, naive datetimes read as UTC; decimals compare by value)."""
    get = record.get
    return tuple(get(name) if fn is None else fn(get(name))
                 for name, fn in _normalizers(schema_name))


def end_offsets(cluster: KafkaCluster, topic: str, timeout: float = 10.0) -> dict[int, int]:
    """The high watermark of each partition of ``topic`` (``{}``: no such topic yet), where
    a producer that writes to a topic of its own starts the cell's messages."""
    consumer = Consumer(cluster.consumer_config())
    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
        tmeta = metadata.topics.get(topic)
        if tmeta is None or tmeta.error is not None:
            return {}
        return {p: consumer.get_watermark_offsets(TopicPartition(topic, p), timeout)[1]
                for p in sorted(tmeta.partitions)}
    except KafkaException as exc:
        raise BackendError(f"no offsets for {topic}: {exc}") from None
    finally:
        consumer.close()


def read_topic(cluster: KafkaCluster, topic: str, count: int, timeout: float = 60.0,
               settle: float = 0.3, start: dict[int, int] | None = None
               ) -> list[tuple[bytes | None, bytes]]:
    """Every message of ``topic`` (from the offsets ``start``, else the beginning) as (key,
    value): reads until ``count`` arrived, then ``settle`` seconds more so that messages
    beyond ``count`` are seen too."""
    consumer = Consumer(cluster.consumer_config())
    start = start or {}
    try:
        partitions = _partitions(consumer, topic, timeout)
        consumer.assign([TopicPartition(topic, p, start.get(p, OFFSET_BEGINNING))
                         for p in partitions])
        out: list[tuple[bytes | None, bytes]] = []
        deadline = time.monotonic() + timeout
        while len(out) < count:
            if time.monotonic() > deadline:
                raise VerificationError(f"read back only {len(out)} of {count} messages from "
                                        f"{topic} within {timeout:g} s")
            _consume_into(consumer, out, 10_000, 0.5, topic)
        settled = time.monotonic() + settle
        while time.monotonic() < settled:
            _consume_into(consumer, out, 10_000, settle, topic)
        return out
    finally:
        consumer.close()


def _consume_into(consumer: Consumer, out: list[tuple[bytes | None, bytes]], n: int,
                  timeout: float, topic: str) -> None:
    for msg in consumer.consume(n, timeout):
        if msg.error() is not None:
            raise BackendError(f"reading {topic} back: {msg.error()}")
        out.append((msg.key(), msg.value() or b""))


def _partitions(consumer: Consumer, topic: str, timeout: float) -> list[int]:
    try:
        metadata = consumer.list_topics(topic, timeout=timeout)
    except KafkaException as exc:
        raise BackendError(f"no metadata for {topic}: {exc}") from None
    tmeta = metadata.topics.get(topic)
    if tmeta is None or tmeta.error is not None or not tmeta.partitions:
        raise VerificationError(f"topic {topic} does not exist on the cluster")
    return sorted(tmeta.partitions)


class WireDecoder:
    """Decode Confluent wire-format values with the writer schema from the registry."""

    def __init__(self, registry: SchemaRegistryClient) -> None:
        self.registry = registry
        self._schemas: dict[int, Any] = {}

    def __call__(self, value: bytes) -> dict[str, Any]:
        schema_id, body = split_confluent(value)
        parsed = self._schemas.get(schema_id)
        if parsed is None:
            parsed = fastavro.parse_schema(writer_schema(self.registry, schema_id))
            self._schemas[schema_id] = parsed
        buf = io.BytesIO(body)
        record: dict[str, Any] = fastavro.schemaless_reader(buf, parsed, None)  # type: ignore[assignment]
        if buf.tell() != len(body):
            raise VerificationError(f"{len(body) - buf.tell()} trailing bytes after a record")
        return record


def verify_topic(
    cluster: KafkaCluster,
    registry: SchemaRegistryClient,
    topic: str,
    schema_name: str,
    records: Sequence[Record],
    copies: int = 1,
    extra: Sequence[Record] = (),
    sample: int | None = None,
    timeout: float = 60.0,
    start: dict[int, int] | None = None,
) -> Verification:
    """Check that ``topic`` holds ``records`` exactly ``copies`` times plus ``extra``
    (warm-up messages), each keyed by its symbol. With ``sample`` (below the total), only the
    first ``sample`` messages read are decoded, each must be one of the produced records."""
    expected_total = len(records) * copies + len(extra)
    decode = WireDecoder(registry)
    if sample is not None and sample < expected_total:
        known = {normalize(r, schema_name) for r in (*records, *extra)}
        got = read_topic(cluster, topic, sample, timeout, settle=0.0, start=start)[:sample]
        for i, (key, value) in enumerate(got):
            _check_one(i, key, decode(value), schema_name, known)
        return Verification(messages=expected_total, decoded=len(got), sampled=True)
    got = read_topic(cluster, topic, expected_total, timeout, start=start)
    if len(got) != expected_total:
        raise VerificationError(f"{topic} holds {len(got)} messages, {expected_total} were "
                                "produced")

    expected: Counter[tuple[Hashable, ...]] = Counter()
    for r in records:
        expected[normalize(r, schema_name)] += copies
    for r in extra:
        expected[normalize(r, schema_name)] += 1
    seen: Counter[tuple[Hashable, ...]] = Counter()
    for i, (key, value) in enumerate(got):
        seen[_check_one(i, key, decode(value), schema_name, None)] += 1
    if seen != expected:
        missing = sum((expected - seen).values())
        unexpected = sum((seen - expected).values())
        raise VerificationError(f"{topic}: {missing} produced records not read back, "
                                f"{unexpected} read back that were not produced")
    return Verification(messages=expected_total, decoded=len(got), sampled=False)


def _check_one(i: int, key: bytes | None, decoded: dict[str, Any], schema_name: str,
               known: set[tuple[Hashable, ...]] | None) -> tuple[Hashable, ...]:
    form = normalize(decoded, schema_name)
    symbol = decoded.get("symbol")
    if key is None or key.decode() != symbol:
        raise VerificationError(f"message {i}: key {key!r} is not the symbol {symbol!r}")
    if known is not None and form not in known:
        raise VerificationError(f"message {i} decodes to a record that was not produced: "
                                f"{decoded!r}")
    return form
