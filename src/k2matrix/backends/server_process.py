"""A server in a child process on a loopback port, the one way k2matrix runs a real service
out of process (the Tansu broker, the moto S3/Glue server): started on a free port, waited for
until it answers, stopped (SIGTERM, then SIGKILL) or killed as a crash would, and a context
manager. Also the ``start``/``stop`` commands of their ``python -m`` CLIs: ``start`` leaves
the server running and writes ``<pid> <address>`` to a pid file, ``stop`` ends the process
that file names.

A server is a subclass: its command line (:meth:`ServerProcess.command`), how to tell it is
ready (:meth:`ServerProcess.ready`, by default: its port accepts a TCP connection) and the
words of its errors.
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
from collections.abc import Callable
from pathlib import Path
from types import TracebackType
from typing import ClassVar, NamedTuple, Self, TypeVar

from k2matrix.errors import BackendError

__all__ = ["Cli", "ServerProcess", "free_port", "pid_file_cli", "run_pid_command",
           "start_pid_file", "stop_pid_file"]


def free_port(host: str = "127.0.0.1") -> int:
    """A TCP port on ``host`` that nothing listens on now."""
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind((host, 0))
        return int(s.getsockname()[1])


class ServerProcess:
    """A running server process on ``host:port``; subclasses say which server."""

    START_TIMEOUT_S: ClassVar[float] = 10.0
    STOP_TIMEOUT_S: ClassVar[float] = 1.0  # SIGTERM, then SIGKILL after this long
    POLL_S: ClassVar[float] = 0.05  # how often start asks whether it is ready
    SCHEME: ClassVar[str] = ""  # the address is SCHEME + host:port
    # the errors of start, formatted with code, host, port, address and timeout
    EXITED: ClassVar[str] = "the server exited with code {code} before listening on {host}:{port}"
    SILENT: ClassVar[str] = "the server did not answer on {address} within {timeout:g} s"

    def __init__(self, proc: subprocess.Popen[bytes], host: str, port: int) -> None:
        self.proc, self.host, self.port = proc, host, port

    @classmethod
    def command(cls, host: str, port: int) -> list[str]:
        """The command line that serves on ``host:port``."""
        raise NotImplementedError

    def ready(self) -> bool:
        """Whether the server answers: here, whether its port accepts a TCP connection."""
        try:
            socket.create_connection((self.host, self.port), timeout=0.2).close()
        except OSError:
            return False
        return True

    @property
    def address(self) -> str:
        """What clients connect to (and what the CLI prints)."""
        return f"{self.SCHEME}{self.host}:{self.port}"

    @property
    def pid(self) -> int:
        return self.proc.pid

    @classmethod
    def start(cls, host: str = "127.0.0.1", port: int | None = None,
              timeout: float | None = None, log: Path | None = None,
              env: dict[str, str] | None = None) -> Self:
        """Start the server on ``host:port`` (a free port by default) in a session of its
        own; return once it is :meth:`ready`. ``log`` collects its output; ``env`` adds to
        this process's environment."""
        port = port or free_port(host)
        timeout = cls.START_TIMEOUT_S if timeout is None else timeout
        cmd = cls.command(host, port)
        out = open(log, "ab") if log else subprocess.DEVNULL  # noqa: SIM115 - child owns it
        try:
            proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                    stdin=subprocess.DEVNULL, start_new_session=True,
                                    env={**os.environ, **(env or {})})
        finally:
            if log:
                out.close()  # type: ignore[union-attr]
        server = cls(proc, host, port)
        server._wait_ready(timeout)
        return server

    def _wait_ready(self, timeout: float) -> None:
        deadline = time.monotonic() + timeout
        words = {"host": self.host, "port": self.port, "address": self.address,
                 "timeout": timeout}
        while not self.ready():
            if self.proc.poll() is not None:
                raise BackendError(self.EXITED.format(code=self.proc.returncode, **words))
            if time.monotonic() > deadline:
                self.stop()
                raise BackendError(self.SILENT.format(**words))
            time.sleep(self.POLL_S)

    def kill(self) -> None:
        """Kill the server at once (SIGKILL), as a crash would."""
        if self.proc.poll() is None:
            self.proc.kill()
        self.proc.wait()

    def stop(self, timeout: float | None = None) -> None:
        """SIGTERM, then SIGKILL after ``timeout`` (default :attr:`STOP_TIMEOUT_S`)."""
        if self.proc.poll() is None:
            self.proc.terminate()
            try:
                self.proc.wait(self.STOP_TIMEOUT_S if timeout is None else timeout)
            except subprocess.TimeoutExpired:
                self.kill()

    def __enter__(self) -> Self:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, exc: BaseException | None,
                 tb: TracebackType | None) -> None:
        self.stop()


# ---------------------------------------------------------------------------- pid-file CLI

S = TypeVar("S", bound=ServerProcess)


def start_pid_file(cls: type[S], pid_file: Path, host: str, port: int | None,
                   timeout: float, log: Path | None) -> S:
    """Start a server that outlives this process; write ``<pid> <address>`` to ``pid_file``."""
    pid_file.parent.mkdir(parents=True, exist_ok=True)
    server = cls.start(host, port, timeout, log)
    pid_file.write_text(f"{server.pid} {server.address}\n")
    return server


def stop_pid_file(pid_file: Path, timeout: float) -> None:
    """Stop the process ``pid_file`` names (SIGTERM, SIGKILL after ``timeout``) and remove
    the file; no file is nothing to stop (said on stderr)."""
    if not pid_file.exists():
        print(f"no pid file at {pid_file}: nothing to stop", file=sys.stderr)
        return
    pid = int(pid_file.read_text().split()[0])
    with contextlib.suppress(ProcessLookupError):
        os.kill(pid, signal.SIGTERM)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            os.kill(pid, 0)  # raises ProcessLookupError once it is gone
            time.sleep(0.05)
        os.kill(pid, signal.SIGKILL)
    pid_file.unlink()


class Cli(NamedTuple):
    """The parser of a server's ``python -m`` CLI, its subcommands and its ``start``
    command, for a server to add its own options and commands to."""

    parser: argparse.ArgumentParser
    commands: argparse._SubParsersAction[argparse.ArgumentParser]
    start: argparse.ArgumentParser


def pid_file_cli(cls: type[ServerProcess], prog: str, description: str, prints: str,
                 pid_file: str) -> Cli:
    """``prog start [--host H] [--port P] [--log F] [--pid-file F] [--timeout S]`` (prints
    ``prints``: the address) and ``prog stop [--pid-file F] [--timeout S]``."""
    parser = argparse.ArgumentParser(prog=prog, description=description)
    sub = parser.add_subparsers(dest="command", required=True)
    start = sub.add_parser("start", help=f"start in the background; print {prints}")
    start.add_argument("--host", default="127.0.0.1")
    start.add_argument("--port", type=int, default=None, help="default: a free port")
    start.add_argument("--log", default=None, help="append the server's output here")
    stop = sub.add_parser("stop", help="stop the server named in the pid file")
    for p in (start, stop):
        p.add_argument("--pid-file", default=pid_file)
        p.add_argument("--timeout", type=float, default=cls.START_TIMEOUT_S)
    return Cli(parser, sub, start)


def run_pid_command(cls: type[S], args: argparse.Namespace,
                    after_start: Callable[[S, argparse.Namespace], None] | None = None) -> int:
    """Run ``start`` (then ``after_start``, then print the address) or ``stop`` as parsed by
    :func:`pid_file_cli`; exit code 2 with the message on a BackendError."""
    try:
        if args.command == "stop":
            stop_pid_file(Path(args.pid_file), args.timeout)
            return 0
        server = start_pid_file(cls, Path(args.pid_file), args.host, args.port, args.timeout,
                                Path(args.log) if args.log else None)
        if after_start is not None:
            after_start(server, args)
        print(server.address, flush=True)
        return 0
    except BackendError as exc:
        print(f"k2matrix: {exc}", file=sys.stderr)
        return 2
