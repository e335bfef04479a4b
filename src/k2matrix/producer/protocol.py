"""What a producer implements to be swept by the producer suite (K2's API shape).

A factory named in the matrix by import path, ``[components.producer] impl =
"package.module:Factory"``, is called with the cluster, the registry, the schema and the
topic (and the suite's options) and returns an object satisfying :class:`TradeProducer`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any, Protocol, runtime_checkable

from k2matrix.producer.delivery import DeliveryReport

Record = Mapping[str, Any]


@runtime_checkable
class TradeProducer(Protocol):
    """What the producer suite drives."""

    topic: str
    schema: str

    def produce_trade(self, record: Record) -> None: ...

    def produce_trades(self, records: Sequence[Record]) -> int: ...

    def flush(self, timeout: float | None = None) -> DeliveryReport: ...

    def close(self) -> None: ...
