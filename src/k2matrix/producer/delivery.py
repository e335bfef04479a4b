"""Delivery accounting: every produced message ends acknowledged or reported failed.

The producer counts what it hands to librdkafka; the delivery callback counts
acknowledgements and failures and records each message's latency from the produce call to
its delivery report (``Message.latency()``, measured by librdkafka itself).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from k2matrix.errors import BackendError
from k2matrix.producer.latency import LatencyHistogram, LatencySummary

MAX_KEPT_ERRORS = 5


@dataclass(frozen=True)
class DeliveryReport:
    """The outcome of a run of produce calls, after a flush."""

    produced: int
    delivered: int
    failed: int
    bytes: int
    latency: LatencySummary
    errors: tuple[str, ...] = ()
    client_errors: tuple[str, ...] = ()

    @property
    def unacknowledged(self) -> int:
        """Messages neither acknowledged nor reported failed (still in flight or queued)."""
        return self.produced - self.delivered - self.failed

    @property
    def ok(self) -> bool:
        return self.delivered == self.produced and self.failed == 0

    def raise_for_failures(self, where: str) -> None:
        """BackendError unless every produced message was acknowledged."""
        if self.ok:
            return
        parts = [f"{self.delivered} of {self.produced} messages acknowledged by {where}"]
        if self.unacknowledged:
            parts.append(f"{self.unacknowledged} unacknowledged")
        if self.failed:
            parts.append(f"{self.failed} failed")
        detail = "; ".join(parts)
        errors = list(self.errors) + list(self.client_errors)
        if errors:
            detail += " (" + "; ".join(errors[:MAX_KEPT_ERRORS]) + ")"
        raise BackendError(detail)


@dataclass
class DeliveryTracker:
    """The state behind the delivery callback; :meth:`on_delivery` is the callback."""

    produced: int = 0
    delivered: int = 0
    failed: int = 0
    bytes: int = 0
    latency: LatencyHistogram = field(default_factory=LatencyHistogram)
    errors: list[str] = field(default_factory=list)
    client_errors: list[str] = field(default_factory=list)
    record_latency: bool = True
    samples: list[float] | None = None  # every latency as recorded, when a test asks

    def on_delivery(self, err: Any, msg: Any) -> None:
        if err is None:
            self.delivered += 1
            if self.record_latency:
                seconds = msg.latency() or 0.0
                self.latency.record(seconds)
                if self.samples is not None:
                    self.samples.append(seconds)
        else:
            self.failed += 1
            if len(self.errors) < MAX_KEPT_ERRORS:
                self.errors.append(str(err))

    def on_error(self, err: Any) -> None:
        """librdkafka's error_cb: client-level errors (all brokers down, …)."""
        if len(self.client_errors) < MAX_KEPT_ERRORS:
            self.client_errors.append(str(err))

    def reset(self) -> None:
        self.produced = self.delivered = self.failed = self.bytes = 0
        self.latency.reset()
        if self.samples is not None:
            self.samples.clear()
        self.errors.clear()
        self.client_errors.clear()

    def report(self) -> DeliveryReport:
        return DeliveryReport(
            produced=self.produced,
            delivered=self.delivered,
            failed=self.failed,
            bytes=self.bytes,
            latency=self.latency.summary(),
            errors=tuple(self.errors),
            client_errors=tuple(self.client_errors),
        )
