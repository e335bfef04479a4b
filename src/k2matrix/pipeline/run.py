"""One pipeline run: producer shares on Dask workers -> topic -> sink -> table <- probe.

:func:`run_pipeline` starts the shares (each serializes its rows, then all start together),
drives the sink in this process while the probe polls the table on a thread, optionally
kills the sink mid-run and starts a new one (``restart_at_s``: the new sink resumes from the
offsets in the table's snapshot), drains until every acknowledged message is committed,
then verifies the table (see :mod:`k2matrix.pipeline.verify`) and returns a
:class:`PipelineResult`.

A sink that falls behind the broker's retention (the broker dropped messages it had not read
yet) is a measured outcome, not an error: the run stops the producers, commits what the sink
had read, records when it fell behind (``fell_behind_at_s``), the backlog then and the rate
the sink held until then, and verifies that every committed row is in the table once with
its content (nothing the sink read is lost). With ``sink = False`` the producers run alone
(the baseline a pipeline's throughput is compared with). Anything else that goes wrong (a
broker or the catalog gone, a drain that times out, a share missing) raises a
:class:`PipelineError` whose message gives produced, acknowledged, consumed and committed.
"""

from __future__ import annotations

import contextlib
import time
from dataclasses import dataclass, field
from typing import Any

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import Backends
from k2matrix.backends.kafka import open_kafka
from k2matrix.errors import BackendError, K2Error
from k2matrix.pipeline.loadgen import LoadCluster, Share, outcome
from k2matrix.pipeline.probe import Probe, freshness, visible_delays
from k2matrix.pipeline.sink import FellBehind, Sink
from k2matrix.pipeline.sinkstats import SinkStats
from k2matrix.pipeline.verify import Verified, verify_committed, verify_table
from k2matrix.producer.latency import LatencyHistogram, merge_all
from k2matrix.writer.iceberg import IcebergWriter

LOOPBACK = ("127.", "localhost", "[::1]", "::1")
# the figures of a run whose sink fell behind the broker's retention (FellBehindAt.to_dict)
FELL_KEYS = ("fell_behind_at_s", "backlog_at_fall", "committed_at_fall",
             "sustainable_rate_so_far", "fell_behind_partition", "dropped_by_retention",
             "fell_behind")


class PipelineError(K2Error):
    """A pipeline run that could not finish; the message carries every count."""


@dataclass(frozen=True)
class PipelineConfig:
    schema: str = "v2"
    rate: float = 20_000.0  # offered rows/s, all workers together
    seconds: float = 5.0
    workers: int = 1
    commit_interval_ms: int = 1000
    commit_rows: int = 100_000
    probe_interval_ms: int = 50
    seed: int = 0
    restart_at_s: float | None = None
    scheduler: str | None = None
    start_delay_s: float = 3.0  # without a barrier: from submitting the shares to the start
    ready_timeout_s: float = 300.0  # the shares' generation and serialization, at most
    drain_timeout_s: float = 120.0
    flush_timeout_s: float = 60.0  # a share's wait for its last acknowledgements
    sink: bool = True  # False: the producers alone, nothing consumes (the baseline)

    def __post_init__(self) -> None:
        if self.schema != "v2":
            raise ValueError(f"schema={self.schema!r}: the pipeline checks exactly-once by "
                             "message_id, which only the V2 trade has; use v2")
        for name in ("rate", "seconds", "workers", "commit_interval_ms", "commit_rows"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be positive")

    @property
    def rows_per_worker(self) -> int:
        return max(1, int(self.rate * self.seconds / self.workers))


def check_placement(config: PipelineConfig, backends: Backends) -> None:
    """Refuse, before anything starts, producers on a remote Dask cluster with a broker only
    this machine can reach (the embedded mock cluster, or a loopback address)."""
    if not config.scheduler:
        return
    kafka = backends.kafka
    servers = [s.strip() for s in kafka.bootstrap_servers.split(",") if s.strip()]
    if kafka.mode == "mock" or any(s.startswith(LOOPBACK) for s in servers):
        where = ("the embedded mock cluster (on this machine's loopback)" if kafka.mode == "mock"
                 else f"bootstrap {kafka.bootstrap_servers} (a loopback address)")
        raise ValueError(
            f"--scheduler {config.scheduler} runs the producers on its workers, which cannot "
            f"reach {where}: give a broker address the workers can reach with --bootstrap "
            "HOST:PORT, e.g. a Tansu broker on an address of this machine they reach "
            "(python -m k2matrix.backends.tansu start --host ADDRESS)")


@dataclass
class FellBehindAt:
    """When and how the sink fell behind the broker's retention."""

    at_s: float  # since the producers' start
    backlog: int  # consumer lag then (messages)
    committed: int  # rows committed then
    rate_so_far: float  # rows/s the sink consumed until then
    partition: int
    dropped: int  # messages of that partition gone before the sink read them
    reason: str

    def to_dict(self) -> dict[str, Any]:
        values = (round(self.at_s, 3), self.backlog, self.committed,
                  round(self.rate_so_far, 1), self.partition, self.dropped, self.reason)
        return dict(zip(FELL_KEYS, values, strict=True))


@dataclass
class PipelineResult:
    config: PipelineConfig
    shares: list[dict[str, Any]]
    missing: list[str]
    stats: SinkStats
    freshness: LatencyHistogram
    delivery: LatencyHistogram
    verified: Verified | None  # None: producers alone, no table to check
    started: float
    last_commit: float
    restarts: int = 0
    dropped_at_restart: int = 0
    probe_polls: int = 0
    fell_behind: FellBehindAt | None = None
    visible_ms: list[float] = field(default_factory=list)  # commit -> seen by the probe
    broker: str = ""
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def acknowledged(self) -> int:
        return sum(int(s["acknowledged"]) for s in self.shares)

    @property
    def produced_s(self) -> float:
        """First produce to last acknowledgement."""
        return max(1e-9, max(float(s["finished"]) for s in self.shares) - self.started)

    @property
    def seconds(self) -> float:
        if not self.config.sink:
            return self.produced_s
        return max(1e-9, self.last_commit - self.started)

    @property
    def throughput(self) -> float:
        """Rows in the table (acknowledged rows with no sink) per second of the run."""
        if not self.config.sink:
            return self.acknowledged / self.seconds
        return self.stats.committed / self.seconds

    @property
    def producer_rate(self) -> float:
        """The rate the producers got acknowledged, together."""
        return self.acknowledged / self.produced_s


def _counts(shares: list[dict[str, Any]], stats: SinkStats) -> str:
    produced = sum(int(s["produced"]) for s in shares)
    acked = sum(int(s["acknowledged"]) for s in shares)
    return (f"produced={produced if shares else 'unknown'} "
            f"acknowledged={acked if shares else 'unknown'} consumed={stats.consumed} "
            f"committed={stats.committed}")


def run_pipeline(config: PipelineConfig, backends: Backends, table_name: str = "pipeline"
                 ) -> PipelineResult:
    check_placement(config, backends)
    with open_kafka(backends.kafka) as cluster, \
            LoadCluster(config.workers, config.scheduler) as load:
        catalog = open_catalog(backends.catalog)
        writer = IcebergWriter(catalog, namespace=backends.catalog.namespace,
                               schema=config.schema)
        table_name = f"{table_name}_{cluster.topic_name('p').rsplit('.', 1)[1]}"
        writer.ensure_table(table_name, config.schema)
        topic = cluster.topic_name(f"pipeline-{config.schema}")
        barrier = f"k2-start-{topic}"
        shares = [Share(i, cluster.bootstrap_servers, backends.schema_registry.url, topic,
                        config.schema, config.seed + i, config.rows_per_worker,
                        config.rate / config.workers, 0.0,
                        flush_timeout_s=config.flush_timeout_s, barrier=barrier,
                        ready_timeout_s=config.ready_timeout_s)
                  for i in range(config.workers)]
        futures, start_at = load.start(shares, config.ready_timeout_s)
        stats = SinkStats()
        done: list[dict[str, Any]] = []
        missing: list[str] = []
        probe = Probe(catalog, writer.identifier(table_name), config.probe_interval_ms / 1e3)
        restarts = dropped = 0
        sink: Sink | None = None
        fell: FellBehindAt | None = None
        try:
            if all(f.done() and f.status == "error" for f in futures):
                raise PipelineError(f"every producer share failed{_share_errors(futures)}: "
                                    f"{_counts(done, stats)}")
            time.sleep(max(0.0, start_at - time.time() + 0.2))
            if config.sink:
                sink = _sink(cluster, topic, writer, table_name, config, stats)
                probe.start()
            deadline = None
            while True:
                if sink is not None:
                    try:
                        sink.step()
                    except FellBehind as exc:
                        fell = _fell_behind(exc, sink, stats, start_at)
                        load.stop(barrier)
                        sink.close()  # commits what it read: contiguous, before the gap
                        sink = None
                else:
                    time.sleep(0.05)
                if (sink is not None and config.restart_at_s is not None and not restarts
                        and time.time() - start_at >= config.restart_at_s):
                    dropped = sink.crash()
                    restarts += 1
                    sink = _sink(cluster, topic, writer, table_name, config, stats)
                if deadline is None and load.settled(futures):
                    for f in futures:
                        share, why = outcome(f, load.lost(f))
                        if share is None:
                            missing.append(f"share {len(done) + len(missing)}: {why}")
                        else:
                            done.append(share)
                    deadline = time.time() + config.drain_timeout_s
                if deadline is not None:
                    if sink is None:
                        break
                    acked = sum(int(s["acknowledged"]) for s in done)
                    if stats.committed + sink.pending >= acked:
                        sink.close()
                        break
                    if time.time() > deadline:
                        raise PipelineError(
                            f"the sink did not drain {topic} within "
                            f"{config.drain_timeout_s:g} s: {_counts(done, stats)}")
            if probe.error is not None:
                raise PipelineError(f"the query probe failed ({probe.error}): "
                                    f"{_counts(done, stats)}")
        except BackendError as exc:
            _abandon(sink)
            raise PipelineError(f"{exc}{_share_errors(futures)}: {_counts(done, stats)}"
                                ) from None
        except BaseException:  # a PipelineError, or the run stopped (a signal): the sink's
            _abandon(sink)  # threads and consumer end before the brokers and workers do
            raise
        finally:
            probe.stop()
        unacked = sum(int(s["produced"]) - int(s["acknowledged"]) for s in done)
        if unacked:
            raise PipelineError(f"{unacked} produced message(s) were never acknowledged by "
                                f"the brokers (first errors: {_errors(done)}): "
                                f"{_counts(done, stats)}")
        if missing:
            raise PipelineError(f"{len(missing)} of {len(shares)} producer shares missing "
                                f"(not counted): {'; '.join(missing)}; {_counts(done, stats)}")
        expected = [(s.seed, s.rows) for s in shares]
        table = writer.table(table_name)
        if not config.sink:
            verified = None
        elif fell is not None:
            verified = verify_committed(table, config.schema, expected, stats.committed)
        else:
            verified = verify_table(table, config.schema, expected)
        fresh, unseen = freshness(stats.commits, probe.observations)
        delivery = merge_all(LatencyHistogram.decode(s["delivery_latency"]) for s in done)
        result = PipelineResult(config, done, missing, stats, fresh, delivery, verified,
                                started=min(float(s["started"]) for s in done),
                                last_commit=stats.commits[-1].at if stats.commits else 0.0,
                                restarts=restarts, dropped_at_restart=dropped,
                                probe_polls=probe.polls, fell_behind=fell,
                                visible_ms=visible_delays(stats.commits, probe.observations),
                                broker=f"{cluster.mode} {cluster.bootstrap_servers}")
        result.extra["unseen_by_probe"] = unseen
        catalog.drop_table(writer.identifier(table_name))
        return result


def _fell_behind(exc: FellBehind, sink: Sink, stats: SinkStats, start_at: float
                 ) -> FellBehindAt:
    at = time.time() - start_at
    backlog = stats.lag[-1][1] if stats.lag else 0
    with contextlib.suppress(BackendError):
        backlog = sink.sample_lag()
    return FellBehindAt(at, backlog, stats.committed, stats.consumed / max(at, 1e-9),
                        exc.partition, exc.dropped, str(exc))


def _errors(shares: list[dict[str, Any]]) -> str:
    errors = [str(e) for s in shares for e in s.get("errors", [])][:3]
    return "; ".join(errors) or "none reported"


def _share_errors(futures: list[Any]) -> str:
    """The errors of shares that already failed (a producer that could not reach the
    brokers leaves the topic empty: the sink's error alone would not say why)."""
    why = []
    for i, f in enumerate(futures):
        if f.done() and f.status == "error":
            _, reason = outcome(f)
            why.append(f"share {i}: {reason}")
    return f" (producer shares failed: {'; '.join(why)})" if why else ""


def _abandon(sink: Sink | None) -> None:
    """Close a failed run's consumer without committing (a client left open would wait on
    the dead brokers when the process exits)."""
    if sink is not None:
        with contextlib.suppress(Exception):
            sink.crash()


def _sink(cluster: Any, topic: str, writer: IcebergWriter, table_name: str,
          config: PipelineConfig, stats: SinkStats) -> Sink:
    return Sink(cluster, topic, writer, table_name, config.schema,
                commit_interval_ms=config.commit_interval_ms, commit_rows=config.commit_rows,
                group=f"k2matrix-pipeline-{topic}", stats=stats)
