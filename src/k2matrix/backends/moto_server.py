"""The embedded S3 and Glue endpoint: moto's server (``moto[server]``) out of process on
loopback. It speaks the real S3 and Glue APIs over HTTP; pyiceberg, DuckDB httpfs and Polars
reach it as they would reach AWS or MinIO. It runs as a
:class:`~k2matrix.backends.server_process.ServerProcess`, ready once ``/_k2/stats`` answers.

k2matrix serves moto's own WSGI application (the one ``moto_server`` runs) behind a thin
layer that (1) counts requests by kind (GET, PUT, HEAD, LIST, DELETE; Glue calls apart) and
the bytes moved, per bucket, readable over HTTP at ``GET /_k2/stats`` (``POST /_k2/reset``
zeroes them), and (2) can hold each request for a fixed delay before moto answers
(``POST /_k2/latency?ms=20``), the round trip of a real region. No maintained latency proxy
installs from the package registries here (Toxiproxy is neither on PyPI nor in Debian
bookworm; mitmproxy has no delay option), so the delay is this server's own setting.

As a context manager::

    with MotoServer.start() as s3:
        storage = StorageConfig(kind="s3", endpoint=s3.endpoint)

From a shell (CI runs the S3 cells once against it)::

    endpoint=$(python -m k2matrix.backends.moto_server start --pid-file .k2matrix/moto.pid)
    K2_S3_ENDPOINT=$endpoint pytest tests/performance -k s3 …
    python -m k2matrix.backends.moto_server stop --pid-file .k2matrix/moto.pid
"""

from __future__ import annotations

import argparse
import json
import signal
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from typing import Any, ClassVar

from k2matrix.backends.server_process import (
    ServerProcess,
    free_port,
    pid_file_cli,
    run_pid_command,
)

DEFAULT_PID_FILE = ".k2matrix/moto.pid"
KINDS = ("GET", "PUT", "HEAD", "LIST", "DELETE")
GLUE = "_glue"  # the stats key of Glue calls

Environ = dict[str, Any]
StartResponse = Callable[..., Any]
App = Callable[[Environ, StartResponse], Iterable[bytes]]


def request_kind(method: str, path: str, query: str) -> str:
    """The S3 request kind of an HTTP request in path style (``/bucket/key?query``)."""
    parts = path.lstrip("/").split("/", 1)
    has_key = len(parts) == 2 and parts[1] != ""
    if method == "GET":
        return "GET" if has_key else "LIST"
    if method == "POST":
        return "DELETE" if "delete" in query.split("&") else "PUT"  # multi-delete, multipart
    return method if method in KINDS else "PUT"


class _Stats:
    def __init__(self) -> None:
        self.lock = threading.Lock()
        self.by_bucket: dict[str, dict[str, int]] = {}
        self.latency_s = 0.0

    def add(self, bucket: str, kind: str, bytes_in: int) -> dict[str, int]:
        with self.lock:
            row = self.by_bucket.setdefault(bucket, {"requests": 0, "bytes_in": 0,
                                                     "bytes_out": 0})
            row[kind] = row.get(kind, 0) + 1
            row["requests"] += 1
            row["bytes_in"] += bytes_in
            return row

    def add_out(self, row: dict[str, int], n: int) -> None:
        with self.lock:
            row["bytes_out"] += n

    def snapshot(self) -> dict[str, Any]:
        with self.lock:
            return {"buckets": {b: dict(r) for b, r in self.by_bucket.items()},
                    "latency_ms": self.latency_s * 1e3}


def counting(app: App, stats: _Stats) -> App:
    """``app`` behind the counting and delaying layer (see the module docstring)."""

    def control(environ: Environ, start: StartResponse) -> list[bytes]:
        path, method = environ.get("PATH_INFO", ""), environ.get("REQUEST_METHOD", "GET")
        if path == "/_k2/reset" and method == "POST":
            with stats.lock:
                stats.by_bucket.clear()
        elif path == "/_k2/latency" and method == "POST":
            query = dict(p.split("=", 1) for p in environ.get("QUERY_STRING", "").split("&")
                         if "=" in p)
            try:
                stats.latency_s = max(0.0, float(query.get("ms", "0"))) / 1e3
            except ValueError:
                start("400 Bad Request", [("Content-Type", "text/plain")])
                return [b"ms must be a number of milliseconds"]
        body = json.dumps(stats.snapshot()).encode()
        start("200 OK", [("Content-Type", "application/json"),
                         ("Content-Length", str(len(body)))])
        return [body]

    def wrapped(environ: Environ, start: StartResponse) -> Iterable[bytes]:
        path = environ.get("PATH_INFO", "")
        if path.startswith("/_k2/"):
            return control(environ, start)
        method = environ.get("REQUEST_METHOD", "GET")
        try:
            bytes_in = int(environ.get("CONTENT_LENGTH") or 0)
        except ValueError:
            bytes_in = 0
        target = environ.get("HTTP_X_AMZ_TARGET", "")
        if target:  # a JSON API call (Glue): POST / with X-Amz-Target
            bucket, kind = GLUE, target.split(".")[-1]
        else:
            bucket = path.lstrip("/").split("/", 1)[0] or "_service"
            kind = request_kind(method, path, environ.get("QUERY_STRING", ""))
        row = stats.add(bucket, kind, bytes_in)
        if stats.latency_s:
            time.sleep(stats.latency_s)
        return _count_out(app(environ, start), stats, row)

    return wrapped


def _count_out(body: Iterable[bytes], stats: _Stats, row: dict[str, int]) -> Iterator[bytes]:
    try:
        for chunk in body:
            stats.add_out(row, len(chunk))
            yield chunk
    finally:
        close = getattr(body, "close", None)
        if close is not None:
            close()


def serve(host: str, port: int) -> None:
    """Run moto's server with the counting layer in this process until SIGTERM."""
    from moto.moto_server.werkzeug_app import (
        DomainDispatcherApplication,
        MotoRequestHandler,
        create_backend_app,
    )
    from werkzeug.serving import make_server

    app = counting(DomainDispatcherApplication(create_backend_app), _Stats())
    server = make_server(host, port, app, threaded=True, request_handler=MotoRequestHandler)
    signal.signal(signal.SIGTERM, lambda *_: threading.Thread(target=server.shutdown).start())
    server.serve_forever()


# ---------------------------------------------------------------------------- the client side


def control(endpoint: str, action: str = "stats", timeout: float = 5.0) -> dict[str, Any] | None:
    """``GET /_k2/stats`` (or POST ``reset`` / ``latency?ms=N``) of a k2matrix moto server;
    None if ``endpoint`` is another S3 server (no such route)."""
    method = "GET" if action == "stats" else "POST"
    req = urllib.request.Request(f"{endpoint}/_k2/{action}", method=method, data=None)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as resp:
            payload: dict[str, Any] = json.loads(resp.read())
            return payload if "buckets" in payload else None
    except (urllib.error.URLError, OSError, ValueError):
        return None


class MotoServer(ServerProcess):
    """A running moto server process on a loopback port. ``start(env=...)`` adds moto
    settings (e.g. ``INITIAL_NO_AUTH_ACTION_COUNT=0`` makes it check credentials like AWS)."""

    START_TIMEOUT_S: ClassVar[float] = 30.0
    STOP_TIMEOUT_S: ClassVar[float] = 3.0
    SCHEME: ClassVar[str] = "http://"
    EXITED: ClassVar[str] = ("the moto server exited with code {code} before listening on "
                             "{host}:{port} (is moto[server] installed? pip install "
                             "'moto[server]==5.2.5')")
    SILENT: ClassVar[str] = "the moto server did not answer on {address} within {timeout:g} s"

    @classmethod
    def command(cls, host: str, port: int) -> list[str]:
        return [sys.executable, "-m", "k2matrix.backends.moto_server", "serve",
                "--host", host, "--port", str(port)]

    def ready(self) -> bool:
        return control(self.endpoint, timeout=1.0) is not None

    @property
    def endpoint(self) -> str:
        return self.address

    def stats(self) -> dict[str, Any]:
        return control(self.endpoint) or {"buckets": {}}

    def reset(self) -> None:
        control(self.endpoint, "reset")

    def set_latency(self, ms: float) -> None:
        control(self.endpoint, f"latency?ms={ms:g}")


# ---------------------------------------------------------------------------- CLI


def _make_bucket(server: MotoServer, args: argparse.Namespace) -> None:
    if args.bucket:  # the server starts empty: give it the warehouse bucket
        from k2matrix.backends.storage import ObjectStore
        from k2matrix.backends.storage_config import StorageConfig

        ObjectStore(StorageConfig(kind="s3", endpoint=server.endpoint,
                                  bucket=args.bucket)).ensure_bucket()


def main(argv: list[str] | None = None) -> int:
    cli = pid_file_cli(MotoServer, "python -m k2matrix.backends.moto_server",
                       "Start or stop the embedded S3/Glue server (moto) on loopback.",
                       "its endpoint URL", DEFAULT_PID_FILE)
    cli.start.add_argument("--bucket", default="warehouse",
                           help="create this bucket once it runs (default warehouse; '' for "
                           "none)")
    run = cli.commands.add_parser("serve", help="serve in the foreground (what start runs)")
    run.add_argument("--host", default="127.0.0.1")
    run.add_argument("--port", type=int, default=None, help="default: a free port")
    args = cli.parser.parse_args(argv)
    if args.command == "serve":
        serve(args.host, args.port or free_port(args.host))
        return 0
    return run_pid_command(MotoServer, args, _make_bucket)


if __name__ == "__main__":
    sys.exit(main())
