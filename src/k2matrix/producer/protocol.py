"""What a producer implements to be swept by the producer suite (K2's API shape).

**Naming it.** ``[components.producer] impl = "package.module:Factory"`` in the matrix (or
the name of an entry point in the group ``k2matrix.producer``; the built-in is ``k2``,
:class:`~k2matrix.producer.k2producer.K2Producer`). The loader is :mod:`k2matrix.implementations`.

**The factory** (a class or a function) is called as
``Factory(cluster, registry, schema, topic, **overrides)``:

- ``cluster``: the :class:`~k2matrix.backends.kafka.KafkaCluster` to produce to
  (``cluster.producer_config(**overrides)`` gives the matrix's librdkafka properties);
- ``registry``: the Schema Registry client the verifying consumer reads writer schemas from
  (register the value schema under ``<topic>-value``, Confluent wire format);
- ``schema``: ``"v1"`` or ``"v2"`` (:func:`k2matrix.schemas.avro_schema` has it in Avro);
- ``topic``: the cell's fresh topic;
- ``overrides``: librdkafka properties for this cell (``_`` for ``.``), e.g. ``linger_ms=0``
  for the paced-latency cell.

It returns an object satisfying :class:`TradeProducer` (checked when it is built; a class
is checked for the methods when the matrix loads).

**Optional capabilities.** The suite uses these when the producer has them, and otherwise
measures without them and lists what it could not measure in the cell's
``extra_info["capabilities_missing"]``:

- ``warm_up(record)``: send one message and reset the counters, before timing; without it
  the suite does ``produce_trade`` + ``flush`` + ``reset`` itself (same effect);
- ``poll(timeout)``: serve delivery reports while the paced cell waits between sends;
  without it the suite sleeps;
- ``produce_payloads(values, keys, topic)`` and ``serializer`` (with ``kind`` and
  ``serialize_many(records) -> list[bytes]``): the raw ceiling (already-serialized values
  through the same client) and so ``efficiency``; ``serializer.kind`` is also recorded;
- ``serialize_table(table)`` and ``produce_table(table)``: the sustained cell's Arrow path;
  without them it produces the same rows as dict records (``produce_trades``);
- a factory keyword ``serializer`` (a kind of :mod:`k2matrix.producer.serializers`): the
  sustained cell's comparison of serializers (``alternatives``).
- ``settle_counts() -> dict[str, float]``: the client's ``kafka.*`` counters
  (:mod:`k2matrix.producer.kafka_stats`), exact up to the call, which may wait (untimed);
  the suite records their mean per round in ``extra_info["counters"]``.

The ``producer.serializer_cache`` cell measures k2matrix's own serializer cache whatever the
producer.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from k2matrix.producer.delivery import DeliveryReport

Record = Mapping[str, Any]


@runtime_checkable
class TradeProducer(Protocol):
    """What the producer suite drives. Every message must end acknowledged or reported
    failed: :class:`~k2matrix.producer.delivery.DeliveryTracker` as the delivery callback
    keeps the counts and latencies that ``flush`` reports and ``reset`` zeroes."""

    topic: str
    schema: str

    def produce_trade(self, record: Record) -> None:
        """Serialize one trade (Avro, Confluent wire format) and send it, keyed by symbol."""
        ...

    def produce_trades(self, records: Sequence[Record]) -> int:
        """Serialize and send ``records``; the number sent."""
        ...

    def flush(self, timeout: float | None = None) -> DeliveryReport:
        """Wait for every delivery report; the counts since construction or ``reset``. Raise
        (:class:`~k2matrix.errors.BackendError`) unless every message was acknowledged."""
        ...

    def reset(self) -> None:
        """Zero the delivery counters and latencies (the suite calls it before timing)."""
        ...

    def close(self) -> None: ...


# ---------------------------------------------------------------------------- capabilities
# What the bench helpers (k2matrix.producer.bench) call: each a part of the optional
# capabilities above, so a helper is typed on what it uses rather than on one implementation.


@runtime_checkable
class PayloadProducer(Protocol):
    """Already-serialized values through the producer's client (the raw ceiling)."""

    def produce_payloads(self, values: Sequence[bytes], keys: Sequence[str | bytes | None],
                         topic: str | None = None) -> int: ...

    def flush(self, timeout: float | None = None) -> DeliveryReport: ...

    def reset(self) -> None: ...


class PacedProducer(Protocol):
    """One trade at a time, serving delivery reports while it waits (``poll``)."""

    def produce_trade(self, record: Record) -> None: ...

    def poll(self, timeout: float = 0.0) -> int: ...


class BatchProducer(Protocol):
    """Batches of dict records, then a flush (the memory cell)."""

    def produce_trades(self, records: Sequence[Record]) -> int: ...

    def flush(self, timeout: float | None = None) -> DeliveryReport: ...
