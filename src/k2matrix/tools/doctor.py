"""``k2matrix doctor [--matrix PATH] [--profile NAME]``: a preflight of the backends a
profile's cells need (:mod:`k2matrix.tools.needs`), before a long sweep against real
services.

Checks, in order: Kafka (bootstrap, then a produce/consume round trip on a scratch topic),
the Schema Registry (register, read back and delete a scratch subject), the object storage
(the bucket, then put/get/delete of a scratch object; the embedded server is started and
stopped when the cells would use it), each Iceberg catalog the cells use (create and drop a
scratch table: ``[backends.catalog]``, and the SQLite, PostgreSQL or Glue catalog of the
``catalogs`` axis), and the DuckDB extensions (loaded from their packages; with S3 cells,
a scratch object read through httpfs with the query cells' S3 secret). Each line gives
the version and the round-trip time. Nothing is left behind: every scratch topic, subject,
object and table is deleted.

The checks stop at the first that fails (a dead endpoint is not followed by calls that would
wait on it too); the rest, and the services the profile's cells do not use, are listed as
skipped with the reason. Every remote call has the deadline (``[backends] deadline_s``,
:mod:`k2matrix.backends.deadline`), so a silent endpoint ends the preflight within it.

Exit codes: 0 when every check run passes; 2 naming the first service that failed and its
fix. The command is :mod:`k2matrix.commands.doctor`.
"""

from __future__ import annotations

import contextlib
import os
import time
import uuid
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from importlib import metadata
from pathlib import Path

from k2matrix.backends.config import Backends, CatalogConfig
from k2matrix.backends.faults import ServiceUnavailable
from k2matrix.backends.moto_server import MotoServer
from k2matrix.backends.storage import ObjectStore, scrub
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import K2Error
from k2matrix.matrix import load_matrix
from k2matrix.tools.needs import Needs, configured, needs_of

__all__ = ["Check", "check_matrix", "failure", "run_checks"]


@dataclass
class Check:
    service: str
    ok: bool
    version: str = ""
    ms: float | None = None
    detail: str = ""
    skipped: bool = False
    fix: str = ""  # the failure's own fix (a ServiceUnavailable's), else FIXES[service]

    def line(self) -> str:
        took = f"{self.ms:8.1f} ms" if self.ms is not None else " " * 11
        mark = "skip" if self.skipped else "ok  " if self.ok else "FAIL"
        return f"{mark} {self.service:<20} {took}  {self.version:<28} {self.detail}".rstrip()


def _version(dist: str) -> str:
    try:
        return f"{dist} {metadata.version(dist)}"
    except metadata.PackageNotFoundError:
        return f"{dist} (not installed)"


def _timed(service: str, version: str, fn: Callable[[], str], secrets: list[str]) -> Check:
    started = time.perf_counter()
    try:
        detail = fn()
    except ServiceUnavailable as exc:
        cause = f" ({exc.detail})" if exc.detail else ""
        text = f"{exc.service} at {exc.endpoint} {exc.problem}{cause}"
        return Check(service, False, version, None, _hide(text, secrets), fix=exc.fix)
    except K2Error as exc:
        return Check(service, False, version, None, _hide(str(exc), secrets))
    except Exception as exc:  # an unexpected client error: still a named, failed check
        text = f"{type(exc).__name__}: {exc}".splitlines()[0]
        return Check(service, False, version, None, _hide(text, secrets))
    return Check(service, True, version, (time.perf_counter() - started) * 1e3, detail)


def _secrets(backends: Backends) -> list[str]:
    """Every secret the backends' variables hold: never shown in a check's line."""
    names = [*backends.schema_registry.env_names(), *backends.catalog.env_names()]
    held = [os.environ.get(name, "") for name in names]
    return [s for s in (*backends.storage.secrets(), *backends.kafka.security.secrets(), *held)
            if s]


def _hide(text: str, secrets: list[str]) -> str:
    for secret in secrets:
        text = text.replace(secret, "***")
    return text


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


def _catalog(config: CatalogConfig, storage: StorageConfig | None) -> str:
    from k2matrix.backends.catalog import open_catalog
    from k2matrix.writer.layouts import create_table

    catalog = open_catalog(config, name="k2matrix-doctor", storage=storage,
                           warehouse_key="doctor")
    ident = f"{config.namespace}.k2matrix_doctor_{uuid.uuid4().hex[:8]}"
    create_table(catalog, ident, "v2", "unpartitioned")
    catalog.purge_table(ident)
    where = "S3" if storage is not None else "local disk"
    return f"{config.kind}: create/drop table {ident} ({where})"


def _duckdb(on_s3: bool) -> tuple[str, str]:
    from k2matrix.backends.duckdb_ext import EXTENSIONS, S3_EXTENSIONS, versions

    found = versions(S3_EXTENSIONS if on_s3 else EXTENSIONS)
    version = f"duckdb {found.pop('duckdb')}"
    return version, "loaded from packages: " + ", ".join(f"{k} {v}" for k, v in found.items())


FIXES = {
    "kafka": "start the broker, or fix backends.kafka.bootstrap_servers (K2_KAFKA_BOOTSTRAP), "
             "security_protocol and its [backends.kafka.sasl] / [backends.kafka.ssl] "
             "(docs/cluster.md)",
    "schema_registry": "start the registry, or fix backends.schema_registry.url "
                       "(K2_SCHEMA_REGISTRY_URL) and username_env / password_env (or "
                       "basic_auth_env)",
    "storage": "fix [backends.storage] (endpoint, bucket, the *_env credentials) or "
               "K2_S3_ENDPOINT / K2_S3_BUCKET; check the server is running",
    "catalog": "fix [backends.catalog] uri (K2_CATALOG_URI), password_env or "
               "[backends.catalog.rest]; check the catalog server is running",
    "duckdb": "pip install the duckdb-extension-* packages matching duckdb (bash "
              "scripts/bootstrap.sh)",
}


class _Checks:
    """The checks run so far; after a failure every further check is listed, not run."""

    def __init__(self, needs: Needs, secrets: list[str]) -> None:
        self.needs = needs
        self.secrets = secrets
        self.done: list[Check] = []

    def failed(self) -> Check | None:
        return next((c for c in self.done if not c.ok and not c.skipped), None)

    def run(self, service: str, version: str, fn: Callable[[], str]) -> Check:
        first = self.failed()
        if first is not None:
            check = Check(service, False, skipped=True,
                          detail=f"not run: {first.service} failed first")
        else:
            check = _timed(service, version, fn, self.secrets)
        self.done.append(check)
        return check

    def skip(self, service: str) -> None:
        reason = self.needs.skipped.get(service, "not needed")
        self.done.append(Check(service, False, skipped=True, detail=f"skipped: {reason}"))


def run_checks(backends: Backends, needs: Needs | None = None) -> list[Check]:
    """The checks of ``needs`` (default: everything ``backends`` configures), in order,
    stopping at the first that fails (see the module docstring)."""
    needs = needs or configured(backends)
    checks = _Checks(needs, _secrets(backends))
    for service, version, fn in (
            ("kafka", f"librdkafka {_librdkafka()}", lambda: _kafka(backends)),
            ("schema_registry", _version("confluent-kafka"), lambda: _registry(backends))):
        if service in needs.services:
            checks.run(service, version, fn)
        else:
            checks.skip(service)
    _storage_and_catalogs(backends, checks)
    return checks.done


def _storage_and_catalogs(backends: Backends, checks: _Checks) -> None:
    """The storage (when the cells use S3: ``[backends.storage]``, or the embedded server
    started for the checks), then each catalog the cells use, the Glue one on that S3, then
    DuckDB (reading that S3 while it runs)."""
    wanted = "storage" in checks.needs.services
    config = backends.storage if backends.storage.kind == "s3" else StorageConfig(
        kind="s3", deadline_s=backends.storage.deadline_s)
    if not wanted:
        checks.skip("storage")
    elif checks.failed() is not None:  # no server is started after a failure
        checks.run("storage", _version("pyarrow"), lambda: "")
        wanted = False
    duckdb_checked = False
    try:
        with _storage_of(config if wanted else StorageConfig()) as storage:
            if wanted and storage is not None:
                checks.run("storage", _version("pyarrow"), lambda: _storage(storage))
            _catalogs(backends, checks, storage)
            _duckdb_check(checks, storage if wanted else None)
            duckdb_checked = True
    except K2Error as exc:  # the embedded server did not start
        checks.done.append(Check("storage", False, _version("moto"), None,
                                 scrub(str(exc), backends.storage)))
    if not duckdb_checked:
        _duckdb_check(checks, None)


def _duckdb_check(checks: _Checks, storage: StorageConfig | None) -> None:
    """DuckDB's extensions; with S3 cells, a scratch object read through httpfs too."""
    if "duckdb" not in checks.needs.services:
        checks.skip("duckdb")
        return
    found: list[str] = []

    def duck() -> str:
        version, detail = _duckdb(checks.needs.s3)
        found.append(version)
        if checks.needs.s3 and storage is not None:
            detail += "; " + _duckdb_reads_s3(storage)
        return detail

    check = checks.run("duckdb", "", duck)
    if not check.skipped:
        check.version = found[0] if found else _version("duckdb")


def _duckdb_reads_s3(config: StorageConfig) -> str:
    from k2matrix.backends.duckdb_ext import read_object

    store = ObjectStore(config)
    key = f"{config.prefix}/k2matrix-doctor-duckdb-{uuid.uuid4().hex}".lstrip("/")
    payload = uuid.uuid4().bytes * 16
    store.put(key, payload)
    try:
        if read_object(config, key) != payload:
            raise K2Error(f"DuckDB read s3://{config.bucket}/{key} at {config.endpoint} "
                          "back different from what was written")
    finally:
        store.delete(key)
    return f"read s3://{config.bucket}/ through httpfs"


def _catalogs(backends: Backends, checks: _Checks, storage: StorageConfig | None) -> None:
    if "catalog" not in checks.needs.services:
        checks.skip("catalog")
        return
    for label, catalog in checks.needs.catalogs.items():
        on_s3 = catalog.kind == "glue" or (label == "configured"
                                           and backends.storage.kind == "s3")
        service = "catalog" if label == "configured" else f"catalog ({label})"
        where = storage if on_s3 else None
        checks.run(service, _version("pyiceberg"), _bind_catalog(catalog, where))


def _bind_catalog(config: CatalogConfig, storage: StorageConfig | None
                  ) -> Callable[[], str]:
    return lambda: _catalog(config, storage)


def _librdkafka() -> str:
    from k2matrix.backends.kafka import librdkafka_version

    return librdkafka_version()


def check_matrix(path: Path, profile: str | None = None) -> list[Check]:
    """The checks of what the cells of ``profile`` need (every backend the matrix
    configures without one); a K2Error when the matrix cannot be used."""
    matrix = load_matrix(path)
    backends = matrix.backends.with_environment()
    if profile is None:
        return run_checks(backends)
    return run_checks(backends, needs_of(matrix.cells(profile), backends, profile))


def failure(checks: list[Check]) -> str | None:
    """The first failed check, its detail and its fix; None when every check passed."""
    failed = next((c for c in checks if not c.ok and not c.skipped), None)
    if failed is None:
        return None
    fix = failed.fix or FIXES[failed.service.split(" ", 1)[0]]
    return f"{failed.service} failed: {failed.detail}\n  fix: {fix}"
