"""What a librdkafka producer sent, counted from its own statistics (``stats_cb``).

librdkafka emits a JSON document every ``statistics.interval.ms`` (STATISTICS.md); the
client queues it and the application receives it in ``poll``/``flush``. :class:`KafkaStats`
is the callback: at each document it adds to the process counters (:mod:`k2matrix.counters`)
what moved since the previous one, and keeps this client's totals.

========================  ===============================================================
counter                   source (cumulative unless said)
========================  ===============================================================
kafka.produce_requests    ``brokers[*].req.Produce``: Produce requests sent
kafka.requests            ``brokers[*].tx``: every request (Metadata, ApiVersion, …)
kafka.bytes               ``brokers[*].txbytes``: bytes sent on the wire, all requests,
                          after compression
kafka.retries             ``brokers[*].txretries``: requests sent again
kafka.messages            ``txmsgs``: messages sent (each retry again)
kafka.message_bytes       ``txmsg_bytes``: their bytes with record framing, uncompressed
kafka.batches             ``topics[*].batchcnt.cnt``: record batches (message sets) sent,
                          a rolling window reset at each document, so summed over documents
========================  ===============================================================

How exact: every document the client emitted and the application received counts (none is
dropped while the client lives), and a cumulative field is read per broker, so a broker that
leaves the metadata loses nothing already counted. The documents are periodic, so a count
lags the work by up to one interval plus the time until the next ``poll``: work done at the
end of a round is counted at the next document received, usually in the next round. After
:meth:`settle` (untimed: it serves the queue, then waits for one more document, which is
generated after the call began) this client's :attr:`totals` are exact up to that moment; the
difference of two settled totals is the exact work between them (the producer suite records
that per round). The cost on the timed path: librdkafka builds a ~10 KB document per interval
in its own thread, and the callback parses it (``json.loads``) inside ``poll``/``flush``:
about 10 documents a second at the default interval.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable, Mapping
from typing import Any

from k2matrix import counters

DEFAULT_INTERVAL_MS = 100
_BROKER_FIELDS = (("kafka.requests", ("tx",)), ("kafka.bytes", ("txbytes",)),
                  ("kafka.retries", ("txretries",)),
                  ("kafka.produce_requests", ("req", "Produce")))
_TOP_FIELDS = (("kafka.messages", "txmsgs"), ("kafka.message_bytes", "txmsg_bytes"))
NAMES = tuple(n for n, _ in _BROKER_FIELDS) + tuple(n for n, _ in _TOP_FIELDS) + (
    "kafka.batches",)


def _field(obj: Mapping[str, Any], path: tuple[str, ...]) -> float:
    value: Any = obj
    for key in path:
        value = value.get(key, 0) if isinstance(value, Mapping) else 0
    return float(value) if isinstance(value, int | float) else 0.0


def moved(doc: Mapping[str, Any], last: dict[str, float]) -> dict[str, float]:
    """What each counter added since ``last`` (the cumulative values of the previous
    document, per broker; updated in place) in one statistics document ``doc``."""
    out = dict.fromkeys(NAMES, 0.0)
    brokers = doc.get("brokers") or {}
    for broker, fields in brokers.items():
        for name, path in _BROKER_FIELDS:
            key = f"{name}@{broker}"
            value = _field(fields, path)
            out[name] += max(0.0, value - last.get(key, 0.0))
            last[key] = value
    for name, top in _TOP_FIELDS:
        value = _field(doc, (top,))
        out[name] += max(0.0, value - last.get(name, 0.0))
        last[name] = value
    topics = doc.get("topics") or {}
    out["kafka.batches"] = sum(_field(t, ("batchcnt", "cnt")) for t in topics.values())
    return out


class KafkaStats:
    """The ``stats_cb`` of one client; see the module docstring."""

    def __init__(self, interval_ms: int = DEFAULT_INTERVAL_MS) -> None:
        if interval_ms <= 0:
            raise ValueError(f"interval_ms={interval_ms!r}: statistics need an interval > 0")
        self.interval_ms = interval_ms
        self.totals: dict[str, float] = dict.fromkeys(NAMES, 0.0)
        self.documents = 0
        self._last: dict[str, float] = {}
        self._lock = threading.Lock()

    def config(self) -> dict[str, Any]:
        """The client properties that turn the statistics on and route them here."""
        return {"statistics.interval.ms": self.interval_ms, "stats_cb": self.on_stats}

    def on_stats(self, text: str) -> None:
        try:
            doc = json.loads(text)
        except ValueError:
            return  # not a statistics document: nothing to count
        with self._lock:
            added = moved(doc, self._last)
            self.documents += 1
            for name, amount in added.items():
                self.totals[name] += amount
        for name, amount in added.items():
            if amount:
                counters.add(name, amount)

    def settle(self, poll: Callable[[float], int], timeout: float | None = None) -> bool:
        """Serve what is queued, then wait (``poll``) for one more document: the totals then
        hold everything the client did before the call. False if none came in ``timeout``
        seconds (default: three intervals and a second)."""
        wait = timeout if timeout is not None else 3 * self.interval_ms / 1e3 + 1.0
        for _ in range(10_000):
            if not poll(0):
                break
        seen = self.documents
        deadline = time.monotonic() + wait
        while self.documents == seen:
            left = deadline - time.monotonic()
            if left <= 0:
                return False
            poll(min(left, self.interval_ms / 1e3))
        return True

    def snapshot(self) -> dict[str, float]:
        with self._lock:
            return dict(self.totals)
