"""The fault table of object storage, against a real S3 server (moto, out of process):
unreachable endpoint, wrong credentials, missing bucket, no permission. Each is a
BackendError within 10 s, from the run's first use of the storage (the S3 session checking
the bucket), that names the endpoint and the bucket and never the secret. Also the embedded
server's request counts and delay, and the preflight (doctor) on S3."""

from __future__ import annotations

import time
from collections.abc import Iterator
from pathlib import Path

import boto3
import pytest
from moto.server import ThreadedMotoServer

from k2matrix.backends.config import Backends
from k2matrix.backends.moto_server import MotoServer, request_kind
from k2matrix.backends.s3_session import S3Session
from k2matrix.backends.server_process import free_port
from k2matrix.backends.storage import ObjectStore
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import BackendError
from k2matrix.tools import doctor

SECRET = "k2-Wrong-Secret-9f8e7d6c5b4a"


@pytest.fixture(scope="module")
def s3() -> Iterator[MotoServer]:
    """A moto server that checks credentials like AWS (after its 3 set-up calls: every
    call of a test is checked): a user with no policy (no permission), and a bucket."""
    with MotoServer.start(env={"INITIAL_NO_AUTH_ACTION_COUNT": "3"}) as server:
        kw = {"endpoint_url": server.endpoint, "region_name": "us-east-1",
              "aws_access_key_id": "setup", "aws_secret_access_key": "setup"}
        iam = boto3.client("iam", **kw)
        iam.create_user(UserName="nobody")
        key = iam.create_access_key(UserName="nobody")["AccessKey"]
        boto3.client("s3", **kw).create_bucket(Bucket="warehouse")
        server.nobody = (key["AccessKeyId"], key["SecretAccessKey"])  # type: ignore[attr-defined]
        yield server


@pytest.fixture
def foreign_s3() -> Iterator[str]:
    """An S3 endpoint that is not a k2matrix moto server (no ``/_k2/`` routes, so nothing
    creates a missing bucket), checking no credentials."""
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=0, verbose=False)
    server.start()
    try:
        host, port = server.get_host_and_port()
        yield f"http://{host}:{port}"
    finally:
        server.stop()


def _fault(config: StorageConfig, secret: str | None = None) -> str:
    """What a run says when it first uses ``config``: its S3 session checks the bucket."""
    with pytest.raises(BackendError) as info:  # bounded by the deadline (test_deadline.py)
        S3Session(config).storage()
    message = str(info.value)
    assert config.endpoint in message and config.bucket in message
    if secret:
        assert secret not in message
    return message


def test_unreachable_endpoint() -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    message = _fault(StorageConfig(kind="s3", endpoint=endpoint))
    assert f"S3 at {endpoint} (bucket 'warehouse') cannot be reached (it refused or dropped " \
           "the connection)" in message


def test_wrong_credentials(s3: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("T_KEY", "AKIAK2WRONGKEY000000")
    monkeypatch.setenv("T_SECRET", SECRET)
    cfg = StorageConfig(kind="s3", endpoint=s3.endpoint, access_key_id_env="T_KEY",
                        secret_access_key_env="T_SECRET")
    message = _fault(cfg, SECRET)
    # a refused key gets a 403 with no body to HeadBucket, like a missing permission
    assert "the credentials were refused or lack permission on this bucket" in message


def test_no_permission(s3: MotoServer, monkeypatch: pytest.MonkeyPatch) -> None:
    key, secret = s3.nobody  # type: ignore[attr-defined]
    monkeypatch.setenv("T_KEY", key)
    monkeypatch.setenv("T_SECRET", secret)
    cfg = StorageConfig(kind="s3", endpoint=s3.endpoint, access_key_id_env="T_KEY",
                        secret_access_key_env="T_SECRET")
    message = _fault(cfg, secret)
    assert "access denied (HTTP 403 to HeadBucket" in message


def test_missing_bucket_on_a_foreign_endpoint_is_an_error(foreign_s3: str,
                                                          monkeypatch: pytest.MonkeyPatch
                                                          ) -> None:
    monkeypatch.setenv("T_KEY", "AKIAK2FOREIGNKEY0000")
    monkeypatch.setenv("T_SECRET", SECRET)
    cfg = StorageConfig(kind="s3", endpoint=foreign_s3, bucket="no-such-bucket",
                        access_key_id_env="T_KEY", secret_access_key_env="T_SECRET")
    message = _fault(cfg, SECRET)
    assert "bucket 'no-such-bucket' does not exist: create it" in message


def test_request_kinds() -> None:
    assert request_kind("GET", "/warehouse/k2/a.parquet", "") == "GET"
    assert request_kind("GET", "/warehouse", "list-type=2&prefix=k2") == "LIST"
    assert request_kind("GET", "/warehouse/", "") == "LIST"
    assert request_kind("HEAD", "/warehouse/k", "") == "HEAD"
    assert request_kind("PUT", "/warehouse/k", "partNumber=1&uploadId=x") == "PUT"
    assert request_kind("POST", "/warehouse/k", "uploads") == "PUT"
    assert request_kind("POST", "/warehouse", "delete") == "DELETE"
    assert request_kind("DELETE", "/warehouse/k", "") == "DELETE"


def test_embedded_session_counts_requests_and_adds_delay(tmp_path: Path) -> None:
    session = S3Session(StorageConfig(kind="s3"), log=tmp_path / "moto.log")
    try:
        store = ObjectStore(session.storage())
        store.put("k2/one", b"x" * 1000)  # warm the client
        _, cost = session.counted(lambda: store.get("k2/one"), 1, "query")
        assert cost["source"] == "server" and cost["exclusive"] is True
        assert cost["requests"]["GET"] >= 1 and cost["requests"]["PUT"] == 0
        assert cost["bytes_out"] >= 1000
        _, put = session.counted(lambda: store.put("k2/two", b"y" * 500), 1, "commit")
        assert put["requests"]["PUT"] >= 1 and put["bytes_in"] >= 500
        with session.latency(150):
            started = time.perf_counter()
            _, slow = session.counted(lambda: store.get("k2/one"), 1, "query")
            held = time.perf_counter() - started
        assert slow["latency_ms"] == 150
        assert held >= 0.15 * slow["requests_total"]  # each request held 150 ms at least
        assert session.stats()["latency_ms"] == 0  # reset after the block
    finally:
        session.close()


def test_doctor_names_the_unreachable_storage(capsys: pytest.CaptureFixture[str]) -> None:
    endpoint = f"http://127.0.0.1:{free_port()}"
    backends = Backends(storage=StorageConfig(kind="s3", endpoint=endpoint))
    checks = doctor.run_checks(backends)
    by = {c.service: c for c in checks}
    assert by["kafka"].ok and by["schema_registry"].ok
    assert not by["storage"].ok and endpoint in by["storage"].detail
    # the first dead endpoint ends the preflight: what follows is listed, not run
    assert by["catalog"].skipped and by["duckdb"].skipped
    assert by["duckdb"].detail == "not run: storage failed first"


def test_doctor_on_the_embedded_s3_passes_and_leaves_nothing(tmp_path: Path) -> None:
    with MotoServer.start() as server:
        storage = StorageConfig(kind="s3", endpoint=server.endpoint)
        ObjectStore(storage).ensure_bucket()
        backends = Backends(storage=storage)
        from dataclasses import replace
        backends = replace(backends, catalog=replace(
            backends.catalog, uri=f"sqlite:///{tmp_path}/catalog.db",
            warehouse=str(tmp_path / "wh")))
        checks = doctor.run_checks(backends)
        assert all(c.ok for c in checks), [c.line() for c in checks]
        assert {c.service for c in checks} == {"kafka", "schema_registry", "storage",
                                               "catalog", "duckdb"}
        assert "read s3://warehouse/ through httpfs" in checks[-1].detail
        left = ObjectStore(storage).fs.get_file_info(
            __import__("pyarrow.fs").fs.FileSelector("warehouse", recursive=True))
        assert [i.path for i in left if i.type.name == "File"] == []


def test_doctor_of_a_profile_checks_what_its_cells_need(tmp_path: Path) -> None:
    """The s3 profile: S3 (the embedded server, none being configured), the catalogs of its
    writer cells (the configured SQLite one, PostgreSQL and Glue from the catalogs axis, Glue
    on that S3) and DuckDB with httpfs; no producer or pipeline cell, so no Kafka nor
    registry, each said why."""
    from dataclasses import replace

    from k2matrix.matrix import load_matrix
    from k2matrix.tools.needs import needs_of

    matrix = load_matrix(Path(__file__).resolve().parents[2] / "matrix.toml")
    backends = matrix.backends
    backends = replace(backends, catalog=replace(
        backends.catalog, uri=f"sqlite:///{tmp_path}/catalog.db", warehouse=str(tmp_path)))
    needs = needs_of(matrix.cells("s3"), backends, "s3")
    assert needs.services == {"storage", "catalog", "duckdb"} and needs.s3
    assert set(needs.catalogs) == {"configured", "postgresql", "glue"}
    checks = {c.service: c for c in doctor.run_checks(backends, needs)}
    assert checks["kafka"].skipped and checks["kafka"].detail == (
        "skipped: no producer or pipeline cell in profile 's3'")
    assert checks["schema_registry"].skipped
    assert checks["storage"].ok, checks["storage"].line()
    assert checks["catalog"].ok and "sql: create/drop" in checks["catalog"].detail
    assert checks["catalog (glue)"].ok and "(S3)" in checks["catalog (glue)"].detail
    postgres = checks["catalog (postgresql)"]
    assert postgres.ok or "5432" in postgres.detail  # PostgreSQL at 127.0.0.1:5432 (CI)
    assert checks["duckdb"].ok and "httpfs" in checks["duckdb"].detail
    # the query cells on S3 read through DuckDB's httpfs: a scratch object is read that way
    assert "; read s3://warehouse/ through httpfs" in checks["duckdb"].detail
