"""Load from many processes: producer shares run as tasks on Dask distributed workers.

Dask distributed is the engine (see docs/architecture.md for why not Ray): by default a
:class:`distributed.LocalCluster` with one single-threaded worker process per requested
worker (one per core); with ``scheduler`` any running scheduler's address (a real cluster).
Each share is pinned to its own worker, generates its own rows (``WorkloadSpec`` seed
``seed + index``, so message ids never collide), warms its producer up on a side topic, waits
for the common ``start_at`` wall-clock time (coordinated start), then offers ``rate`` rows/s
paced in 10 ms ticks. A share returns a plain dict: counts, timing, its encoded delivery
latency histogram. A share whose worker died or raised is *missing*: reported, not counted
(a share pinned to a worker that died would wait for ever: :meth:`LoadCluster.lost` sees
the worker gone and cancels it).
"""

from __future__ import annotations

import os
import time
from dataclasses import asdict, dataclass
from typing import Any

from k2matrix.errors import BackendError

TICK_S = 0.01


@dataclass(frozen=True)
class Share:
    index: int
    bootstrap_servers: str
    registry_url: str
    topic: str
    schema: str
    seed: int
    rows: int
    rate: float
    start_at: float
    keep_samples: bool = False  # also return every delivery latency (to check the merge)
    flush_timeout_s: float = 60.0  # how long the share waits for its last acknowledgements

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def produce_share(share: dict[str, Any]) -> dict[str, Any]:
    """Run one share (in a worker process); the plain-dict outcome."""
    from k2matrix.backends.config import KafkaConfig, SchemaRegistryConfig
    from k2matrix.backends.kafka import KafkaCluster
    from k2matrix.backends.registry import open_registry
    from k2matrix.producer.k2producer import K2Producer
    from k2matrix.schemas import arrow_to_records
    from k2matrix.workload.generate import WorkloadSpec, generate_table

    s = Share(**share)
    table = generate_table(WorkloadSpec(schema=s.schema, rows=s.rows, seed=s.seed))
    cluster = KafkaCluster(KafkaConfig(mode="bootstrap", bootstrap_servers=s.bootstrap_servers))
    producer = K2Producer(cluster, open_registry(SchemaRegistryConfig(url=s.registry_url)),
                          s.schema, s.topic, serializer="compiled")
    try:
        # the row as a K2 record (to_pylist gives a map as (key, value) pairs)
        producer.warm_up(arrow_to_records(table.slice(0, 1))[0], topic=s.topic + ".warmup")
        if s.keep_samples:  # after the warm-up, whose counters it reset
            producer.tracker.samples = []
        time.sleep(max(0.0, s.start_at - time.time()))
        started = time.time()
        sent = 0
        while sent < s.rows:
            due = min(s.rows, int((time.time() - started) * s.rate) + 1)
            if due > sent:
                n = min(due - sent, 8192)
                sent += producer.produce_table(table.slice(sent, n), chunk_rows=n)
            else:
                producer.poll(TICK_S)
        produced_s = time.time() - started
        report = producer.flush(timeout=s.flush_timeout_s, check=False)
        finished = time.time()
    finally:
        producer.close()
    samples = producer.tracker.samples
    return {"index": s.index, "pid": os.getpid(), "produced": report.produced,
            "acknowledged": report.delivered,
            "failed": report.failed, "errors": list(report.errors + report.client_errors),
            "started": started, "finished": finished, "produce_seconds": produced_s,
            "offered_rate": s.rate, "achieved_rate": sent / produced_s if produced_s else 0.0,
            "delivery_latency": producer.tracker.latency.encode(),
            **({"delivery_samples": samples} if samples is not None else {})}


class LoadCluster:
    """A Dask client on a LocalCluster of ``workers`` processes, or on ``scheduler``."""

    def __init__(self, workers: int, scheduler: str | None = None,
                 connect_timeout_s: float = 10.0) -> None:
        from distributed import Client, LocalCluster

        if workers < 1:
            raise ValueError(f"workers={workers!r}: must be at least 1")
        self.workers = workers
        self.scheduler = scheduler
        self._local: Any = None
        self._pinned: dict[str, str] = {}
        self._lost: dict[str, str] = {}
        self._alive: set[str] = set()
        self._alive_at = float("-inf")
        try:
            if scheduler:
                self.client = Client(  # type: ignore[no-untyped-call]
                    scheduler, timeout=connect_timeout_s)
            else:
                self._local = LocalCluster(  # type: ignore[no-untyped-call]
                    n_workers=workers, threads_per_worker=1, processes=True,
                    dashboard_address=":0", silence_logs=40)
                self.client = Client(  # type: ignore[no-untyped-call]
                    self._local, timeout=connect_timeout_s)
        except (OSError, TimeoutError) as exc:
            where = scheduler or "a LocalCluster"
            raise BackendError(f"Dask scheduler {where} is unreachable ({exc}); give the "
                               "address of a running scheduler (tcp://host:8786), or none "
                               "for a LocalCluster") from None
        self.client.wait_for_workers(workers, timeout=60)

    def worker_addresses(self) -> list[str]:
        return sorted(self.client.scheduler_info(n_workers=-1)["workers"])

    def submit(self, shares: list[Share]) -> list[Any]:
        """One future per share, share i on worker i (mod the workers there are). A share
        is never retried elsewhere (``retries=0``, pinned): run twice it would produce its
        rows twice."""
        addresses = self.worker_addresses()
        futures = []
        for s in shares:
            address = addresses[s.index % len(addresses)]
            future = self.client.submit(produce_share, s.to_dict(), pure=False,
                                        key=f"k2-share-{s.topic}-{s.index}",
                                        workers=[address], allow_other_workers=False,
                                        retries=0)
            self._pinned[str(future.key)] = address
            futures.append(future)
        return futures

    def lost(self, future: Any) -> str | None:
        """Why a pending share will never finish (its worker process is gone: a share
        pinned to a dead worker would otherwise wait for ever), or None. The scheduler is
        asked at most once a second."""
        key = str(future.key)
        if key in self._lost:
            return self._lost[key]
        if future.done():
            return None
        now = time.monotonic()
        if now - self._alive_at >= 1.0:
            self._alive = set(self.worker_addresses())
            self._alive_at = now
        address = self._pinned.get(key)
        if address is None or address in self._alive:
            return None
        self._lost[key] = f"its worker {address} died before the share finished"
        future.cancel()
        return self._lost[key]

    def settled(self, futures: list[Any]) -> bool:
        """Every share finished, failed or lost."""
        return all(f.done() or self.lost(f) is not None for f in futures)

    def close(self) -> None:
        self.client.close()  # type: ignore[no-untyped-call]
        if self._local is not None:
            self._local.close()

    def __enter__(self) -> LoadCluster:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()


def outcome(future: Any, lost: str | None = None) -> tuple[dict[str, Any] | None, str | None]:
    """(result, None) for a share that finished, (None, why) for a missing one (``lost``:
    why a share that did not finish never will, from :meth:`LoadCluster.lost`)."""
    if lost is not None:
        return None, lost
    try:
        return future.result(), None
    except Exception as exc:
        return None, f"{type(exc).__name__}: {exc}"
