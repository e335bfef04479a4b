"""Load from many processes: producer shares run as tasks on Dask distributed workers.

Dask distributed is the engine (see docs/architecture.md for why not Ray): by default a
:class:`distributed.LocalCluster` with one single-threaded worker process per requested
worker (one per core); with ``scheduler`` any running scheduler's address (a real cluster),
which must have at least that many workers. Each share is pinned to its own worker,
generates its own rows (``WorkloadSpec`` seed ``seed + index``, so message ids never
collide), serializes all of them before the clock starts (the Arrow path: column-wise,
numpy, into Confluent-wire values), warms its producer up on a side topic, then starts with
the others and offers ``rate`` rows/s of the pre-serialized values paced in 10 ms ticks.

Coordinated start: with :meth:`LoadCluster.start` every share reports ready on a Dask queue
(named by the share's ``barrier``) once serialized and warmed up, and waits for the start
time the driver publishes when all are ready (however long generation took on a loaded
machine); without a barrier a share starts at its ``start_at``. The driver may also raise
the barrier's stop event (:meth:`LoadCluster.stop`): the shares stop offering within a tick
and report what they produced.

A share returns a plain dict: counts, timing per stage, its host, its encoded delivery
latency histogram. A share whose worker died or raised is *missing*: reported, not counted
(a share pinned to a worker that died would wait for ever: :meth:`LoadCluster.lost` sees
the worker gone and cancels it).
"""

from __future__ import annotations

import importlib
import os
import socket
import time
from dataclasses import asdict, dataclass
from typing import Any

from k2matrix.errors import BackendError

TICK_S = 0.01
STOP_CHECK_S = 0.25  # how often a share asks whether the driver stopped the run
START_LEAD_S = 0.5  # from the last share ready to the common start


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
    barrier: str | None = None  # names the Dask queue, variable and events of the start
    ready_timeout_s: float = 300.0  # how long a ready share waits for the start

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


def _keys(table: Any) -> list[bytes | None]:
    """The rows' keys (symbol, UTF-8): one bytes object per distinct symbol, shared."""
    import pyarrow.compute as pc

    encoded = pc.dictionary_encode(table.column("symbol")).combine_chunks()
    words = [None if s is None else str(s).encode() for s in encoded.dictionary.to_pylist()]
    return [None if i is None else words[i] for i in encoded.indices.to_pylist()]


def _distributed() -> Any:
    """The distributed package, untyped (its coordination primitives have no annotations)."""
    return importlib.import_module("distributed")


class _Signals:
    """A share's side of the barrier (nothing without one)."""

    def __init__(self, barrier: str | None) -> None:
        self.barrier = barrier
        self._stop: Any = None
        self._checked = 0.0

    def ready_then_start(self, index: int, start_at: float, timeout: float) -> float:
        if self.barrier is None:
            return start_at
        dask = _distributed()
        dask.Queue(f"{self.barrier}-ready").put(index)
        if not dask.Event(f"{self.barrier}-go").wait(timeout=timeout):
            raise BackendError(f"share {index} was ready and got no start within "
                               f"{timeout:g} s: the driver is gone")
        self._stop = dask.Event(f"{self.barrier}-stop")
        return float(dask.Variable(f"{self.barrier}-start").get(timeout=timeout))

    def stopped(self) -> bool:
        now = time.monotonic()
        if self._stop is None or now - self._checked < STOP_CHECK_S:
            return False
        self._checked = now
        return bool(self._stop.is_set())


def produce_share(share: dict[str, Any]) -> dict[str, Any]:
    """Run one share (in a worker process); the plain-dict outcome."""
    from k2matrix.backends.config import KafkaConfig, SchemaRegistryConfig
    from k2matrix.backends.kafka import KafkaCluster
    from k2matrix.backends.registry import open_registry
    from k2matrix.producer.k2producer import K2Producer
    from k2matrix.schemas import arrow_to_records
    from k2matrix.workload.generate import WorkloadSpec, generate_table

    s = Share(**share)
    signals = _Signals(s.barrier)
    t0 = time.perf_counter()
    table = generate_table(WorkloadSpec(schema=s.schema, rows=s.rows, seed=s.seed))
    generate_s = time.perf_counter() - t0
    cluster = KafkaCluster(KafkaConfig(mode="bootstrap", bootstrap_servers=s.bootstrap_servers))
    producer = K2Producer(cluster, open_registry(SchemaRegistryConfig(url=s.registry_url)),
                          s.schema, s.topic, serializer="compiled")
    busy = flush_s = 0.0
    try:
        # the row as a K2 record (to_pylist gives a map as (key, value) pairs)
        producer.warm_up(arrow_to_records(table.slice(0, 1))[0], topic=s.topic + ".warmup")
        if s.keep_samples:  # after the warm-up, whose counters it reset
            producer.tracker.samples = []
        t0 = time.perf_counter()
        values, keys = producer.serialize_table(table), _keys(table)
        serialize_s = time.perf_counter() - t0
        del table
        start_at = signals.ready_then_start(s.index, s.start_at, s.ready_timeout_s)
        time.sleep(max(0.0, start_at - time.time()))
        started = time.time()
        sent = 0
        while sent < s.rows and not signals.stopped():
            due = min(s.rows, int((time.time() - started) * s.rate) + 1)
            if due > sent:
                n = min(due - sent, 8192)
                t0 = time.perf_counter()
                sent += producer.produce_payloads(values[sent:sent + n], keys[sent:sent + n])
                busy += time.perf_counter() - t0
            else:
                producer.poll(TICK_S)
        produced_s = time.time() - started
        t0 = time.perf_counter()
        report = producer.flush(timeout=s.flush_timeout_s, check=False)
        flush_s = time.perf_counter() - t0
        finished = time.time()
    finally:
        producer.close()
    samples = producer.tracker.samples
    return {"index": s.index, "pid": os.getpid(), "host": socket.gethostname(),
            "produced": report.produced, "acknowledged": report.delivered,
            "failed": report.failed, "errors": list(report.errors + report.client_errors),
            "stopped_early": sent < s.rows,
            "started": started, "finished": finished, "produce_seconds": produced_s,
            "offered_rate": s.rate, "achieved_rate": sent / produced_s if produced_s else 0.0,
            "stages_s": {"generate": round(generate_s, 3), "serialize": round(serialize_s, 3),
                         "produce": round(busy, 3), "flush": round(flush_s, 3)},
            "delivery_latency": producer.tracker.latency.encode(),
            **({"delivery_samples": samples} if samples is not None else {})}


class LoadCluster:
    """A Dask client on a LocalCluster of ``workers`` processes, or on ``scheduler``."""

    def __init__(self, workers: int, scheduler: str | None = None,
                 connect_timeout_s: float = 10.0, workers_timeout_s: float = 60.0) -> None:
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
        self._looks: int = 0  # how many times the scheduler was asked for its workers
        self._absent: dict[str, int] = {}  # share key -> the look that first missed its worker
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
        self._wait_for_workers(workers, 10.0 if scheduler else workers_timeout_s)

    def _wait_for_workers(self, workers: int, timeout: float) -> None:
        try:
            self.client.wait_for_workers(workers, timeout=timeout)
        except TimeoutError:  # distributed's WorkerStartTimeoutError is one
            have = len(self.worker_addresses())
            where = f"the Dask scheduler {self.scheduler}" if self.scheduler else \
                "the LocalCluster"
            self.close()
            raise BackendError(
                f"{where} has {have} worker(s) after {timeout:g} s and {workers} were asked "
                f"for (--workers {workers}): pass --workers {have} or fewer, or start more "
                "workers on the scheduler") from None

    def worker_addresses(self) -> list[str]:
        """The scheduler's workers, asked now. (``Client.scheduler_info`` returns the
        client's cache, which the client's own periodic refresh replaces with one holding no
        workers at any moment: read under load, every worker looked gone; docs/pipeline.md.)"""
        client: Any = self.client
        info = client.sync(client.scheduler.identity, n_workers=-1)
        return sorted(info["workers"])

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

    def start(self, shares: list[Share], timeout_s: float = 300.0) -> tuple[list[Any], float]:
        """Submit shares that all have one ``barrier``; wait until each is ready (or has
        ended: a share that failed is reported by the run), then publish the common start
        time. (futures, start time)."""
        dask = _distributed()
        barrier = shares[0].barrier
        if barrier is None or any(s.barrier != barrier for s in shares):
            raise ValueError("LoadCluster.start: every share needs the same barrier")
        futures = self.submit(shares)
        ready: set[int] = set()
        queue = dask.Queue(f"{barrier}-ready", client=self.client)
        deadline = time.monotonic() + timeout_s
        while len(ready) < len(shares):
            if any(f.done() or self.lost(f) is not None for f in futures):
                break  # a share ended before its start: start the others, report it
            if time.monotonic() > deadline:
                raise BackendError(f"{len(shares) - len(ready)} of {len(shares)} producer "
                                   f"share(s) were not ready within {timeout_s:g} s")
            if queue.qsize():  # (a get that times out logs an error on the scheduler)
                ready.update(int(i) for i in queue.get(batch=True))
            else:
                time.sleep(0.1)
        start_at = time.time() + START_LEAD_S
        dask.Variable(f"{barrier}-start", client=self.client).set(start_at)
        dask.Event(f"{barrier}-go", client=self.client).set()
        return futures, start_at

    def stop(self, barrier: str) -> None:
        """Ask the shares of ``barrier`` to stop offering (within ``STOP_CHECK_S``)."""
        _distributed().Event(f"{barrier}-stop", client=self.client).set()

    def lost(self, future: Any) -> str | None:
        """Why a pending share will never finish (its worker process is gone: a share
        pinned to a dead worker would otherwise wait for ever), or None. The scheduler is
        asked at most once a second; a worker is gone when two looks in a row miss it."""
        key = str(future.key)
        if key in self._lost:
            return self._lost[key]
        if future.done():
            return None
        now = time.monotonic()
        if now - self._alive_at >= 1.0:
            self._alive = set(self.worker_addresses())
            self._alive_at = now
            self._looks += 1
        address = self._pinned.get(key)
        if address is None or address in self._alive:
            self._absent.pop(key, None)
            return None
        if self._looks - self._absent.setdefault(key, self._looks) < 1:
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
