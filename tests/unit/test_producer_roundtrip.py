"""The producer end to end on librdkafka's mock cluster (real Kafka protocol on loopback):
every serializer's messages are delivered and read back equal by a separate consumer."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from k2matrix.backends.kafka import KafkaCluster
from k2matrix.backends.registry import register_avro
from k2matrix.errors import VerificationError, WorkloadError
from k2matrix.producer.bench import (
    RawReference,
    extra_info,
    measure_memory,
    produce_paced,
    rss_bytes,
)
from k2matrix.producer.k2producer import K2Producer
from k2matrix.producer.protocol import TradeProducer
from k2matrix.producer.serializers import SERIALIZERS, SerializerCache
from k2matrix.producer.verify import verify_topic
from k2matrix.tools.serializers import main
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table


def test_mock_cluster_has_the_configured_brokers(cluster: KafkaCluster) -> None:
    assert cluster.mode == "mock"
    assert len(cluster.bootstrap_servers.split(",")) == 3
    assert cluster.bootstrap_servers.startswith("127.0.0.1:")


def test_registry_is_the_in_memory_one_and_ids_are_stable(registry: Any) -> None:
    assert type(registry).__name__ == "MockSchemaRegistryClient"
    first = register_avro(registry, "t-value", "v2")
    assert register_avro(registry, "t-value", "v2") == first


@pytest.mark.parametrize("schema", ["v1", "v2"])
@pytest.mark.parametrize("kind", SERIALIZERS)
def test_every_serializer_delivers_and_reads_back_equal(cluster: KafkaCluster, registry: Any,
                                                        schema: str, kind: str) -> None:
    records = generate_records(WorkloadSpec(schema=schema, rows=300, seed=9, null_ratio=0.3))
    with K2Producer(cluster, registry, schema, serializer=kind) as producer:
        assert isinstance(producer, TradeProducer)
        producer.warm_up(records[0])
        producer.produce_trade(records[1])
        assert producer.produce_trades(records[2:]) == len(records) - 2
        report = producer.flush()
        assert report.ok and report.produced == report.delivered == len(records) - 1
        assert report.latency.count == report.delivered
        verdict = verify_topic(cluster, registry, producer.topic, schema, records[1:],
                               extra=records[:1])
    assert verdict.decoded == len(records) and not verdict.sampled


def test_arrow_table_path_reads_back_equal(cluster: KafkaCluster, registry: Any) -> None:
    spec = WorkloadSpec(schema="v2", rows=2000, seed=12)
    with K2Producer(cluster, registry, "v2") as producer:
        assert producer.produce_table(generate_table(spec), chunk_rows=700) == 2000
        producer.flush()
        verdict = verify_topic(cluster, registry, producer.topic, "v2", generate_records(spec))
    assert verdict.messages == 2000


def test_a_sample_is_decoded_when_asked_and_the_verdict_says_so(cluster: KafkaCluster,
                                                                registry: Any) -> None:
    records = generate_records(WorkloadSpec(schema="v1", rows=400, seed=2))
    with K2Producer(cluster, registry, "v1") as producer:
        producer.produce_trades(records)
        producer.produce_trades(records)
        producer.flush()
        verdict = verify_topic(cluster, registry, producer.topic, "v1", records, copies=2,
                               sample=50)
    assert verdict.sampled and verdict.decoded == 50 and verdict.messages == 800
    assert "first 50 messages" in verdict.describe()


def test_verification_notices_missing_and_foreign_messages(cluster: KafkaCluster,
                                                           registry: Any) -> None:
    records = generate_records(WorkloadSpec(schema="v2", rows=20, seed=3))
    others = generate_records(WorkloadSpec(schema="v2", rows=1, seed=4))
    with K2Producer(cluster, registry, "v2") as producer:
        producer.produce_trades(records[:-1] + others)
        producer.flush()
        with pytest.raises(VerificationError, match="1 produced records not read back, 1 "):
            verify_topic(cluster, registry, producer.topic, "v2", records, timeout=10)
        with pytest.raises(VerificationError, match="read back only 20 of 21"):
            verify_topic(cluster, registry, producer.topic, "v2", records, copies=1,
                         extra=others, timeout=2)


def test_bad_record_names_field_value_and_position(cluster: KafkaCluster,
                                                   registry: Any) -> None:
    records = generate_records(WorkloadSpec(schema="v2", rows=3000, seed=5))
    records[2500]["price"] = "abc"
    with K2Producer(cluster, registry, "v2") as producer:
        with pytest.raises(WorkloadError, match=r"records\[2048:3000\]: record 452: field "
                                                r"'price' = 'abc'"):
            producer.produce_trades(records)
        with pytest.raises(WorkloadError, match="field 'price' = 'abc'"):
            producer.produce_trade(records[2500])


@pytest.mark.parametrize("kind", ["fastavro", "confluent", "arrow"])
def test_bad_record_is_named_by_the_other_serializers(cluster: KafkaCluster, registry: Any,
                                                      kind: str) -> None:
    record = generate_records(WorkloadSpec(schema="v2", rows=1, seed=5))[0]
    record["side"] = "HOLD"
    with K2Producer(cluster, registry, "v2", serializer=kind) as producer, \
            pytest.raises(WorkloadError, match="field 'side' = 'HOLD'"):
        producer.produce_trades([record])


def test_serializer_cache_registers_and_compiles_once(registry: Any) -> None:
    cache = SerializerCache()
    first = cache.get("compiled", registry, "cache-topic", "v2")
    assert cache.get("compiled", registry, "cache-topic", "v2") is first
    assert cache.get("fastavro", registry, "cache-topic", "v2") is not first
    assert len(cache) == 2
    cache.clear()
    assert cache.get("compiled", registry, "cache-topic", "v2") is not first


def test_unknown_serializer_is_refused(cluster: KafkaCluster, registry: Any) -> None:
    with pytest.raises(WorkloadError, match="serializer='avro2': unknown; use one of compiled"):
        K2Producer(cluster, registry, "v2", serializer="avro2")


def test_bench_helpers_measure_a_ceiling_and_pace(cluster: KafkaCluster,
                                                  registry: Any) -> None:
    records = generate_records(WorkloadSpec(schema="v2", rows=200, seed=6))
    with K2Producer(cluster, registry, "v2", linger_ms=1) as producer:
        producer.warm_up(records[0])
        values = producer.serializer.serialize_many(records)
        with K2Producer(cluster, registry, "v2", linger_ms=1) as raw:
            raw.warm_up(records[0])
            reference = RawReference(raw, values, [r["symbol"] for r in records])
            for _ in range(2):
                reference.round()
            assert len(reference.seconds) == 2 and all(s > 0 for s in reference.seconds)
            assert raw.flush().delivered == 200  # the last round's messages, all acked
        assert producer.tracker.produced == 0  # the reference never touched the cell's
        achieved = produce_paced(producer, records, rate=5000)
        report = producer.flush()
        assert report.delivered == 200 and achieved > 0
        info = extra_info(report, 200, 0.04, reference, [0.04, 0.05], verified="x")
    assert {"items", "unit", "messages", "bytes", "throughput", "mb_per_s", "latency_p50_ms",
            "latency_p99_ms", "latency_p999_ms", "latency_max_ms", "ceiling_throughput",
            "efficiency", "verified"} <= set(info)
    assert info["throughput"] == 5000.0 and info["unit"] == "msg/s"


def _peak_rss_bytes() -> int:
    """The process's resident-set high-water mark (VmHWM), read independently of bench.py."""
    for line in Path("/proc/self/status").read_text().splitlines():
        if line.startswith("VmHWM:"):
            return int(line.split()[1]) * 1024
    raise AssertionError("no VmHWM in /proc/self/status")


def test_memory_footprint_is_measured_for_real(cluster: KafkaCluster, registry: Any) -> None:
    records = generate_records(WorkloadSpec(schema="v2", rows=500, seed=7))
    with K2Producer(cluster, registry, "v2") as producer:
        footprint = measure_memory(producer, records, 1500, trace=True)
        assert producer.tracker.report().delivered == 1500
        # produce_trades holds one chunk's serialized values at once (500 < its chunk size)
        chunk_bytes = sum(len(v) for v in producer.serializer.serialize_many(records))
    assert footprint.messages == 1500
    # The Python heap peak holds at least one chunk of wire-format values.
    assert footprint.python_peak_bytes >= chunk_bytes > 0
    # RSS is really read here (Linux), and the growth of the sampled peak over the start
    # cannot exceed the process's own high-water mark (a unit or sign slip would).
    assert rss_bytes() > 0
    assert footprint.rss_growth_bytes <= _peak_rss_bytes()
    info = footprint.extra_info()
    assert set(info) >= {"python_peak_bytes_per_msg", "rss_growth_bytes_per_msg"}
    assert info["python_peak_bytes_per_msg"] == round(footprint.python_peak_bytes / 1500, 2)
    assert info["rss_growth_bytes_per_msg"] == round(footprint.rss_growth_bytes / 1500, 2)


def test_serializer_comparison_covers_every_path(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--schema", "v1", "--messages", "300", "--repeats", "1"]) == 0
    out = capsys.readouterr().out
    for path in (*SERIALIZERS, "arrow-table", "ceiling"):
        assert f"\n{path} " in out
