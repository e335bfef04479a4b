"""The embedded S3 and Glue endpoint: moto's server (``moto[server]``) out of process on
loopback. It speaks the real S3 and Glue APIs over HTTP; pyiceberg, DuckDB httpfs and Polars
reach it as they would reach AWS or MinIO.

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
import contextlib
import json
import os
import signal
import socket
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from collections.abc import Callable, Iterable, Iterator
from pathlib import Path
from types import TracebackType
from typing import Any

from k2matrix.errors import BackendError

DEFAULT_PID_FILE = ".k2matrix/moto.pid"
START_TIMEOUT_S = 30.0
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


def _free_port(host: str) -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


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


class MotoServer:
    """A running moto server process on a loopback port."""

    def __init__(self, proc: subprocess.Popen[bytes], host: str, port: int) -> None:
        self.proc, self.host, self.port = proc, host, port

    @property
    def endpoint(self) -> str:
        return f"http://{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int | None = None,
              timeout: float = START_TIMEOUT_S, log: Path | None = None,
              env: dict[str, str] | None = None) -> MotoServer:
        """Start the server on ``host:port`` (a free port by default); return once it
        answers ``/_k2/stats``. ``env`` adds moto settings (e.g.
        ``INITIAL_NO_AUTH_ACTION_COUNT=0`` makes it check credentials like AWS)."""
        port = port or _free_port(host)
        cmd = [sys.executable, "-m", "k2matrix.backends.moto_server", "serve",
               "--host", host, "--port", str(port)]
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - child owns it
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    env={**os.environ, **(env or {})})
        finally:
            if log:
                out.close()  # type: ignore[union-attr]
        server = cls(proc, host, port)
        deadline = time.monotonic() + timeout
        while control(server.endpoint, timeout=1.0) is None:
            if proc.poll() is not None:
                raise BackendError(f"the moto server exited with code {proc.returncode} "
                                   f"before listening on {host}:{port} (is moto[server] "
                                   "installed? pip install 'moto[server]==5.2.5')")
            if time.monotonic() > deadline:
                server.stop()
                raise BackendError(f"the moto server did not answer on {server.endpoint} "
                                   f"within {timeout:g} s")
            time.sleep(0.05)
        return server

    def stats(self) -> dict[str, Any]:
        return control(self.endpoint) or {"buckets": {}}

    def reset(self) -> None:
        control(self.endpoint, "reset")

    def set_latency(self, ms: float) -> None:
        control(self.endpoint, f"latency?ms={ms:g}")

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stop(self, timeout: float = 3.0) -> None:
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> MotoServer:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# ---------------------------------------------------------------------------- CLI


def _start(args: argparse.Namespace) -> int:
    pid_file = Path(args.pid_file)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    server = MotoServer.start(args.host, args.port, args.timeout,
                              Path(args.log) if args.log else None)
    pid_file.write_text(f"{server.pid} {server.endpoint}\n")
    if args.bucket:  # the server starts empty: give it the warehouse bucket
        from k2matrix.backends.storage import ObjectStore
        from k2matrix.backends.storage_config import StorageConfig

        ObjectStore(StorageConfig(kind="s3", endpoint=server.endpoint,
                                  bucket=args.bucket)).ensure_bucket()
    print(server.endpoint, flush=True)
    return 0


def _stop(args: argparse.Namespace) -> int:
    pid_file = Path(args.pid_file)
    if not pid_file.exists():
        print(f"no pid file at {pid_file}: nothing to stop", file=sys.stderr)
        return 0
    pid = int(pid_file.read_text().split()[0])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + args.timeout
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # raises ProcessLookupError once it is gone
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink()
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m k2matrix.backends.moto_server",
                                     description="Start or stop the embedded S3/Glue server "
                                     "(moto) on loopback.")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start in the background; print its endpoint URL")
    start.add_argument("--log", default=None, help="append the server's output here")
    start.add_argument("--bucket", default="warehouse",
                       help="create this bucket once it runs (default warehouse; '' for none)")
    stop = sub.add_parser("stop", help="stop the server named in the pid file")
    run = sub.add_parser("serve", help="serve in the foreground (what start runs)")
    for p in (start, run):
        p.add_argument("--host", default="127.0.0.1")
        p.add_argument("--port", type=int, default=None, help="default: a free port")
    for p in (start, stop):
        p.add_argument("--pid-file", default=DEFAULT_PID_FILE)
        p.add_argument("--timeout", type=float, default=START_TIMEOUT_S)
    args = parser.parse_args(argv)
    try:
        if args.command == "serve":
            serve(args.host, args.port or _free_port(args.host))
            return 0
        return _start(args) if args.command == "start" else _stop(args)
    except BackendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
