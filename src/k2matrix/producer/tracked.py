"""A Kafka client that keeps k2matrix's delivery accounting for a producer that owns its
client: :class:`TrackedProducer`.

A platform's producer (K2's ``MarketDataProducer``) produces through a confluent-kafka
``Producer`` it holds and handles the delivery reports itself. An adapter gives it a
``TrackedProducer`` built from the cell's configuration instead (``config.kafka.properties``:
the matrix's producer settings and the cell's overrides): every message it produces is
counted in a :class:`~k2matrix.producer.delivery.DeliveryTracker` and every delivery report
goes to the tracker before the platform's own callback, so ``flush`` can answer with
:meth:`TrackedProducer.report` (the counts and latencies the suite checks).
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from confluent_kafka import Producer

from k2matrix.producer.delivery import DeliveryReport, DeliveryTracker

__all__ = ["TrackedProducer"]

Callback = Callable[[Any, Any], None]


class TrackedProducer(Producer):
    """A ``confluent_kafka.Producer`` whose messages and delivery reports are also counted
    in ``tracker`` (see the module doc)."""

    def __init__(self, properties: Mapping[str, Any],
                 tracker: DeliveryTracker | None = None) -> None:
        super().__init__(dict(properties))
        self.tracker = tracker or DeliveryTracker()

    def produce(self, *args: Any, on_delivery: Callback | None = None,
                **kwargs: Any) -> None:
        """``Producer.produce``; the report reaches the tracker, then ``on_delivery``."""
        if on_delivery is None:
            on_delivery = kwargs.pop("callback", None)
        tracker = self.tracker

        def delivered(err: Any, msg: Any) -> None:
            tracker.on_delivery(err, msg)
            if on_delivery is not None:
                on_delivery(err, msg)

        kwargs["on_delivery"] = delivered
        super().produce(*args, **kwargs)
        tracker.produced += 1

    def report(self, where: str) -> DeliveryReport:
        """The counts since construction or ``tracker.reset()``; :class:`BackendError`
        (naming ``where``) unless every message was acknowledged."""
        report = self.tracker.report()
        report.raise_for_failures(where)
        return report
