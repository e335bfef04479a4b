"""The S3 the benchmark cells of one process use, and what each cell cost there.

:class:`S3Session` hands out the storage of ``[backends.storage]``: the configured endpoint
(``K2_S3_ENDPOINT`` overrides it), or, when none is given, an embedded moto server started on
first use and stopped with the session (one per pytest worker, so the counts a cell reads
are its own). The bucket is created on a k2matrix moto server; on any other endpoint a
missing bucket is an error naming it.

Request counts come from the server (:mod:`k2matrix.backends.moto_server` ``/_k2/stats``): a
k2matrix moto server, embedded or started by ``python -m k2matrix.backends.moto_server``,
answers; another S3 server does not, and the cell records ``"source": "unavailable"``.
A count is exact when the server is this process's own (``"exclusive": true``); a shared
server also counts what other clients did meanwhile. :func:`as_counters` turns a count into
the ``s3.*`` counters of ``extra_info["counters"]`` (per round).
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable, Iterator, Mapping
from pathlib import Path
from typing import Any, TypeVar

from k2matrix.backends import storage as s3
from k2matrix.backends.deadline import Deadline
from k2matrix.backends.moto_server import GLUE, KINDS, MotoServer, control
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import BackendError

T = TypeVar("T")


def _delta(before: dict[str, Any], after: dict[str, Any], bucket: str) -> dict[str, int]:
    b = before.get("buckets", {}).get(bucket, {})
    a = after.get("buckets", {}).get(bucket, {})
    return {k: int(a.get(k, 0)) - int(b.get(k, 0)) for k in set(a) | set(b)
            if int(a.get(k, 0)) != int(b.get(k, 0))}


def as_counters(cost: Mapping[str, Any], rounds: int = 1) -> dict[str, float]:
    """The ``s3.*`` counters of a :meth:`S3Session.counted` result that spanned ``rounds``
    rounds, per round: ``s3.get``, ``s3.put``, ``s3.head``, ``s3.list``, ``s3.delete``
    (requests of each kind), ``s3.requests`` (all), ``s3.bytes_in`` (bytes the server
    received: uploads), ``s3.bytes_out`` (bytes it sent: downloads) and ``glue.calls``;
    ``{}`` when the server could not be read."""
    if cost.get("source") != "server" or rounds <= 0:
        return {}
    requests = cost.get("requests") or {}
    out = {f"s3.{kind.lower()}": float(requests.get(kind, 0)) / rounds for kind in KINDS}
    out["s3.requests"] = float(cost.get("requests_total", 0)) / rounds
    out["s3.bytes_in"] = float(cost.get("bytes_in", 0)) / rounds
    out["s3.bytes_out"] = float(cost.get("bytes_out", 0)) / rounds
    if "glue_calls" in cost:
        out["glue.calls"] = float(cost["glue_calls"]) / rounds
    return out


class S3Session:
    """The S3 storage of this process's cells; see the module docstring."""

    def __init__(self, config: StorageConfig, log: Path | None = None) -> None:
        self.config = config
        self.log = log
        self.server: MotoServer | None = None
        self._ready: StorageConfig | None = None

    def storage(self) -> StorageConfig:
        """The S3 storage, started and its bucket created on first use; activated for the
        query engines of this process."""
        if self._ready is None:
            config = (self.config if self.config.kind == "s3" else
                      StorageConfig(kind="s3", deadline_s=self.config.deadline_s))
            store = None
            if not config.endpoint:
                self.server = MotoServer.start(log=self.log)
                config = config.with_endpoint(self.server.endpoint)
                s3.ObjectStore(config).ensure_bucket()
            else:
                store = s3.ObjectStore(config)
                if not store.bucket_exists() and control(config.endpoint) is not None:
                    store.ensure_bucket()  # a k2matrix moto server (e.g. CI's) starts empty
                elif not store.bucket_exists():
                    raise BackendError(f"{s3.where(config)} does not exist: create it, or "
                                       "fix backends.storage.bucket (K2_S3_BUCKET)")
            self._ready = config
        s3.activate(self._ready)
        return self._ready

    @property
    def exclusive(self) -> bool:
        return self.server is not None

    def stats(self) -> dict[str, Any] | None:
        config = self.storage()
        return control(config.endpoint, timeout=self._wait(config)) if config.endpoint else None

    def counted(self, fn: Callable[[], T], ops: int, op: str) -> tuple[T, dict[str, Any]]:
        """``fn()`` and the S3 requests it made (by kind), the bytes moved and the Glue
        calls, for ``ops`` operations (``op``: "commit" or "query")."""
        before = self.stats()
        result = fn()
        after = self.stats()
        if before is None or after is None:
            return result, {"source": "unavailable", "ops": ops, "op": op}
        cfg = self.storage()
        moved = _delta(before, after, cfg.bucket)
        glue = _delta(before, after, GLUE)
        info: dict[str, Any] = {
            "source": "server", "exclusive": self.exclusive, "ops": ops, "op": op,
            "requests": {k: moved.get(k, 0) for k in KINDS},
            "requests_total": moved.get("requests", 0),
            "bytes_in": moved.get("bytes_in", 0), "bytes_out": moved.get("bytes_out", 0),
            "latency_ms": after.get("latency_ms", 0.0),
        }
        if glue:
            info["glue_calls"] = glue.get("requests", 0)
        return result, info

    @contextlib.contextmanager
    def latency(self, ms: float) -> Iterator[None]:
        """Every request to the server held ``ms`` milliseconds (a k2matrix moto server
        only; another endpoint is a BackendError naming it)."""
        if not ms:
            yield
            return
        config = self.storage()
        endpoint = config.endpoint
        if control(endpoint, f"latency?ms={ms:g}", timeout=self._wait(config)) is None:
            s3.ObjectStore(config).bucket_exists()  # a silent server: its own error, first
            raise BackendError(f"s3_latency_ms = {ms:g} needs the embedded S3 server (or one "
                               f"started by python -m k2matrix.backends.moto_server); "
                               f"{endpoint} cannot add a delay")
        try:
            yield
        finally:
            control(endpoint, "latency?ms=0", timeout=self._wait(config))

    @staticmethod
    def _wait(config: StorageConfig) -> float:
        """How long a control call waits: one attempt of the deadline."""
        return Deadline(config.deadline_s).attempt_s

    def close(self) -> None:
        if self.server is not None:
            self.server.stop()
            self.server = None
        self._ready = None
        s3.activate(None)


def wait_gone(server: MotoServer, timeout: float = 5.0) -> None:
    """Block until a killed server no longer answers (for fault tests)."""
    deadline = time.monotonic() + timeout
    while control(server.endpoint, timeout=0.2) is not None and time.monotonic() < deadline:
        time.sleep(0.05)
