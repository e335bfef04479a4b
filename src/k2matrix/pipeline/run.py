"""One pipeline run: producer shares on Dask workers -> topic -> sink -> table <- probe.

:func:`run_pipeline` starts the shares (coordinated start), drives the sink in this process
while the probe polls the table on a thread, optionally kills the sink mid-run and starts a
new one (``restart_at_s``: the new sink resumes from the offsets in the table's snapshot),
drains until every acknowledged message is committed, then verifies the table (see
:mod:`k2matrix.pipeline.verify`) and returns a :class:`PipelineResult`. Anything that goes
wrong (a broker or the catalog gone, a drain that times out, a share missing) raises a
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
from k2matrix.pipeline.probe import Probe, freshness
from k2matrix.pipeline.sink import Sink, SinkStats
from k2matrix.pipeline.verify import Verified, verify_table
from k2matrix.producer.latency import LatencyHistogram, merge_all
from k2matrix.writer.iceberg import IcebergWriter


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
    start_delay_s: float = 3.0
    drain_timeout_s: float = 120.0
    flush_timeout_s: float = 60.0  # a share's wait for its last acknowledgements

    def __post_init__(self) -> None:
        if self.schema != "v2":
            raise ValueError(f"schema={self.schema!r}: the pipeline checks exactly-once by "
                             "message_id, which only the V2 trade has; use v2")

    @property
    def rows_per_worker(self) -> int:
        return max(1, int(self.rate * self.seconds / self.workers))


@dataclass
class PipelineResult:
    config: PipelineConfig
    shares: list[dict[str, Any]]
    missing: list[str]
    stats: SinkStats
    freshness: LatencyHistogram
    delivery: LatencyHistogram
    verified: Verified
    started: float
    last_commit: float
    restarts: int = 0
    dropped_at_restart: int = 0
    probe_polls: int = 0
    extra: dict[str, Any] = field(default_factory=dict)

    @property
    def acknowledged(self) -> int:
        return sum(int(s["acknowledged"]) for s in self.shares)

    @property
    def seconds(self) -> float:
        return max(1e-9, self.last_commit - self.started)

    @property
    def throughput(self) -> float:
        return self.acknowledged / self.seconds


def _counts(shares: list[dict[str, Any]], stats: SinkStats) -> str:
    produced = sum(int(s["produced"]) for s in shares)
    acked = sum(int(s["acknowledged"]) for s in shares)
    return (f"produced={produced if shares else 'unknown'} "
            f"acknowledged={acked if shares else 'unknown'} consumed={stats.consumed} "
            f"committed={stats.committed}")


def run_pipeline(config: PipelineConfig, backends: Backends, table_name: str = "pipeline"
                 ) -> PipelineResult:
    with open_kafka(backends.kafka) as cluster, \
            LoadCluster(config.workers, config.scheduler) as load:
        catalog = open_catalog(backends.catalog)
        writer = IcebergWriter(catalog, namespace=backends.catalog.namespace,
                               schema=config.schema)
        table_name = f"{table_name}_{cluster.topic_name('p').rsplit('.', 1)[1]}"
        writer.ensure_table(table_name, config.schema)
        topic = cluster.topic_name(f"pipeline-{config.schema}")
        start_at = time.time() + config.start_delay_s
        shares = [Share(i, cluster.bootstrap_servers, backends.schema_registry.url, topic,
                        config.schema, config.seed + i, config.rows_per_worker,
                        config.rate / config.workers, start_at,
                        flush_timeout_s=config.flush_timeout_s)
                  for i in range(config.workers)]
        futures = load.submit(shares)
        stats = SinkStats()
        done: list[dict[str, Any]] = []
        missing: list[str] = []
        probe = Probe(catalog, writer.identifier(table_name), config.probe_interval_ms / 1e3)
        restarts = dropped = 0
        sink: Sink | None = None
        try:
            time.sleep(max(0.0, start_at - time.time() + 0.2))
            sink = _sink(cluster, topic, writer, table_name, config, stats)
            probe.start()
            deadline = None
            while True:
                sink.step()
                if (config.restart_at_s is not None and not restarts
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
            raise PipelineError(f"{exc}: {_counts(done, stats)}") from None
        except PipelineError:
            _abandon(sink)
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
        fresh, unseen = freshness(stats.commits, probe.observations)
        verified = verify_table(writer.table(table_name), config.schema,
                                [(s.seed, s.rows) for s in shares])
        delivery = merge_all(LatencyHistogram.decode(s["delivery_latency"]) for s in done)
        result = PipelineResult(config, done, missing, stats, fresh, delivery, verified,
                                started=min(float(s["started"]) for s in done),
                                last_commit=stats.commits[-1].at if stats.commits else 0.0,
                                restarts=restarts, dropped_at_restart=dropped,
                                probe_polls=probe.polls)
        result.extra["unseen_by_probe"] = unseen
        catalog.drop_table(writer.identifier(table_name))
        return result


def _errors(shares: list[dict[str, Any]]) -> str:
    errors = [str(e) for s in shares for e in s.get("errors", [])][:3]
    return "; ".join(errors) or "none reported"


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
