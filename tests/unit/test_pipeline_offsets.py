"""Offsets kept in the Iceberg snapshot summary: encoding, resume, and a consumer killed
mid-run and restarted (real mock Kafka cluster, real SQLite catalog): every message id in
the table exactly once."""

from __future__ import annotations

import time
from pathlib import Path

import pyarrow as pa
import pytest
from confluent_kafka import Producer

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig, KafkaConfig, SchemaRegistryConfig
from k2matrix.backends.kafka import open_kafka
from k2matrix.backends.registry import open_registry
from k2matrix.errors import BackendError
from k2matrix.pipeline import offsets
from k2matrix.pipeline.loadgen import LoadCluster
from k2matrix.pipeline.sink import FellBehind, Sink
from k2matrix.pipeline.verify import verify_table
from k2matrix.producer.k2producer import K2Producer
from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.writer.iceberg import IcebergWriter


def test_encode_decode_roundtrip() -> None:
    props = offsets.encode("t", {3: 10, 0: 7})
    assert props == {"k2.offsets.t": '{"0":7,"3":10}'}
    assert offsets.decode("t", props) == {0: 7, 3: 10}
    assert offsets.decode("other", props) is None
    with pytest.raises(ValueError, match=r"k2\.offsets\.t"):
        offsets.decode("t", {"k2.offsets.t": "[1, 2"})


def test_positions_never_move_backwards() -> None:
    assert offsets.merge_positions({0: 5, 1: 9}, {0: 3, 2: 4}) == {0: 5, 1: 9, 2: 4}


def _trades_and_writer(tmp_path: Path, rows: int, seed: int) -> tuple[pa.Table, IcebergWriter]:
    """``rows`` V2 trades of ``seed`` and a writer on a fresh SQLite catalog."""
    catalog = open_catalog(CatalogConfig(warehouse=str(tmp_path / "wh")))
    data = generate_table(WorkloadSpec(schema="v2", rows=rows, seed=seed))
    return data, IcebergWriter(catalog, namespace="k2", schema="v2")


def _drain(sink: Sink, until: int, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    while sink.stats.committed + sink.pending < until:
        sink.step(timeout=0.1, max_messages=300)
        assert time.monotonic() < deadline, "the sink did not read the topic in time"


def test_consumer_killed_mid_run_resumes_from_the_snapshot_offsets(tmp_path: Path) -> None:
    rows = 3_000
    data, writer = _trades_and_writer(tmp_path, rows, seed=7)
    with open_kafka(KafkaConfig()) as cluster:
        topic = cluster.topic_name("restart")
        producer = K2Producer(cluster, open_registry(SchemaRegistryConfig()), "v2", topic)
        producer.produce_table(data.slice(0, 1_500))
        producer.flush()
        # first sink: commits once (1000-1300 rows, at most 300 read per step), has the
        # rest (under commit_rows) buffered when it is killed
        first = Sink(cluster, topic, writer, "trades", "v2", commit_interval_ms=600_000,
                     commit_rows=1_000)
        assert first.resumed_from == {}
        _drain(first, 1_500)
        first.wait()  # commits run on a thread of their own: let the one in flight land
        committed = first.stats.committed
        assert committed >= 1_000 and first.pending > 0
        table = writer.table("trades")
        saved = offsets.snapshot_offsets(table, topic)
        assert sum(saved.values()) == committed
        dropped = first.crash()
        assert dropped == 1_500 - committed
        # the rest is produced while no consumer runs; the second sink resumes
        producer.produce_table(data.slice(1_500))
        producer.flush()
        producer.close()
        second = Sink(cluster, topic, writer, "trades", "v2", commit_interval_ms=600_000,
                      commit_rows=100_000)
        assert second.resumed_from == saved
        _drain(second, rows - committed)
        second.close()
        assert committed + second.stats.committed == rows
    verified = verify_table(writer.table("trades"), "v2", [(7, rows)])
    assert verified.ok, verified.describe()
    assert verified.lost == 0 and verified.duplicated == 0


def test_an_unreachable_scheduler_is_named() -> None:
    with pytest.raises(BackendError, match=r"tcp://127\.0\.0\.1:9.*unreachable"):
        LoadCluster(1, scheduler="tcp://127.0.0.1:9", connect_timeout_s=1.0)


def test_messages_the_broker_dropped_before_they_were_read_fail_the_sink(
        tmp_path: Path) -> None:
    """The embedded mock cluster keeps 5 MiB a partition and drops the oldest: a sink that
    starts after 400K trades (over 5 MiB a partition, compressed) were produced must say
    messages were lost, not wait for them for ever."""
    rows = 400_000
    data, writer = _trades_and_writer(tmp_path, rows, seed=3)
    with open_kafka(KafkaConfig()) as cluster:
        topic = cluster.topic_name("dropped")
        producer = K2Producer(cluster, open_registry(SchemaRegistryConfig()), "v2", topic)
        producer.produce_table(data)
        producer.flush()
        producer.close()
        sink = Sink(cluster, topic, writer, "trades", "v2", commit_interval_ms=600_000,
                    commit_rows=1_000_000)
        try:
            with pytest.raises(FellBehind, match=r"\[\d+\]: \d+ message\(s\) were gone from "
                                                 r"the broker before they were read") as fell:
                _drain(sink, rows)
            assert sink.skipped > 0 and fell.value.dropped > 0
        finally:
            sink.crash()


def test_offsets_a_broker_skipped_are_holes_not_losses(tmp_path: Path) -> None:
    """Transaction markers take an offset each and are never delivered (Tansu leaves such
    holes across a restart too): the sink counts them as holes, inside one read and between
    two reads, and every row reaches the table exactly once."""
    rows = 600
    data, writer = _trades_and_writer(tmp_path, rows, seed=11)
    with open_kafka(KafkaConfig()) as cluster:
        topic = cluster.topic_name("holes")
        cluster.create_topic(topic, partitions=1)
        encoder = K2Producer(cluster, open_registry(SchemaRegistryConfig()), "v2", topic)
        values = encoder.serialize_table(data)
        encoder.close()
        txn = Producer({**cluster.producer_config(), "transactional.id": topic})
        txn.init_transactions(10)

        def transaction(part: list[bytes]) -> None:
            txn.begin_transaction()
            for value in part:
                txn.produce(topic, value, partition=0)
            txn.commit_transaction(10)

        transaction(values[:200])
        transaction(values[200:400])  # a marker at 200: a hole inside the first read
        sink = Sink(cluster, topic, writer, "trades", "v2", commit_interval_ms=600_000,
                    commit_rows=100_000)
        try:
            _drain(sink, 400)
            assert sink.stats.holes == 1 and sink.skipped == 0
            transaction(values[400:])  # read alone: it starts one past the sink's position
            _drain(sink, rows)
            assert sink.stats.holes == 2 and sink.skipped == 0
        finally:
            sink.close()
        txn.flush(10)
    assert sink.stats.committed == rows
    verified = verify_table(writer.table("trades"), "v2", [(11, rows)])
    assert verified.ok, verified.describe()
