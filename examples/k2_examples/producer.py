"""A producer built on confluent-kafka's own ``SerializingProducer`` and ``AvroSerializer``.

Unlike the built-in K2Producer (its own compiled Avro encoder, batches handed to the client
as bytes), every message here goes through the client's serializing path: the
``AvroSerializer`` registers the schema under ``<topic>-value`` and writes the Confluent wire
format (magic byte, schema id, fastavro body) inside ``produce``.

The matrix names it: ``[components.producer]``
``impl = "k2_examples.producer:SerializingTradeProducer"``. It has ``poll`` (an optional
capability) but no payload path (``produce_payloads``), so its cells have no raw ceiling and
say so in ``capabilities_missing``.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from typing import Any

from confluent_kafka import KafkaException, SerializingProducer
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import StringSerializer

from k2matrix.backends.kafka import KafkaCluster
from k2matrix.errors import BackendError, WorkloadError
from k2matrix.producer.delivery import DeliveryReport, DeliveryTracker
from k2matrix.schemas import avro_schema

FLUSH_TIMEOUT_S = 30.0


class SerializingTradeProducer:
    """Trades of one schema to one topic through ``SerializingProducer``."""

    def __init__(self, cluster: KafkaCluster, registry: SchemaRegistryClient, schema: str,
                 topic: str, **overrides: Any) -> None:
        self.topic = topic
        self.schema = schema
        self._where = f"{cluster.bootstrap_servers} (topic {topic})"
        self.tracker = DeliveryTracker()
        conf = cluster.producer_config(**overrides)
        conf["key.serializer"] = StringSerializer("utf_8")
        conf["value.serializer"] = AvroSerializer(
            registry, json.dumps(avro_schema(schema)), conf={"auto.register.schemas": True})
        conf["error_cb"] = self.tracker.on_error
        self._producer = SerializingProducer(conf)
        self._closed = False

    def _delivered(self, err: Any, msg: Any) -> None:
        if err is None:
            self.tracker.bytes += len(msg.value() or b"")
        self.tracker.on_delivery(err, msg)

    def produce_trade(self, record: Mapping[str, Any]) -> None:
        while True:
            try:
                self._producer.produce(self.topic, key=record.get("symbol"),
                                       value=dict(record), on_delivery=self._delivered)
                break
            except BufferError:  # the local queue is full: serve reports, then retry
                self._producer.poll(0.05)
            except KafkaException as exc:
                raise BackendError(f"produce to {self._where} failed: {exc}") from None
            except Exception as exc:  # the serializer refused the record
                raise WorkloadError(f"record for {self.topic}: {type(exc).__name__}: {exc}"
                                    ) from None
        self.tracker.produced += 1
        self._producer.poll(0)

    def produce_trades(self, records: Sequence[Mapping[str, Any]]) -> int:
        for record in records:
            self.produce_trade(record)
        return len(records)

    def poll(self, timeout: float = 0.0) -> int:
        return int(self._producer.poll(timeout))

    def flush(self, timeout: float | None = None) -> DeliveryReport:
        wait = FLUSH_TIMEOUT_S if timeout is None else timeout
        self._producer.flush(wait)
        report = self.tracker.report()
        report.raise_for_failures(f"{self._where} within {wait:g} s")
        return report

    def reset(self) -> None:
        self.tracker.reset()

    def close(self) -> None:
        if not self._closed:
            self._closed = True
            self._producer.flush(1.0)
