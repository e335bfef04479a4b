"""Object storage as every component reaches it: the pyiceberg FileIO properties, the Polars
storage options, and a small object client (bucket, put/get/delete) for set-up and the
preflight. DuckDB's secret is built in :mod:`k2matrix.backends.duckdb_ext` (duckdb stays
there).

The storage in use by this process (:func:`activate`, :func:`active`) is what the query
engines read S3 tables with: their factories take ``{table: metadata file}`` only, so the
endpoint and credentials come from here, never from a results file.

Every error names the endpoint and bucket and never a secret (:func:`scrub`). Each client
gets its timeouts from the storage's deadline (``[backends] deadline_s``,
:mod:`k2matrix.backends.deadline`): two attempts, each with a connect and a request timeout,
so an endpoint that does not answer fails within the deadline, as
:class:`~k2matrix.backends.faults.ServiceUnavailable` naming S3 and the endpoint.
"""

from __future__ import annotations

import os
from typing import Any

from pyarrow import fs as pafs

from k2matrix.backends.deadline import ATTEMPTS, Deadline
from k2matrix.backends.faults import scrub, storage_fault, where
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import BackendError

__all__ = ["ObjectStore", "QuickRetries", "activate", "active", "explain", "filesystem",
           "polars_storage_options", "pyiceberg_properties", "scrub", "where"]

_ACTIVE: list[StorageConfig] = []


class QuickRetries(pafs.AwsStandardS3RetryStrategy):  # type: ignore[misc]
    """The deadline's attempts (pyiceberg builds it by import path:
    ``s3.retry-strategy-impl``)."""

    def __init__(self) -> None:
        super().__init__(max_attempts=ATTEMPTS)


def activate(config: StorageConfig | None) -> None:
    """Make ``config`` the storage S3 locations of this process are read with."""
    _ACTIVE[:] = [config] if config is not None and config.kind == "s3" else []


def active() -> StorageConfig | None:
    return _ACTIVE[0] if _ACTIVE else None


def _compatible_checksums(config: StorageConfig) -> None:
    """The AWS C++ SDK (Arrow's S3) sends aws-chunked bodies with trailing checksums by
    default, which S3-compatible servers (moto, older MinIO) store verbatim; checksums only
    where the API requires them keeps the objects intact. Set before the first client."""
    if config.endpoint:
        os.environ.setdefault("AWS_REQUEST_CHECKSUM_CALCULATION", "WHEN_REQUIRED")
        os.environ.setdefault("AWS_RESPONSE_CHECKSUM_VALIDATION", "WHEN_REQUIRED")


def pyiceberg_properties(config: StorageConfig) -> dict[str, str]:
    """FileIO properties for pyiceberg (catalogs and StaticTable)."""
    if config.kind != "s3":
        return {}
    _compatible_checksums(config)
    creds = config.credentials()
    deadline = Deadline(config.deadline_s)
    props = {"s3.region": config.region,
             "s3.connect-timeout": f"{deadline.connect_s:g}",
             "s3.request-timeout": f"{deadline.attempt_s:g}",
             "s3.retry-strategy-impl": f"{__name__}.QuickRetries",
             "s3.force-virtual-addressing": str(not config.path_style).lower(),
             "py-io-impl": "pyiceberg.io.pyarrow.PyArrowFileIO"}
    if config.endpoint:
        props["s3.endpoint"] = config.endpoint
    for key in ("access_key_id", "secret_access_key", "session_token"):
        if key in creds:
            props[f"s3.{key.replace('_', '-')}"] = creds[key]
    return props


def polars_storage_options(config: StorageConfig) -> dict[str, str | int]:
    """``storage_options`` for Polars (object_store keys). object_store's ``timeout`` bounds
    a whole request and Polars issues a failed read twice, so each gets one attempt of the
    deadline, without retries."""
    creds = config.credentials()
    deadline = Deadline(config.deadline_s)
    opts: dict[str, str | int] = {
        "aws_region": config.region,
        "aws_virtual_hosted_style_request": str(not config.path_style).lower(),
        "timeout": f"{deadline.attempt_ms}ms",
        "connect_timeout": f"{int(deadline.connect_s * 1000)}ms", "max_retries": 0}
    if config.endpoint:
        opts["aws_endpoint_url"] = config.endpoint
        opts["aws_allow_http"] = str(config.endpoint.startswith("http://")).lower()
    for key in ("access_key_id", "secret_access_key", "session_token"):
        if key in creds:
            opts[f"aws_{key}"] = creds[key]
    return opts


def filesystem(config: StorageConfig) -> pafs.S3FileSystem:
    """pyarrow's S3 filesystem on ``config``, with the deadline's timeouts."""
    _compatible_checksums(config)
    creds = config.credentials()
    deadline = Deadline(config.deadline_s)
    scheme = "http" if config.endpoint.startswith("http://") else "https"
    return pafs.S3FileSystem(
        access_key=creds.get("access_key_id"), secret_key=creds.get("secret_access_key"),
        session_token=creds.get("session_token"), region=config.region,
        endpoint_override=config.endpoint.split("://", 1)[-1] or None, scheme=scheme,
        force_virtual_addressing=not config.path_style, connect_timeout=deadline.connect_s,
        request_timeout=deadline.attempt_s, retry_strategy=QuickRetries(),
        allow_bucket_creation=True)


def explain(exc: BaseException, config: StorageConfig) -> str:
    """A one-line cause with the fix, naming the endpoint and bucket, never a secret."""
    detail = scrub(str(exc).splitlines()[0] if str(exc) else type(exc).__name__, config)
    low = detail.lower()
    if "nosuchbucket" in low or "bucket does not exist" in low or "not found" in low:
        fix = ("the bucket does not exist: create it, or fix backends.storage.bucket "
               "(K2_S3_BUCKET)")
    elif any(w in low for w in ("invalidaccesskeyid", "invalid_access_key_id",
                                "signature_does_not_match", "signaturedoesnotmatch")) or (
            "403" in low and ("access key" in low or "signature" in low)):
        fix = ("the credentials were refused: check the variables named in "
               "backends.storage.*_env")
    elif "headbucket" in low and "no response body" in low and (
            "access_denied" in low or "accessdenied" in low or "403" in low):
        # a HEAD answer has no body, so a refused key and a missing permission look alike
        fix = ("access denied (HTTP 403 to HeadBucket, which gives no reason): the credentials "
               "were refused or lack permission on this bucket; check the variables named in "
               "backends.storage.*_env and the bucket's policy")
    elif "accessdenied" in low or "access_denied" in low or "access denied" in low or (
            "forbidden" in low):
        fix = "access denied: the credentials lack permission on this bucket"
    elif ("connect" in low or "timeout" in low or "timed out" in low or "resolve" in low
          or "curl" in low or "network" in low):
        fix = ("the endpoint cannot be reached: check backends.storage.endpoint "
               "(K2_S3_ENDPOINT) and that the server is running")
    else:
        fix = "check backends.storage"
    return f"{where(config)}: {detail} ({fix})"


class ObjectStore:
    """Buckets and objects on the configured S3 endpoint."""

    def __init__(self, config: StorageConfig) -> None:
        if config.kind != "s3":
            raise BackendError("object store: backends.storage.kind is 'local'")
        self.config = config
        self.fs = filesystem(config)

    def _call(self, what: str, fn: Any, *args: Any) -> Any:
        try:
            return fn(*args)
        except BackendError:
            raise
        except Exception as exc:
            fault = storage_fault(exc, self.config, doing=what)
            if fault is not None:
                raise fault from None
            raise BackendError(f"{what}: {explain(exc, self.config)}") from None

    def bucket_exists(self) -> bool:
        info = self._call("checking the bucket", self.fs.get_file_info, self.config.bucket)
        return bool(info.type == pafs.FileType.Directory)

    def ensure_bucket(self) -> None:
        """Create the bucket if it is missing (the embedded server starts empty)."""
        if not self.bucket_exists():
            self._call("creating the bucket", self.fs.create_dir, self.config.bucket)

    def put(self, key: str, data: bytes) -> None:
        def write() -> None:
            with self.fs.open_output_stream(f"{self.config.bucket}/{key}") as out:
                out.write(data)
        self._call(f"writing s3://{self.config.bucket}/{key}", write)

    def get(self, key: str) -> bytes:
        def read() -> bytes:
            with self.fs.open_input_stream(f"{self.config.bucket}/{key}") as src:
                return bytes(src.read())
        data: bytes = self._call(f"reading s3://{self.config.bucket}/{key}", read)
        return data

    def delete(self, key: str) -> None:
        self._call(f"deleting s3://{self.config.bucket}/{key}", self.fs.delete_file,
                   f"{self.config.bucket}/{key}")

    def exists(self, key: str) -> bool:
        info = self._call("checking an object", self.fs.get_file_info,
                          f"{self.config.bucket}/{key}")
        return bool(info.type == pafs.FileType.File)

    def delete_prefix(self, prefix: str) -> None:
        path = f"{self.config.bucket}/{prefix.strip('/')}"
        info = self._call("listing", self.fs.get_file_info, path)
        if info.type == pafs.FileType.Directory:
            self._call(f"deleting s3://{path}/", self.fs.delete_dir, path)
