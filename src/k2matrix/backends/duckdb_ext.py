"""DuckDB connections with the ``iceberg`` and ``avro`` extensions loaded from their PyPI
packages (``duckdb-extension-iceberg``, ``duckdb-extension-avro``), never from the network.

Auto-install and auto-load of known extensions are switched off, so a query that needs an
extension we did not load fails loudly instead of downloading it; each extension is
``LOAD``-ed from the binary in its package folder
(``site-packages/duckdb_extension_<name>/extensions/v<duckdb version>/<name>.duckdb_extension``).
"""

from __future__ import annotations

import importlib
import os
from pathlib import Path
from typing import TYPE_CHECKING

from k2matrix.backends.deadline import Deadline
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import BackendError

if TYPE_CHECKING:
    import duckdb

EXTENSIONS = ("avro", "iceberg")  # avro first: iceberg reads Avro manifests through it
S3_EXTENSIONS = ("avro", "httpfs", "iceberg")  # httpfs: s3:// files through the S3 API


def sql_string(text: str) -> str:
    """A SQL string literal (for file paths of our own; user values are always bound)."""
    return "'" + text.replace("'", "''") + "'"


def extension_path(name: str) -> Path:
    """The binary of extension ``name`` shipped in its PyPI package, for this DuckDB version.

    :class:`BackendError` naming the package and the folder searched if it is not there.
    """
    import duckdb

    package = f"duckdb_extension_{name}"
    try:
        module = importlib.import_module(package)
    except ImportError:
        raise BackendError(
            f"DuckDB extension {name!r}: the package {package.replace('_', '-')} is not "
            f"installed; pip install {package.replace('_', '-')}=={duckdb.__version__}"
        ) from None
    folder = Path(module.__file__ or "").parent / "extensions"
    wanted = folder / f"v{duckdb.__version__}" / f"{name}.duckdb_extension"
    if wanted.is_file():
        return wanted
    found = sorted(p.parent.name for p in folder.glob(f"*/{name}.duckdb_extension"))
    raise BackendError(
        f"DuckDB extension {name!r}: no binary for DuckDB v{duckdb.__version__} at {wanted} "
        f"(found: {', '.join(found) or 'none'}); install the "
        f"{package.replace('_', '-')} version matching duckdb"
    )


def connect(threads: int | None = None, extensions: tuple[str, ...] = EXTENSIONS
            ) -> duckdb.DuckDBPyConnection:
    """An in-memory DuckDB connection with ``extensions`` loaded from their package files,
    auto-install/auto-load off and the session time zone UTC (timestamptz results in UTC)."""
    import duckdb

    config: dict[str, str | bool | int | float | list[str]] = {
        "autoinstall_known_extensions": False,
        "autoload_known_extensions": False,
    }
    if threads is None and os.environ.get("K2_THREADS", "").isdigit():
        threads = int(os.environ["K2_THREADS"])  # the sweep's per-worker CPU budget
    if threads:
        config["threads"] = threads
    con = duckdb.connect(":memory:", config=config)
    try:
        for name in extensions:
            path = extension_path(name)
            try:
                con.execute(f"LOAD {sql_string(str(path))}")
            except duckdb.Error as exc:
                raise BackendError(f"DuckDB extension {name!r} at {path} failed to load: "
                                   f"{exc}") from None
        con.execute("SET TimeZone = 'UTC'")
    except BaseException:
        con.close()
        raise
    return con


def create_s3_secret(con: duckdb.DuckDBPyConnection, config: StorageConfig) -> None:
    """A temporary DuckDB S3 secret from ``config`` (credentials from the environment
    variables it names), so httpfs reads ``s3://`` paths from its endpoint. Values are
    SQL-quoted literals (CREATE SECRET takes no bound parameters) and never logged. httpfs
    gets the deadline's timeouts (:func:`apply_deadline`)."""
    creds = config.credentials()
    opts = [f"REGION {sql_string(config.region)}",
            f"URL_STYLE {sql_string('path' if config.path_style else 'vhost')}"]
    if config.endpoint:
        host = config.endpoint.split("://", 1)[-1]
        opts += [f"ENDPOINT {sql_string(host)}",
                 f"USE_SSL {'true' if config.endpoint.startswith('https://') else 'false'}"]
    for key, name in (("access_key_id", "KEY_ID"), ("secret_access_key", "SECRET"),
                      ("session_token", "SESSION_TOKEN")):
        if key in creds:
            opts.append(f"{name} {sql_string(creds[key])}")
    con.execute(f"CREATE OR REPLACE TEMPORARY SECRET k2_s3 (TYPE s3, {', '.join(opts)})")
    apply_deadline(con, Deadline(config.deadline_s))


def read_object(config: StorageConfig, key: str) -> bytes:
    """The object ``key`` of ``config``'s bucket as DuckDB's httpfs reads it, with the S3
    secret the query cells use (the preflight of the query cells on S3)."""
    con = connect(extensions=S3_EXTENSIONS)
    try:
        create_s3_secret(con, config)
        row = con.execute("SELECT content FROM read_blob(?)",
                          [f"s3://{config.bucket}/{key}"]).fetchone()
    finally:
        con.close()
    return bytes(row[0]) if row else b""


def apply_deadline(con: duckdb.DuckDBPyConnection, deadline: Deadline) -> None:
    """httpfs's ``http_timeout`` (whole seconds, per read, write or connect) and
    ``http_retries`` from ``deadline``: a silent endpoint fails within it."""
    timeout, retries = deadline.whole_seconds()
    con.execute(f"SET http_timeout = {int(timeout)}")
    con.execute(f"SET http_retries = {int(retries)}")


def versions(extensions: tuple[str, ...] = S3_EXTENSIONS) -> dict[str, str]:
    """DuckDB's version and each extension's, loaded from its package (the preflight)."""
    import duckdb

    con = connect(threads=1, extensions=extensions)
    try:
        rows = con.execute("SELECT extension_name, extension_version FROM duckdb_extensions() "
                           "WHERE loaded").fetchall()
    finally:
        con.close()
    found = {str(name): str(version or "") for name, version in rows}
    return {"duckdb": duckdb.__version__, **{n: found.get(n, "?") for n in extensions}}
