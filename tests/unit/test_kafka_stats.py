"""The producer's kafka.* counters from librdkafka's statistics: on synthetic documents with a
known truth (per-broker cumulative fields, the batch window reset per document, a broker that
leaves), and on the mock cluster (real Kafka protocol): known messages give their exact count,
at least one batch and Produce request, and more bytes on the wire than their payload."""

from __future__ import annotations

import json
from typing import Any

import pytest

from k2matrix import counters
from k2matrix.backends.kafka import KafkaCluster
from k2matrix.producer.k2producer import K2Producer
from k2matrix.producer.kafka_stats import NAMES, KafkaStats, moved
from k2matrix.producer.suite import ProducerBench
from k2matrix.workload.generate import WorkloadSpec, generate_records


def _doc(brokers: dict[str, tuple[int, int, int]], txmsgs: int, batches: int) -> dict[str, Any]:
    """A statistics document: per broker (tx, txbytes, Produce requests)."""
    return {"txmsgs": txmsgs, "txmsg_bytes": txmsgs * 10,
            "brokers": {name: {"tx": tx, "txbytes": size, "txretries": 0,
                               "req": {"Produce": produce, "Metadata": 1}}
                        for name, (tx, size, produce) in brokers.items()},
            "topics": {"t": {"batchcnt": {"cnt": batches, "sum": batches * 3}}}}


def test_moved_reads_cumulative_fields_per_broker_and_windows_per_document() -> None:
    last: dict[str, float] = {}
    first = moved(_doc({"b/1": (3, 300, 2), "b/2": (1, 50, 0)}, txmsgs=6, batches=2), last)
    assert first == {"kafka.requests": 4, "kafka.bytes": 350, "kafka.retries": 0,
                     "kafka.produce_requests": 2, "kafka.messages": 6,
                     "kafka.message_bytes": 60, "kafka.batches": 2}
    # b/2 leaves the metadata: what it sent stays counted, nothing goes negative
    second = moved(_doc({"b/1": (5, 500, 4)}, txmsgs=9, batches=1), last)
    assert second["kafka.requests"] == 2 and second["kafka.bytes"] == 200
    assert second["kafka.produce_requests"] == 2 and second["kafka.messages"] == 3
    assert second["kafka.batches"] == 1  # the window holds this interval's batches only
    assert set(second) == set(NAMES)


def test_documents_add_to_the_totals_and_the_process_counters() -> None:
    stats = KafkaStats(interval_ms=50)
    before = counters.snapshot()
    stats.on_stats(json.dumps(_doc({"b/1": (3, 300, 2)}, txmsgs=6, batches=2)))
    stats.on_stats(json.dumps(_doc({"b/1": (4, 420, 3)}, txmsgs=8, batches=1)))
    stats.on_stats("not json")  # ignored
    assert stats.documents == 2
    assert stats.snapshot()["kafka.bytes"] == 420 and stats.snapshot()["kafka.batches"] == 3
    moved_here = counters.delta(before, counters.snapshot())
    assert moved_here["kafka.produce_requests"] >= 3 and moved_here["kafka.messages"] >= 8
    with pytest.raises(ValueError, match="interval_ms=0"):
        KafkaStats(interval_ms=0)


def test_a_produce_to_the_mock_cluster_is_counted(cluster: KafkaCluster, registry: Any) -> None:
    records = generate_records(WorkloadSpec("v2", 400, 11))
    with K2Producer(cluster, registry, "v2", stats_interval_ms=50, compression_type="none",
                    linger_ms=20) as producer:
        producer.warm_up(records[0])
        start = producer.settle_counts()
        assert start["kafka.messages"] == 1 and start["kafka.produce_requests"] >= 1
        producer.produce_trades(records)
        report = producer.flush()
        end = producer.settle_counts()
    work = counters.delta(start, end)
    assert report.ok and report.produced == 400
    assert work["kafka.messages"] == 400
    assert work["kafka.message_bytes"] >= report.bytes  # values, and their keys
    assert work["kafka.bytes"] > report.bytes  # uncompressed payload plus request framing
    assert 1 <= work["kafka.batches"] <= 400
    assert 1 <= work["kafka.produce_requests"] <= work["kafka.batches"]
    assert work["kafka.requests"] >= work["kafka.produce_requests"]
    assert work["kafka.retries"] == 0


def test_the_suite_records_the_mean_per_round(cluster: KafkaCluster, registry: Any) -> None:
    bench = ProducerBench("k2", cluster, registry)
    try:
        producer = bench.make("v2", "counts")
        records = generate_records(WorkloadSpec("v2", 50, 12))
        bench.warm_up(producer, records[0])
        before = bench.settled(producer)
        for _ in range(4):
            producer.produce_trades(records)
            producer.flush()
        info: dict[str, Any] = {"counters": {"test.own": 1.0}}
        bench.record_counters(info, producer, before, rounds=4)
    finally:
        bench.close()
    assert info["counters"]["kafka.messages"] == 50
    assert info["counters"]["kafka.batches"] >= 1
    assert info["counters"]["test.own"] == 1.0  # what the test set stays


def test_statistics_off_counts_nothing(cluster: KafkaCluster, registry: Any) -> None:
    with K2Producer(cluster, registry, "v2", stats_interval_ms=0) as producer:
        producer.warm_up(generate_records(WorkloadSpec("v2", 1, 13))[0])
        assert producer.stats is None and producer.settle_counts() == {}
