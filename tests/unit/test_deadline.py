"""The deadline of remote calls ([backends] deadline_s, K2_DEADLINE_S): checked where the
matrix loads, carried to every service's config, and applied to each client as its own
timeouts and retries (asserted on the clients' configuration, never on wall-clock times)."""

from __future__ import annotations

from pathlib import Path

import pytest

from k2matrix.backends.catalog import with_connect_timeout
from k2matrix.backends.config import Backends, KafkaConfig, SchemaRegistryConfig
from k2matrix.backends.deadline import ATTEMPTS, Deadline
from k2matrix.backends.duckdb_ext import S3_EXTENSIONS, connect, create_s3_secret
from k2matrix.backends.kafka import open_kafka
from k2matrix.backends.registry import open_registry
from k2matrix.backends.storage import filesystem, polars_storage_options, pyiceberg_properties
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import BackendError, MatrixError
from k2matrix.matrix import parse_matrix

ROOT = Path(__file__).resolve().parents[2]
REAL = (ROOT / "matrix.toml").read_text(encoding="utf-8")
KEY = "deadline_s = 10 "


def _matrix(value: str) -> str:
    assert KEY in REAL, "matrix.toml no longer sets [backends] deadline_s"
    return REAL.replace(KEY, f"deadline_s = {value} ", 1)


def test_the_default_is_ten_seconds_for_every_service() -> None:
    backends = parse_matrix(REAL).backends
    assert backends.deadline == Deadline(10.0)
    for config in (backends.kafka, backends.schema_registry, backends.catalog,
                   backends.storage):
        assert config.deadline_s == 10.0
    assert Backends().deadline.seconds == 10.0  # without a matrix too


def test_the_matrix_key_reaches_every_service() -> None:
    backends = parse_matrix(_matrix("4.5")).backends
    assert {c.deadline_s for c in (backends.kafka, backends.schema_registry, backends.catalog,
                                   backends.storage)} == {4.5}
    assert backends.describe()["deadline_s"] == 4.5


@pytest.mark.parametrize("value", ["0", "-1", "7200", '"ten"', "true"])
def test_a_bad_deadline_is_a_problem_at_its_key(value: str) -> None:
    with pytest.raises(MatrixError) as info:
        parse_matrix(_matrix(value))
    assert "backends.deadline_s" in str(info.value)
    assert "a number of seconds from 1 to 3600" in str(info.value)


def test_the_environment_overrides_it() -> None:
    backends = parse_matrix(REAL).backends.with_environment({"K2_DEADLINE_S": "3"})
    assert backends.deadline.seconds == 3.0 and backends.kafka.deadline_s == 3.0
    with pytest.raises(BackendError, match="K2_DEADLINE_S = 'soon': must be a number"):
        Backends().with_environment({"K2_DEADLINE_S": "soon"})


def test_attempts_and_their_timeouts_fit_in_the_deadline() -> None:
    for seconds in (1.0, 2.0, 4.0, 10.0, 60.0):
        d = Deadline(seconds)
        assert d.attempts == ATTEMPTS == 2
        assert d.attempts * d.attempt_s <= 0.7 * seconds  # 30% left for back-off, set-up
        assert d.connect_s <= d.attempt_s
        timeout, retries = d.whole_seconds()
        assert timeout >= 1 and (retries + 1) * timeout <= max(0.7 * seconds, 1)
    assert Deadline(10).whole_seconds() == (3, 1)
    with pytest.raises(ValueError, match="deadline_s = 0"):
        Deadline(0)


S3 = StorageConfig(kind="s3", endpoint="http://127.0.0.1:9", deadline_s=4.0)  # 1.4 s a try


def test_pyarrow_and_pyiceberg_get_the_attempt_timeouts() -> None:
    options = filesystem(S3).__reduce__()[1][0]
    assert (options["connect_timeout"], options["request_timeout"]) == (1.0, 1.4)
    props = pyiceberg_properties(S3)
    assert (props["s3.connect-timeout"], props["s3.request-timeout"]) == ("1", "1.4")
    assert props["s3.retry-strategy-impl"] == "k2matrix.backends.storage.QuickRetries"


def test_polars_gets_one_attempt_per_request() -> None:
    options = polars_storage_options(S3)
    assert (options["timeout"], options["connect_timeout"], options["max_retries"]) == (
        "1400ms", "1000ms", 0)


def test_duckdb_httpfs_gets_whole_second_timeouts() -> None:
    con = connect(threads=1, extensions=S3_EXTENSIONS)
    try:
        create_s3_secret(con, StorageConfig(kind="s3", endpoint="http://127.0.0.1:9",
                                            deadline_s=10.0))
        got = dict(con.execute("SELECT name, value FROM duckdb_settings() WHERE name IN "
                               "('http_timeout', 'http_retries')").fetchall())
    finally:
        con.close()
    assert got == {"http_timeout": "3", "http_retries": "1"}  # seconds, not milliseconds


def test_the_registry_client_gets_a_timeout_and_one_retry() -> None:
    client = open_registry(SchemaRegistryConfig(url="http://127.0.0.1:9", deadline_s=4.0))
    rest = client._rest_client  # the HTTP client's own settings
    assert (rest.timeout, rest.max_retries) == (1.4, 1)


def test_librdkafka_gets_socket_request_and_message_timeouts() -> None:
    with open_kafka(KafkaConfig(mode="mock", brokers=1, deadline_s=5.0)) as cluster:
        client = cluster.client_config()
        producer = cluster.producer_config()
    assert client["socket.timeout.ms"] == client["socket.connection.setup.timeout.ms"] == 5000
    assert producer["request.timeout.ms"] == 5000
    assert producer["message.timeout.ms"] == 15000  # three deadlines: queue time too


def test_postgres_uris_get_a_connect_timeout() -> None:
    d = Deadline(10)
    assert with_connect_timeout("postgresql+psycopg2://u@h:5432/db", d) == (
        "postgresql+psycopg2://u@h:5432/db?connect_timeout=3")
    assert with_connect_timeout("postgresql://u@h/db?sslmode=require", d).endswith(
        "?sslmode=require&connect_timeout=3")
    assert with_connect_timeout("postgresql://u@h/db?connect_timeout=3", d).endswith("=3")
    assert with_connect_timeout("sqlite:///x.db", d) == "sqlite:///x.db"
