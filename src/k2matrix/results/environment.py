"""The environment a run measured in: the ``environment`` object of ``meta.json`` (also in
``benchmarks.json``'s ``k2`` object and ``k2matrix summary --format json``)::

    {"recorded": true,
     "backends": {"kafka": {"mode": "mock" | "bootstrap" | "tansu", "address", "brokers"},
                  "schema_registry": {"mode": "mock" | "server", "address"},
                  "catalog": {"mode": "sql" | "rest" | "glue", "address", "warehouse"},
                  "storage": {"mode": "local" | "embedded-s3" | "s3", "address", "bucket",
                              "prefix", "region", "s3_cells"}},
     "libraries": {"confluent-kafka", "librdkafka", "pyiceberg", "pyarrow", "duckdb",
                   "polars", "fastavro"},
     "machine": {"cpu_model", "cores", "usable_cores", "system", "machine", "python"},
     "load": {"start": [1, 5, 15-minute load averages], "end": [...]},
     "git": {"commit", "dirty", "branch"}}

Every address is redacted (:func:`redact`): a password or token in a URL or a
``key=value`` secret never reaches a results file. Kafka's mode is ``tansu`` when the
bootstrap servers are a Tansu broker running on this machine (its process is found by its
listener address), ``bootstrap`` for any other broker. Storage is ``[backends.storage]``;
``s3_cells`` says where the cells of the ``storages`` axis value ``s3`` (ids ending ``-s3``)
keep their tables: the configured S3 endpoint, else the embedded server. The load at the
start is the one when this process loaded the results store (the plugin loads it as pytest
starts); the end, when the run's files are written. A run recorded before this record
existed reads as :func:`unknown`: ``recorded`` false and every mode null.
"""

from __future__ import annotations

import itertools
import os
import platform
import re
import subprocess
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from k2matrix.backends.config import Backends

BACKENDS = ("kafka", "schema_registry", "catalog", "storage")
BACKEND_NAMES = {"kafka": "Kafka", "schema_registry": "schema registry",
                 "catalog": "Iceberg catalog", "storage": "storage"}
MEASURED_LIBRARIES = ("confluent-kafka", "librdkafka", "pyiceberg", "pyarrow", "duckdb",
                      "polars", "fastavro")
EMBEDDED_S3 = "embedded S3 server on loopback"
UNKNOWN_NOTE = ("recorded before k2matrix kept a run's environment (no environment in its "
                "meta.json)")

_USERINFO = re.compile(r"(?P<pre>^|[\s,;]|://)(?P<user>[^\s,;:/@]+)(?::[^\s,;/]+)?@(?=[^\s,;@]+)")
_SECRET_PARAM = re.compile(
    r"(?P<key>(?:^|[?&;,\s])[^=&#\s,;?]*(?:password|passwd|pwd|secret|token|api[_-]?key|"
    r"credential|auth|access[_-]?key|signature|sig)[^=&#\s,;]*=)[^&#\s,;]*", re.IGNORECASE)
_LOOPBACK = ("127.0.0.1", "localhost", "::1", "[::1]", "0.0.0.0")


def redact(text: str) -> str:
    """``text`` without its secrets: a URL's password (``user:secret@host`` ->
    ``user:***@host``, with or without a scheme), a bare user or token before ``@``
    (``token@host`` -> ``***@host``) and the value of any ``key=value`` whose key names a
    secret (``?password=…``, ``api_key=…``)."""
    def userinfo(m: re.Match[str]) -> str:
        has_password = ":" in m.group(0)[len(m.group("pre")):]
        return f"{m.group('pre')}{m.group('user')}:***@" if has_password \
            else f"{m.group('pre')}***@"
    return _SECRET_PARAM.sub(r"\g<key>***", _USERINFO.sub(userinfo, text))


def redact_all(value: Any) -> Any:
    """Every string in a JSON-like value redacted."""
    if isinstance(value, str):
        return redact(value)
    if isinstance(value, Mapping):
        return {k: redact_all(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [redact_all(v) for v in value]
    return value


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages (other work on the machine skews timings)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


START_LOAD = load_average()  # when this process loaded k2matrix's results store


def affinity() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return list(range(os.cpu_count() or 1))


def git_commit(cwd: str | None = None) -> dict[str, Any]:
    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=5, check=False).stdout.strip()
    try:
        commit = run("rev-parse", "HEAD")
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
        branch = run("rev-parse", "--abbrev-ref", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return {"id": None, "dirty": None, "branch": None}
    return {"id": commit or None, "dirty": dirty if commit else None, "branch": branch or None}


def cpu_model() -> str | None:
    """The CPU's model name (``/proc/cpuinfo``; elsewhere what the platform says)."""
    try:
        for line in Path("/proc/cpuinfo").read_text(errors="replace").splitlines():
            key, _, value = line.partition(":")
            if key.strip() in ("model name", "Model", "Hardware", "cpu model") and value.strip():
                return value.strip()
    except OSError:
        pass
    return platform.processor() or None


def machine() -> dict[str, Any]:
    return {"cpu_model": cpu_model(), "cores": os.cpu_count(), "usable_cores": len(affinity()),
            "system": platform.system(), "machine": platform.machine(),
            "python": platform.python_version()}


def _servers(text: str) -> list[tuple[str, str]]:
    """``(host, port)`` of each server of a bootstrap list (a scheme and userinfo dropped)."""
    out = []
    for item in text.split(","):
        address = item.strip().split("://")[-1].rsplit("@", 1)[-1].split("/", 1)[0]
        host, _, port = address.rpartition(":")
        if port:
            out.append((host or "localhost", port))
    return out


def tansu_at(servers: str) -> bool:
    """Whether a Tansu broker process on this machine listens at one of ``servers`` (only
    a loopback address can be one: its process is found by its ``--listener-url``)."""
    ports = {port for host, port in _servers(servers) if host in _LOOPBACK}
    if not ports:
        return False
    for path in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            args = path.read_bytes().decode(errors="replace").split("\0")
        except OSError:
            continue
        if not args or not os.path.basename(args[0]).startswith("tansu"):
            continue
        for flag, value in itertools.pairwise(args):
            if flag == "--listener-url" and any(
                    host in _LOOPBACK and port in ports for host, port in _servers(value)):
                return True
    return False


def backends_record(backends: Backends) -> dict[str, Any]:
    """Each backend by mode and address (redacted)."""
    kafka, registry, catalog, storage = (backends.kafka, backends.schema_registry,
                                         backends.catalog, backends.storage)
    if kafka.mode == "mock":
        kafka_entry: dict[str, Any] = {"mode": "mock", "address": None,
                                       "brokers": kafka.brokers}
    else:
        kafka_entry = {"mode": "tansu" if tansu_at(kafka.bootstrap_servers) else "bootstrap",
                       "address": redact(kafka.bootstrap_servers), "brokers": None}
    mock_registry = registry.url.startswith("mock://")
    s3_cells = (redact(storage.endpoint) if storage.kind == "s3" and storage.endpoint
                else EMBEDDED_S3)  # where cells of the storages axis value s3 keep tables
    if storage.kind == "local":
        storage_entry: dict[str, Any] = {"mode": "local", "address": catalog.warehouse_path,
                                         "s3_cells": s3_cells}
    else:
        storage_entry = {"mode": "embedded-s3" if storage.embedded else "s3",
                         "address": s3_cells, "bucket": storage.bucket,
                         "prefix": storage.prefix, "region": storage.region,
                         "s3_cells": s3_cells}
    return {
        "kafka": kafka_entry,
        "schema_registry": {"mode": "mock" if mock_registry else "server",
                            "address": redact(registry.url)},
        "catalog": {"mode": catalog.kind,
                    "address": redact(catalog.resolved_uri) if catalog.uri else None,
                    "warehouse": (catalog.warehouse_path if storage.kind == "local"
                                  else storage.warehouse())},
        "storage": storage_entry,
    }


def environment(backends: Backends, versions: Mapping[str, Any], git: Mapping[str, Any],
                load_start: list[float] | None = None) -> dict[str, Any]:
    """The record for a run measured against ``backends`` (with the environment's
    overrides applied) with these library ``versions``, at this ``git`` commit."""
    return {
        "recorded": True,
        "backends": backends_record(backends),
        "libraries": {name: versions.get(name) for name in MEASURED_LIBRARIES},
        "machine": machine(),
        "load": {"start": list(START_LOAD if load_start is None else load_start),
                 "end": load_average()},
        "git": {"commit": git.get("id"), "dirty": git.get("dirty"),
                "branch": git.get("branch")},
    }


def unknown() -> dict[str, Any]:
    """The record of a run that has none: every backend's mode unknown (null)."""
    return {"recorded": False, "note": UNKNOWN_NOTE,
            "backends": {name: {"mode": None} for name in BACKENDS}}


def read_environment(header: Mapping[str, Any]) -> dict[str, Any]:
    """The record in a run header (``meta.json`` or the ``k2`` object), or :func:`unknown`
    when it has none (an older run, a plain pytest-benchmark file) or a damaged one."""
    env = header.get("environment")
    if not isinstance(env, Mapping) or not isinstance(env.get("backends"), Mapping):
        return unknown()
    out = dict(env)
    backends = {name: dict(entry) if isinstance(entry, Mapping) else {"mode": None}
                for name, entry in env["backends"].items()}
    for name in BACKENDS:
        backends.setdefault(name, {"mode": None})
    out["backends"] = backends
    return out


def backend_modes(header: Mapping[str, Any]) -> dict[str, str | None]:
    """Each backend's mode in a run header (None: unknown)."""
    backends = read_environment(header)["backends"]
    return {name: (str(backends[name]["mode"]) if backends[name].get("mode") is not None
                   else None) for name in BACKENDS}
