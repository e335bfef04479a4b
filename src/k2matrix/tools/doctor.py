"""``k2matrix doctor [--matrix PATH]``: a preflight of every backend the matrix configures,
before a long sweep against real services.

Checks, in order: Kafka (bootstrap, then a produce/consume round trip on a scratch topic),
the Schema Registry (register, read back and delete a scratch subject), the object storage
(when ``[backends.storage] kind = "s3"``: the bucket, then put/get/delete of a scratch
object; the embedded server is started and stopped), the Iceberg catalog (create and drop a
scratch table), and the DuckDB extensions (loaded from their packages). Each line gives the
version and the round-trip time. Nothing is left behind: every scratch topic, subject,
object and table is deleted.

Exit codes: 0 when every check passes; 2 naming the first service that failed and its fix.
The command is :mod:`k2matrix.commands.doctor`.
"""

from __future__ import annotations

import contextlib
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from k2matrix.backends.config import Backends
from k2matrix.backends.moto_server import MotoServer
from k2matrix.backends.storage import ObjectStore, scrub
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import K2Error
from k2matrix.matrix import load_matrix

__all__ = ["Check", "check_matrix", "failure", "run_checks"]


@dataclass
class Check:
    service: str
    ok: bool
    version: str = ""
    ms: float | None = None
    detail: str = ""

    def line(self) -> str:
        took = f"{self.ms:8.1f} ms" if self.ms is not None else " " * 11
        mark = "ok  " if self.ok else "FAIL"
        return f"{mark} {self.service:<16} {took}  {self.version:<28} {self.detail}"


def _version(dist: str) -> str:
    try:
        return f"{dist} {metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return f"{dist} (not installed)"


def _timed(service: str, version: str, fn: Callable[[], str], secrets: list[str]) -> Check:
    started = time.perf_counter()
    try:
        detail = fn()
    except K2Error as exc:
        text = str(exc)
        for secret in secrets:
            text = text.replace(secret, "***")
        return Check(service, False, version, None, text)
    except Exception as exc:  # an unexpected client error: still a named, failed check
        text = f"{type(exc).__name__}: {exc}".splitlines()[0]
        for secret in secrets:
            text = text.replace(secret, "***")
        return Check(service, False, version, None, text)
    return Check(service, True, version, (time.perf_counter() - started) * 1e3, detail)


def _kafka(backends: Backends) -> str:
    from k2matrix.backends.kafka import open_kafka, round_trip

    with open_kafka(backends.kafka) as cluster:
        seconds = round_trip(cluster)
        return (f"{backends.kafka.mode} {cluster.bootstrap_servers}: produce/consume round "
                f"trip {seconds * 1e3:.1f} ms")


def _registry(backends: Backends) -> str:
    from k2matrix.backends.registry import open_registry, registry_round_trip

    client = open_registry(backends.schema_registry)
    registry_round_trip(client, f"k2matrix-doctor-{uuid.uuid4().hex[:8]}-value")
    return f"{backends.schema_registry.url.split('@')[-1]}: register/read/delete"


@contextlib.contextmanager
def _storage_of(config: StorageConfig) -> Iterator[StorageConfig | None]:
    """The storage to check; the embedded server started for the check and stopped."""
    if config.kind != "s3":
        yield None
    elif config.embedded:
        with MotoServer.start() as server:
            store = config.with_endpoint(server.endpoint)
            ObjectStore(store).ensure_bucket()
            yield store
    else:
        yield config


def _storage(config: StorageConfig) -> str:
    store = ObjectStore(config)
    if not store.bucket_exists():
        raise K2Error(f"S3 endpoint {config.endpoint} bucket {config.bucket!r} does not "
                      "exist: create it, or fix backends.storage.bucket (K2_S3_BUCKET)")
    key = f"{config.prefix}/k2matrix-doctor-{uuid.uuid4().hex}".lstrip("/")
    payload = uuid.uuid4().bytes * 64
    store.put(key, payload)
    try:
        if store.get(key) != payload:
            raise K2Error(f"S3 endpoint {config.endpoint} bucket {config.bucket!r}: the scratch "
                          "object read back differs from what was written")
    finally:
        store.delete(key)
    return f"{config.endpoint} s3://{config.bucket}/{config.prefix}: put/get/delete"


def _catalog(backends: Backends, storage: StorageConfig | None) -> str:
    from k2matrix.backends.catalog import open_catalog
    from k2matrix.writer.layouts import create_table

    config = backends.catalog
    catalog = open_catalog(config, name="k2matrix-doctor", storage=storage,
                           warehouse_key="doctor")
    ident = f"{config.namespace}.k2matrix_doctor_{uuid.uuid4().hex[:8]}"
    create_table(catalog, ident, "v2", "unpartitioned")
    catalog.purge_table(ident)
    return f"{config.kind}: create/drop table {ident}"


def _duckdb(on_s3: bool) -> tuple[str, str]:
    from k2matrix.backends.duckdb_ext import EXTENSIONS, S3_EXTENSIONS, versions

    found = versions(S3_EXTENSIONS if on_s3 else EXTENSIONS)
    version = f"duckdb {found.pop('duckdb')}"
    return version, "loaded from packages: " + ", ".join(f"{k} {v}" for k, v in found.items())


FIXES = {
    "kafka": "start the broker, or fix backends.kafka.bootstrap_servers (K2_KAFKA_BOOTSTRAP)",
    "schema_registry": "start the registry, or fix backends.schema_registry.url "
                       "(K2_SCHEMA_REGISTRY_URL) and basic_auth_env",
    "storage": "fix [backends.storage] (endpoint, bucket, the *_env credentials) or "
               "K2_S3_ENDPOINT / K2_S3_BUCKET; check the server is running",
    "catalog": "fix [backends.catalog] uri (K2_CATALOG_URI) and password_env; check the "
               "catalog server is running",
    "duckdb": "pip install the duckdb-extension-* packages matching duckdb (bash "
              "scripts/bootstrap.sh)",
}


def run_checks(backends: Backends) -> list[Check]:
    secrets = backends.storage.secrets()
    checks = [
        _timed("kafka", f"librdkafka {_librdkafka()}", lambda: _kafka(backends), secrets),
        _timed("schema_registry", _version("confluent-kafka"), lambda: _registry(backends),
               secrets),
    ]
    try:
        with _storage_of(backends.storage) as storage:
            if storage is not None:
                checks.append(_timed("storage", _version("pyarrow"), lambda: _storage(storage),
                                     secrets))
            checks.append(_timed("catalog", _version("pyiceberg"),
                                 lambda: _catalog(backends, storage), secrets))
    except K2Error as exc:  # the embedded server did not start
        checks.append(Check("storage", False, _version("moto"), None,
                            scrub(str(exc), backends.storage)))
    found: list[str] = []

    def duck() -> str:
        version, detail = _duckdb(backends.storage.kind == "s3")
        found.append(version)
        return detail

    check = _timed("duckdb", "", duck, secrets)
    check.version = found[0] if found else _version("duckdb")
    checks.append(check)
    return checks


def _librdkafka() -> str:
    from k2matrix.backends.kafka import librdkafka_version

    return librdkafka_version()


def check_matrix(path: Path) -> list[Check]:
    """Every check of the backends the matrix at ``path`` configures (a K2Error when the
    matrix cannot be used)."""
    return run_checks(load_matrix(path).backends.with_environment())


def failure(checks: list[Check]) -> str | None:
    """The first failed check, its detail and its fix; None when every check passed."""
    failed = next((c for c in checks if not c.ok), None)
    if failed is None:
        return None
    return f"{failed.service} failed: {failed.detail}\n  fix: {FIXES[failed.service]}"
