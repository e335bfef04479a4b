"""The K2 producer: Avro trades, keyed by symbol, through confluent-kafka to a real broker.

The K2 API shape: ``produce_trade(record)`` and ``flush()``, for the V1 and V2 schemas,
plus ``produce_trades(records)`` for batches of dict records and ``produce_table(table)``
for Arrow batches (serialized column-wise, the fastest path). Values are in the Confluent
wire format (magic byte, schema id, Avro body) so any consumer with the registry can read
them. Every message ends acknowledged or reported failed (:class:`DeliveryTracker`);
``flush`` raises a BackendError with the count of unacknowledged messages when the broker
stops answering.

The client's own statistics count what it sent (Produce requests, batches, bytes; see
:mod:`k2matrix.producer.kafka_stats`) into the process counters; :meth:`settle_counts` gives
this producer's exact totals outside a timed call.

A user plugs in another implementation by satisfying :class:`TradeProducer`.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from types import TracebackType
from typing import Any

import pyarrow as pa
from confluent_kafka import KafkaException, Producer
from confluent_kafka.schema_registry import SchemaRegistryClient

from k2matrix.avro.arrow import ArrowEncoder
from k2matrix.avro.primitives import confluent_header
from k2matrix.backends.config import ProducerSettings
from k2matrix.backends.kafka import KafkaCluster
from k2matrix.errors import BackendError, WorkloadError
from k2matrix.producer.delivery import DeliveryReport, DeliveryTracker
from k2matrix.producer.kafka_stats import DEFAULT_INTERVAL_MS, KafkaStats
from k2matrix.producer.protocol import Record
from k2matrix.producer.serializers import Serializer, SerializerCache

CHUNK = 1024  # records serialized per step of produce_trades; delivery reports polled as often
DEFAULT_FLUSH_TIMEOUT_S = 30.0


class K2Producer:
    """Produce K2 trade records of one schema to one topic.

    ``serializer`` is a kind from :data:`~k2matrix.producer.serializers.SERIALIZERS`
    (``compiled`` by default) or a ready :class:`Serializer`. ``overrides`` are extra
    librdkafka producer properties (``linger_ms=0``, or ``**{"linger.ms": 0}``).
    ``stats_interval_ms`` is the statistics interval of the counters (0: none).
    """

    def __init__(
        self,
        cluster: KafkaCluster,
        registry: SchemaRegistryClient,
        schema: str,
        topic: str | None = None,
        *,
        serializer: str | Serializer = "compiled",
        settings: ProducerSettings | None = None,
        cache: SerializerCache | None = None,
        flush_timeout: float = DEFAULT_FLUSH_TIMEOUT_S,
        record_latency: bool = True,
        stats_interval_ms: int = DEFAULT_INTERVAL_MS,
        **overrides: Any,
    ) -> None:
        self.cluster = cluster
        self.registry = registry
        self.schema = schema
        self.topic = topic or cluster.topic_name(f"trades-{schema}")
        self.flush_timeout = flush_timeout
        self.tracker = DeliveryTracker(record_latency=record_latency)
        if isinstance(serializer, str):
            self.serializer = (cache or SerializerCache()).get(serializer, registry, self.topic,
                                                               schema)
        else:
            self.serializer = serializer
        conf = cluster.producer_config(settings, **overrides)
        conf["on_delivery"] = self.tracker.on_delivery
        conf["error_cb"] = self.tracker.on_error
        self.stats = KafkaStats(stats_interval_ms) if stats_interval_ms > 0 else None
        if self.stats is not None and "stats_cb" not in conf:
            conf.update(self.stats.config())
        try:
            self._producer = Producer(conf)
        except KafkaException as exc:
            raise BackendError(f"cannot configure a producer for {cluster.bootstrap_servers}: "
                               f"{exc}") from None
        self._closed = False
        self._arrow: ArrowEncoder | None = None

    # ------------------------------------------------------------------ K2 API

    def produce_trade(self, record: Record) -> None:
        """Serialize one trade and hand it to the client, keyed by its symbol."""
        value = self.serializer.serialize(record)
        self._send_all((value,), (_key(record, 0),), self.topic)

    def produce_trades(self, records: Sequence[Record]) -> int:
        """Serialize and produce ``records`` in chunks; returns how many were produced."""
        produced = 0
        step = getattr(self.serializer, "batch_rows", CHUNK)
        for start in range(0, len(records), step):
            chunk = records[start:start + step]
            try:
                values = self.serializer.serialize_many(chunk)
            except WorkloadError as exc:
                if start == 0:
                    raise
                raise WorkloadError(f"records[{start}:{start + len(chunk)}]: {exc}") from None
            keys = [r["symbol"] for r in chunk]  # present and a str: the serializer checked
            produced += self._send_all(values, keys, self.topic)
        return produced

    def produce_table(self, table: pa.Table, chunk_rows: int = 8192) -> int:
        """Serialize an Arrow table of the schema column-wise (numpy) and produce its rows,
        keyed by symbol; returns how many were produced."""
        produced = 0
        for start in range(0, table.num_rows, chunk_rows):
            part = table.slice(start, chunk_rows)
            values = self.serialize_table(part)
            keys = part.column("symbol").to_pylist()
            produced += self._send_all(values, keys, self.topic)
        return produced

    def serialize_table(self, table: pa.Table) -> list[bytes]:
        """The wire-format values of an Arrow table's rows (column-wise, numpy)."""
        return self._arrow_encoder().encode_table(table)

    def produce_payloads(self, values: Sequence[bytes], keys: Sequence[str | bytes | None],
                         topic: str | None = None) -> int:
        """Produce already-serialized values (the raw ceiling), same accounting."""
        return self._send_all(values, keys, topic or self.topic)

    def flush(self, timeout: float | None = None, check: bool = True) -> DeliveryReport:
        """Wait for every delivery report (at most ``timeout`` seconds, default
        ``flush_timeout``). With ``check``, a BackendError names the unacknowledged and
        failed counts unless every message was acknowledged."""
        wait = self.flush_timeout if timeout is None else timeout
        self._producer.flush(wait)
        report = self.tracker.report()
        if check and not report.ok:
            where = f"{self.cluster.bootstrap_servers} (topic {self.topic}) within {wait:g} s"
            report.raise_for_failures(where)
        return report

    def warm_up(self, record: Record, topic: str | None = None) -> None:
        """Produce one record and flush: fetches the producer id (idempotence, ~0.5 s) and
        the topic's partition leaders, so timed rounds do not pay for them. Counters are
        reset afterwards (the message stays in the topic)."""
        value = self.serializer.serialize(record)
        self._send_all((value,), (_key(record, 0),), topic or self.topic)
        self.flush()
        self.reset()

    def reset(self) -> None:
        """Zero the delivery counters and the latency histogram (between rounds)."""
        self.tracker.reset()

    def settle_counts(self, timeout: float | None = None) -> dict[str, float]:
        """This producer's ``kafka.*`` totals, exact up to this call (it waits for one more
        statistics document, up to about one interval: call it outside timed code, after a
        ``flush``); ``{}`` with statistics off or when no document came in time."""
        if self.stats is None or self._closed or not self.stats.settle(self._producer.poll,
                                                                        timeout):
            return {}
        return self.stats.snapshot()

    def poll(self, timeout: float = 0.0) -> int:
        """Serve delivery reports."""
        return int(self._producer.poll(timeout))

    def in_flight(self) -> int:
        """Messages handed to the client and not yet reported."""
        return 0 if self._closed else len(self._producer)

    def close(self) -> None:
        """Drop anything still queued (its delivery reports say so) and close the client and
        its connections."""
        if self._closed:
            return
        self._closed = True
        if len(self._producer):
            self._producer.purge()
        self._producer.flush(1.0)  # serves the purged messages' reports
        self._producer.close()

    def __enter__(self) -> K2Producer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    # ------------------------------------------------------------------ hot loop

    def _send_all(self, values: Iterable[bytes], keys: Iterable[str | bytes | None],
                  topic: str) -> int:
        produce = self._producer.produce
        poll = self._producer.poll
        tracker = self.tracker
        sent = 0
        size = 0
        try:
            for value, key in zip(values, keys, strict=True):
                try:
                    produce(topic, value, key)
                except BufferError:
                    self._wait_for_room()
                    produce(topic, value, key)
                sent += 1
                size += len(value)
                if not sent & (CHUNK - 1):
                    poll(0)
        except KafkaException as exc:
            raise BackendError(f"produce to {topic} on {self.cluster.bootstrap_servers} "
                               f"failed after {sent} messages: {exc}") from None
        finally:
            tracker.produced += sent
            tracker.bytes += size
        poll(0)
        return sent

    def _arrow_encoder(self) -> ArrowEncoder:
        if self._arrow is None:
            self._arrow = ArrowEncoder(self.schema,
                                       header=confluent_header(self.serializer.schema_id))
        return self._arrow

    def _wait_for_room(self) -> None:
        for _ in range(600):
            if self._producer.poll(0.05) or len(self._producer) < 1_000_000:
                return
        raise BackendError(f"the local queue to {self.cluster.bootstrap_servers} stayed full "
                           f"for 30 s ({len(self._producer)} messages waiting)")


def _key(record: Record, row: int) -> str:
    try:
        symbol = record["symbol"]
    except (KeyError, TypeError):
        raise WorkloadError(f"record {row}: field 'symbol' is missing (it is the message "
                            "key)") from None
    if not isinstance(symbol, str):
        raise WorkloadError(f"record {row}: field 'symbol' = {symbol!r}: expected a str")
    return symbol
