"""Every client against a real peer that accepts connections and never answers (a raw
socket, :mod:`hanging`): S3, the preflight, the Schema Registry, the REST, PostgreSQL and
Glue catalogs and a Kafka bootstrap server. Each call fails as k2matrix's own error
(ServiceUnavailable, a BackendError) naming the service, the endpoint and the fix. The
deadline is 2 s here so the suite stays quick; that each client got its timeouts from the
deadline is asserted in test_deadline (no wall-clock time is asserted)."""

from __future__ import annotations

import re
from collections.abc import Iterator
from pathlib import Path

import pytest
from hanging import hanging_server

from k2matrix import cli
from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import Backends, CatalogConfig, KafkaConfig, SchemaRegistryConfig
from k2matrix.backends.faults import ServiceUnavailable
from k2matrix.backends.kafka import open_kafka
from k2matrix.backends.registry import open_registry, register_avro
from k2matrix.backends.storage import ObjectStore
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import BackendError
from k2matrix.tools import doctor

ROOT = Path(__file__).resolve().parents[2]
DEADLINE = 2.0


@pytest.fixture(scope="module")
def silent() -> Iterator[str]:
    with hanging_server() as endpoint:
        yield endpoint


def _storage(endpoint: str) -> StorageConfig:
    return StorageConfig(kind="s3", endpoint=endpoint, deadline_s=DEADLINE)


def _names(error: BaseException, service: str, endpoint: str) -> str:
    assert isinstance(error, ServiceUnavailable), f"{type(error).__name__}: {error}"
    message = str(error)
    assert error.service == service and message.startswith(f"{service} at ")
    assert endpoint.split("://")[-1] in message
    assert f"did not answer within {DEADLINE:g} s" in message
    assert "fix: check that" in message and "deadline_s" in message
    return message


def test_s3_names_the_service_the_endpoint_and_the_fix(silent: str) -> None:
    with pytest.raises(BackendError) as info:
        ObjectStore(_storage(silent)).bucket_exists()
    message = _names(info.value, "S3", silent)
    assert "bucket 'warehouse'" in message and "checking the bucket" in message


def test_doctor_stops_at_the_silent_storage(silent: str) -> None:
    backends = Backends(storage=StorageConfig(kind="s3", endpoint=silent)).with_deadline(DEADLINE)
    checks = {c.service: c for c in doctor.run_checks(backends)}
    assert checks["kafka"].ok and checks["schema_registry"].ok
    storage = checks["storage"]
    assert not storage.ok and not storage.skipped and silent in storage.detail
    assert "did not answer within 2 s" in storage.detail
    for later in ("catalog", "duckdb"):
        assert checks[later].skipped and checks[later].detail == "not run: storage failed first"
    problem = doctor.failure(list(checks.values()))
    assert problem is not None and problem.startswith("storage failed: S3 at ")
    assert "fix: check that the S3 server is running" in problem and "deadline_s" in problem


def test_doctor_of_a_profile_exits_2_naming_s3_and_says_what_it_skipped(
        silent: str, tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    real = (ROOT / "matrix.toml").read_text(encoding="utf-8")
    matrix = real.rsplit("[backends.storage]", 1)[0].replace(
        "deadline_s = 10 ", f"deadline_s = {DEADLINE:g} ", 1)
    path = tmp_path / "matrix.toml"
    path.write_text(matrix + f'[backends.storage]\nkind = "s3"\nendpoint = "{silent}"\n')
    assert cli.main(["doctor", "--matrix", str(path), "--profile", "s3"]) == 2
    out, err = capsys.readouterr()
    lines = {line.split()[1]: line for line in out.splitlines()}
    # the s3 profile has writer and query cells only: no producer, no pipeline
    assert re.match(r"skip kafka +skipped: no producer or pipeline cell in profile 's3'",
                    lines["kafka"])
    assert lines["schema_registry"].startswith("skip")
    assert lines["storage"].startswith("FAIL") and silent in lines["storage"]
    assert "not run: storage failed first" in lines["duckdb"]
    assert err.startswith("k2matrix: storage failed: S3 at " + silent)


def test_the_schema_registry(silent: str) -> None:
    client = open_registry(SchemaRegistryConfig(url=silent, deadline_s=DEADLINE))
    with pytest.raises(BackendError) as info:
        register_avro(client, "k2-hang-value", "v2")
    message = _names(info.value, "Schema Registry", silent)
    assert "registering 'k2-hang-value'" in message


def test_a_rest_catalog(silent: str, tmp_path: Path) -> None:
    config = CatalogConfig(kind="rest", uri=silent, warehouse=str(tmp_path / "wh"),
                           deadline_s=DEADLINE)
    with pytest.raises(BackendError) as info:
        open_catalog(config)
    _names(info.value, "Iceberg catalog (rest)", silent)


def test_a_postgresql_catalog(silent: str, tmp_path: Path) -> None:
    host = silent.split("://", 1)[1]
    config = CatalogConfig(kind="sql", uri=f"postgresql+psycopg2://postgres@{host}/test",
                           warehouse=str(tmp_path / "wh"), deadline_s=DEADLINE)
    with pytest.raises(BackendError) as info:
        open_catalog(config)
    _names(info.value, "Iceberg catalog (sql)", host)


def test_a_glue_catalog(silent: str, tmp_path: Path) -> None:
    config = CatalogConfig(kind="glue", uri="", warehouse=str(tmp_path / "wh"),
                           deadline_s=DEADLINE)
    with pytest.raises(BackendError) as info:
        open_catalog(config, storage=_storage(silent))
    _names(info.value, "Glue", silent)


def test_a_kafka_bootstrap_server(silent: str) -> None:
    address = silent.split("://", 1)[1]
    config = KafkaConfig(mode="bootstrap", bootstrap_servers=address, deadline_s=DEADLINE)
    with pytest.raises(BackendError) as info:
        open_kafka(config)
    assert address in str(info.value) and "unreachable" in str(info.value)
