"""Kafka backends: where a producer sends and a consumer reads.

``mode = "mock"`` starts librdkafka's in-process mock cluster (``test.mock.num.brokers``):
real brokers speaking the Kafka protocol on loopback TCP, owned by a holder client kept open
for the life of the :class:`KafkaCluster`. Every other client (the producer under test, the
verifying consumer) connects to it through its bootstrap servers exactly as to a real
cluster. ``mode = "bootstrap"`` uses the configured servers (``K2_KAFKA_BOOTSTRAP``
switches to it, see :meth:`Backends.with_environment`), after checking within the deadline
that they answer.

Every client gets the deadline (``[backends] deadline_s``, :mod:`k2matrix.backends.deadline`):
``socket.timeout.ms`` and ``socket.connection.setup.timeout.ms`` (a request or a connection
with no answer), the producer's ``request.timeout.ms``, and ``message.timeout.ms`` of three
deadlines (a message may also wait in the local queue behind up to two million others, and
the producer's flush waits 30 s).
"""

from __future__ import annotations

import logging
import re
import time
import uuid
from types import TracebackType
from typing import Any

import confluent_kafka
from confluent_kafka import KafkaException, Producer
from confluent_kafka.admin import AdminClient
from confluent_kafka.cimpl import NewTopic

from k2matrix.backends.deadline import Deadline
from k2matrix.backends.kafka_config import KafkaConfig, ProducerSettings
from k2matrix.errors import BackendError

LOG = logging.getLogger("k2matrix.kafka")
CONNECT_TIMEOUT_S = 5.0  # admin operations on a cluster that answered
_TOPIC_CHARS = re.compile(r"[^A-Za-z0-9._-]")


def producer_settings_config(settings: ProducerSettings) -> dict[str, Any]:
    """librdkafka producer properties for the matrix's ``[backends.kafka.producer]``."""
    return {
        "acks": settings.acks,
        "enable.idempotence": settings.enable_idempotence,
        "linger.ms": settings.linger_ms,
        "batch.size": settings.batch_size,
        "compression.type": settings.compression,
        # Room for a whole sustained cell in the local queue: produce() should not have to
        # wait for the broker because of a client-side cap.
        "queue.buffering.max.messages": 2_000_000,
        "queue.buffering.max.kbytes": 2_097_151,
    }


class KafkaCluster:
    """An opened Kafka backend: bootstrap servers plus client configuration.

    Use as a context manager (or call :meth:`close`): in mock mode it owns the cluster.
    """

    def __init__(self, config: KafkaConfig, connect_timeout: float | None = None) -> None:
        self.config = config
        if connect_timeout is None:
            connect_timeout = self.deadline.attempt_s * 2
        self.mode = config.mode
        self.topics: list[str] = []  # named by topic_name(): deleted by close() off the mock
        self._holder: Producer | None = None
        if config.mode == "mock":
            self._holder = Producer({
                "test.mock.num.brokers": config.brokers,
                "logger": LOG,
                **self.timeouts(),
            })
            self.bootstrap_servers = _bootstrap_of(self._holder, "the mock cluster",
                                                   connect_timeout)
        else:
            if not config.bootstrap_servers:
                raise BackendError('Kafka mode = "bootstrap" needs bootstrap_servers (or '
                                   "K2_KAFKA_BOOTSTRAP)")
            self.bootstrap_servers = config.bootstrap_servers
            check_reachable(self.client_config(), self.bootstrap_servers, connect_timeout)

    def __enter__(self) -> KafkaCluster:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.close()

    def close(self) -> None:
        """Stop the mock cluster (clients connected to it should be closed first); on a real
        cluster, delete the topics this run named (best effort: a failure is logged)."""
        if self._holder is not None:
            self._holder.close()
            self._holder = None
        elif self.topics:
            self.delete_topics(self.topics)
        self.topics = []

    def delete_topics(self, names: list[str], timeout: float = CONNECT_TIMEOUT_S) -> None:
        admin = AdminClient(self.client_config())
        futures = admin.delete_topics(names, operation_timeout=timeout, request_timeout=timeout)
        for name, future in futures.items():
            try:
                future.result(timeout)
            except KafkaException as exc:
                if "UNKNOWN_TOPIC" not in str(exc):
                    LOG.warning("could not delete topic %s on %s: %s", name,
                                self.bootstrap_servers, exc)
            except TimeoutError:  # the brokers are gone: best effort, never mask the cause
                LOG.warning("could not delete topic %s on %s: no answer within %g s", name,
                            self.bootstrap_servers, timeout)

    def describe(self) -> dict[str, Any]:
        return {"mode": self.mode, "bootstrap_servers": self.bootstrap_servers,
                "brokers": self.config.brokers if self.mode == "mock" else None,
                "security": self.config.security.describe()}

    # ------------------------------------------------------------------ client configs

    def client_config(self) -> dict[str, Any]:
        """What every client needs: the servers, the security properties (secrets read from
        the variables ``[backends.kafka]`` names), ``[backends.kafka.client]``, the
        deadline's timeouts (unless the client table sets them) and logs routed to
        logging."""
        conf: dict[str, Any] = {"bootstrap.servers": self.bootstrap_servers, "logger": LOG,
                                **self.timeouts(), **dict(self.config.client)}
        if self.mode != "mock":
            conf.update(self.config.security.properties())
        return conf

    @property
    def deadline(self) -> Deadline:
        return Deadline(self.config.deadline_s)

    def timeouts(self) -> dict[str, int]:
        """librdkafka's network timeouts from the deadline (every client)."""
        return {"socket.timeout.ms": self.deadline.ms,
                "socket.connection.setup.timeout.ms": self.deadline.ms}

    def producer_config(self, settings: ProducerSettings | None = None,
                        **overrides: Any) -> dict[str, Any]:
        """Producer properties: the matrix's producer settings plus ``overrides``
        (librdkafka names, ``_`` accepted for ``.``), with the deadline's
        ``request.timeout.ms`` and ``message.timeout.ms`` (see the module docstring)."""
        settings = settings or self.config.producer
        conf = {**self.client_config(),
                "request.timeout.ms": self.deadline.ms,
                "message.timeout.ms": max(3 * self.deadline.ms,
                                          settings.linger_ms + self.deadline.ms),
                **producer_settings_config(settings)}
        conf.update({k.replace("_", "."): v for k, v in overrides.items()})
        return conf

    def consumer_config(self, group: str | None = None) -> dict[str, Any]:
        return {**self.client_config(), "group.id": group or f"k2matrix-{uuid.uuid4().hex}",
                "enable.auto.commit": False, "auto.offset.reset": "earliest",
                "enable.partition.eof": False}

    # ------------------------------------------------------------------ topics

    def topic_name(self, label: str) -> str:
        """A fresh topic for one cell: ``<prefix>.<label>.<random>`` (legal characters only)."""
        clean = _TOPIC_CHARS.sub("_", label)[:150]
        name = f"{self.config.topic_prefix}.{clean}.{uuid.uuid4().hex[:8]}"
        self.topics.append(name)
        return name

    def create_topic(self, name: str, partitions: int | None = None,
                     timeout: float = CONNECT_TIMEOUT_S) -> None:
        """Create ``name`` with ``partitions`` (default ``[backends.kafka] partitions``) and
        the matrix's ``replication_factor``. The mock cluster creates topics on first
        produce (its admin API times out waiting for a controller), with 4 partitions, so
        there this does nothing."""
        if self.mode == "mock":
            return
        admin = AdminClient(self.client_config())
        future = admin.create_topics([NewTopic(name, partitions or self.config.partitions,
                                               self.config.replication_factor)],
                                     operation_timeout=timeout)[name]
        try:
            future.result(timeout)
        except KafkaException as exc:
            if "TOPIC_ALREADY_EXISTS" not in str(exc):
                raise BackendError(f"cannot create topic {name!r} on {self.bootstrap_servers}: "
                                   f"{exc}") from None


def _bootstrap_of(client: Producer, what: str, timeout: float) -> str:
    try:
        metadata = client.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise BackendError(f"{what} did not answer within {timeout:g} s: {exc}") from None
    return ",".join(f"{b.host}:{b.port}" for b in sorted(metadata.brokers.values(),
                                                          key=lambda b: b.id))


def check_reachable(conf: dict[str, Any], servers: str, timeout: float) -> None:
    """Raise BackendError naming ``servers`` unless a metadata request succeeds in time."""
    probe = Producer({**conf, "socket.connection.setup.timeout.ms": int(timeout * 1000)})
    try:
        probe.list_topics(timeout=timeout)
    except KafkaException as exc:
        raise BackendError(
            f"Kafka bootstrap servers {servers} are unreachable (no metadata within "
            f"{timeout:g} s: {exc.args[0].str() if exc.args else exc}); start the broker or "
            "fix backends.kafka.bootstrap_servers / K2_KAFKA_BOOTSTRAP") from None
    finally:
        probe.close()


def open_kafka(config: KafkaConfig, connect_timeout: float | None = None) -> KafkaCluster:
    """Open the Kafka backend of ``config`` (see :class:`KafkaCluster`)."""
    return KafkaCluster(config, connect_timeout)


def librdkafka_version() -> str:
    """The version of the librdkafka the client runs on (recorded with every run)."""
    return str(confluent_kafka.libversion()[0])


def round_trip(cluster: KafkaCluster, timeout: float = CONNECT_TIMEOUT_S) -> float:
    """Produce one message to a scratch topic, consume it back and delete the topic (the
    preflight check); the seconds it took. BackendError naming the servers on failure."""
    from confluent_kafka import Consumer, TopicPartition

    name = cluster.topic_name("doctor")
    payload = uuid.uuid4().bytes
    started = time.perf_counter()
    try:
        cluster.create_topic(name, partitions=1, timeout=timeout)
        producer = Producer(cluster.producer_config())
        producer.produce(name, payload, partition=0)
        if producer.flush(timeout) != 0:
            raise BackendError(f"Kafka {cluster.bootstrap_servers}: the scratch message to "
                               f"{name} was not delivered within {timeout:g} s")
        consumer = Consumer(cluster.consumer_config())
        try:
            consumer.assign([TopicPartition(name, 0, 0)])
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline:
                msg = consumer.poll(0.2)
                if msg is not None and msg.error() is None and msg.value() == payload:
                    return time.perf_counter() - started
            raise BackendError(f"Kafka {cluster.bootstrap_servers}: the scratch message was "
                               f"delivered to {name} but not consumed within {timeout:g} s")
        finally:
            consumer.close()
    finally:
        if cluster.mode != "mock":
            cluster.delete_topics([name], timeout)
            cluster.topics.remove(name)
