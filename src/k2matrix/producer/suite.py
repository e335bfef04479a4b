"""The producer under test as the producer suite drives it: built by the factory the matrix
names (``[components.producer] impl``, loaded by :mod:`k2matrix.implementations`), warmed up, and
measured with the optional capabilities it has (listed in
:mod:`k2matrix.producer.protocol`). What a cell could not measure for lack of a capability
is recorded in its ``extra_info["capabilities_missing"]``. The producer's ``kafka.*`` counters
per round (:meth:`ProducerBench.settled`, :meth:`ProducerBench.record_counters`) come from a
producer with ``settle_counts``."""

from __future__ import annotations

import threading
import time
from collections.abc import Sequence
from typing import Any, cast

import pyarrow as pa

from k2matrix import counters, implementations
from k2matrix.backends.config import SchemaRegistryConfig
from k2matrix.backends.kafka import KafkaCluster
from k2matrix.backends.registry import avro_schema_str, handed_out, subject_for
from k2matrix.component_config import ComponentConfig, KafkaSettings, RegistrySettings
from k2matrix.producer.bench import RawReference, produce_paced
from k2matrix.producer.protocol import PacedProducer, PayloadProducer, Record, TradeProducer
from k2matrix.producer.verify import end_offsets
from k2matrix.stats import throughput

CEILING = "ceiling (needs produce_payloads and serializer.serialize_many)"
POLL = "poll (delivery reports served only at flush while pacing)"
ARROW = "produce_table/serialize_table (the rows went through produce_trades)"
ALTERNATIVES = "serializer alternatives (the factory takes no serializer keyword)"
COUNTS = "settle_counts (no kafka.* counters per round)"


class ProducerBench(implementations.Capabilities):
    """Makes the cell's producers (closing them afterwards) and measures around them."""

    def __init__(self, spec: str, cluster: KafkaCluster, registry: Any,
                 registry_config: SchemaRegistryConfig | None = None) -> None:
        super().__init__("producer", spec)
        self.cluster = cluster
        self.registry = registry
        self.registry_config = registry_config or SchemaRegistryConfig()
        self.made: list[TradeProducer] = []
        self.start: dict[int, dict[int, int]] = {}  # id(producer) -> its topic's offsets

    def config(self, schema: str, topic: str, **overrides: Any) -> ComponentConfig:
        """The cell's resolved configuration (:mod:`k2matrix.component_config`)."""
        kafka = KafkaSettings(self.cluster.bootstrap_servers,
                              self.cluster.producer_config(**overrides), dict(overrides))
        return ComponentConfig(
            kind="producer", schema=schema, kafka=kafka,
            registry=RegistrySettings.of(self.registry_config), topic=topic,
            subject=subject_for(topic), avro_schema=avro_schema_str(schema),
            live={"cluster": self.cluster, "registry": self.registry})

    def make(self, schema: str, label: str, **overrides: Any) -> TradeProducer:
        """A producer of ``schema`` on a fresh topic named after ``label`` (the cell). A
        factory taking ``config`` gets the cell's :class:`ComponentConfig`; a producer whose
        ``topic`` is its own (not the cell's) is read back from the offsets that topic had
        when it was made."""
        topic = self.cluster.topic_name(label)
        self.cluster.create_topic(topic)
        if self.plugin.accepts("config"):
            config = self.config(schema, topic, **overrides)
            self.configured = config.describe()
            producer: TradeProducer = self.plugin.build(config=config)
        else:
            producer = self.plugin.build(self.cluster, self.registry, schema, topic,
                                         **overrides)
        for used in {topic, producer.topic}:  # deleted at the suite's end (--k2-keep-subjects)
            handed_out(self.registry, subject_for(used))
        if producer.topic != topic:
            self.start[id(producer)] = end_offsets(self.cluster, producer.topic)
        self.made.append(producer)
        return producer

    def start_offsets(self, producer: TradeProducer) -> dict[int, int] | None:
        """Where the cell's messages begin on the producer's topic (None: the beginning)."""
        return self.start.get(id(producer))

    def close(self) -> None:
        for producer in self.made:
            producer.close()
        self.made.clear()

    # ------------------------------------------------------------------ capabilities

    @staticmethod
    def warm_up(producer: TradeProducer, record: Record) -> None:
        """One message sent and acknowledged, then the counters zeroed (the first send of an
        idempotent producer fetches its id, ~0.5 s, which no timed round should pay)."""
        warm = getattr(producer, "warm_up", None)
        if callable(warm):
            warm(record)
            return
        producer.produce_trade(record)
        producer.flush()
        producer.reset()

    def settled(self, producer: TradeProducer) -> dict[str, float]:
        """The producer's exact ``kafka.*`` totals so far (``settle_counts``: untimed, it
        waits for the client's next statistics); ``{}`` without the capability."""
        settle = getattr(producer, "settle_counts", None)
        if not callable(settle):
            self.lacks(COUNTS)
            return {}
        totals: dict[str, float] = settle()
        return totals

    def record_counters(self, extra_info: dict[str, Any], producer: TradeProducer,
                        before: dict[str, float], rounds: int) -> None:
        """Put the mean per round of what the producer counted since ``before`` (settled
        before the first timed round) into ``extra_info["counters"]``; call it after the
        rounds and their flush, before anything else is produced."""
        after = self.settled(producer) if before else {}
        if before and after and rounds > 0:
            moved = counters.delta(before, after)
            extra_info.setdefault("counters", {}).update(
                {name: value / rounds for name, value in sorted(moved.items()) if value})

    @staticmethod
    def serializer_kind(producer: TradeProducer) -> dict[str, str]:
        kind = getattr(getattr(producer, "serializer", None), "kind", None)
        return {"serializer": kind} if isinstance(kind, str) else {}

    def payloads(self, producer: TradeProducer, records: Sequence[Record]) -> list[bytes] | None:
        """The wire-format values of ``records`` by the producer's own serializer, if it has
        the ceiling capability."""
        serialize = getattr(getattr(producer, "serializer", None), "serialize_many", None)
        if not callable(serialize) or not callable(getattr(producer, "produce_payloads", None)):
            self.lacks(CEILING)
            return None
        values: list[bytes] = serialize(records)
        return values

    def reference(self, schema: str, label: str, values: Sequence[bytes] | None,
                  keys: Sequence[str | bytes | None], warm: Record, **overrides: Any
                  ) -> RawReference | None:
        """The raw ceiling beside the cell (:class:`~k2matrix.producer.bench.RawReference`):
        a second producer like the cell's on a topic of its own, warmed up in a thread while
        the caller warms the cell's producer (an idempotent producer's first send waits
        ~0.5 s for its id: the two waits overlap); ``None`` without the capability
        (``values`` come only with it)."""
        if values is None:
            return None
        producer = self.make(schema, f"{label}.ceiling", **overrides)
        if not isinstance(producer, PayloadProducer):
            raise TypeError(f"{type(producer).__name__} lacks produce_payloads")
        failed: list[BaseException] = []

        def warm_up() -> None:
            try:
                self.warm_up(producer, warm)
            except BaseException as exc:  # re-raised in the cell's thread, below
                failed.append(exc)

        thread = threading.Thread(target=warm_up, name=f"warm-{label}", daemon=True)
        thread.start()

        def ready() -> None:
            thread.join()
            if failed:
                raise failed[0]

        return RawReference(producer, values, keys, ready)

    def paced(self, producer: TradeProducer, records: Sequence[Record], rate: float) -> float:
        """:func:`~k2matrix.producer.bench.produce_paced`; the achieved rate."""
        if not callable(getattr(producer, "poll", None)):
            self.lacks(POLL, needed=True)  # delivery latency waits for the next flush
            return produce_paced(_Sleeping(producer), records, rate)
        return produce_paced(cast(PacedProducer, producer), records, rate)

    def arrow_path(self, producer: TradeProducer) -> bool:
        """Whether the producer serializes and produces Arrow tables itself."""
        ok = all(callable(getattr(producer, m, None))
                 for m in ("produce_table", "serialize_table"))
        if not ok:
            self.lacks(ARROW)
        return ok

    def produce_chunk(self, producer: TradeProducer, table: pa.Table,
                      records: Sequence[Record], start: int, rows: int, arrow: bool) -> int:
        """Rows ``start:start+rows``: the Arrow slice through ``produce_table`` where the
        producer has it, else the same rows as dict records."""
        if arrow:
            produced: int = cast(Any, producer).produce_table(table.slice(start, rows))
            return produced
        return producer.produce_trades(records[start:start + rows])

    def alternatives(self, schema: str, label: str, records: Sequence[Record],
                     kinds: Sequence[str]) -> dict[str, float]:
        """msg/s of ``produce_trades(records)`` + flush with each serializer kind, each
        checked by its delivery report; ``{}`` unless the factory takes ``serializer``."""
        if not self.plugin.accepts("serializer"):
            self.lacks(ALTERNATIVES)
            return {}
        out: dict[str, float] = {}
        for kind in kinds:
            producer = self.make(schema, label, serializer=kind)
            self.warm_up(producer, records[0])
            began = time.perf_counter()
            producer.produce_trades(records)
            producer.flush()
            out[kind] = round(throughput(len(records), time.perf_counter() - began), 1)
            producer.close()
            self.made.remove(producer)
        return out


class _Sleeping:
    """A producer without ``poll`` as :func:`produce_paced` drives it: waiting sleeps."""

    def __init__(self, producer: TradeProducer) -> None:
        self.produce_trade = producer.produce_trade

    @staticmethod
    def poll(timeout: float = 0.0) -> int:
        if timeout > 0:
            time.sleep(timeout)
        return 0
