"""Fixtures shared by the unit tests that talk Kafka: librdkafka's mock cluster (real Kafka
protocol on loopback, 3 brokers) and the in-memory Schema Registry, one each per module."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from k2matrix.backends.config import KafkaConfig, SchemaRegistryConfig
from k2matrix.backends.kafka import KafkaCluster, open_kafka
from k2matrix.backends.registry import open_registry


@pytest.fixture(scope="module")
def cluster() -> Iterator[KafkaCluster]:
    with open_kafka(KafkaConfig(mode="mock", brokers=3)) as c:
        yield c


@pytest.fixture(scope="module")
def registry() -> Any:
    return open_registry(SchemaRegistryConfig(url="mock://unit"))
