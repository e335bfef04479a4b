"""Catalog faults name the catalog; two processes appending to one table through the
PostgreSQL catalog lose no row."""

from __future__ import annotations

import contextlib
import multiprocessing
import os
import socket
import threading
import time
from pathlib import Path

import pytest

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.errors import BackendError
from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.writer.checksum import Checksum, table_checksum
from k2matrix.writer.iceberg import IcebergWriter
from k2matrix.writer.verify import verify_table

POSTGRES = os.environ.get("K2_TEST_POSTGRES_URI",
                          "postgresql+psycopg2://postgres@127.0.0.1:5432/test")
PROCESSES = 2
APPENDS = 12
ROWS = 250


def test_a_sqlite_catalog_in_a_missing_folder_is_named(tmp_path: Path) -> None:
    config = CatalogConfig(uri=f"sqlite:///{tmp_path}/absent/catalog.db",
                           warehouse=str(tmp_path / "wh"))
    with pytest.raises(BackendError, match=rf"{tmp_path}/absent does not exist"):
        open_catalog(config)


def test_a_postgres_server_that_is_down_is_named(tmp_path: Path) -> None:
    config = CatalogConfig(uri="postgresql+psycopg2://postgres:hunter2@127.0.0.1:9/test",
                           warehouse=str(tmp_path / "wh"))
    with pytest.raises(BackendError) as info:
        open_catalog(config)
    message = str(info.value)
    assert "postgresql+psycopg2://postgres:***@127.0.0.1:9/test" in message
    assert "cannot be reached" in message and "hunter2" not in message


def _postgres(tmp_path: Path, namespace: str) -> CatalogConfig:
    config = CatalogConfig(uri=POSTGRES, warehouse=str(tmp_path / "wh"), namespace=namespace)
    try:
        open_catalog(config)
    except BackendError as exc:
        pytest.skip(f"no PostgreSQL catalog: {exc}")
    return config


def _append_from_process(config: CatalogConfig, table: str, seed: int,
                         results: multiprocessing.Queue) -> None:  # type: ignore[type-arg]
    writer = IcebergWriter(open_catalog(config), namespace=config.namespace)
    total = Checksum()
    for i in range(APPENDS):
        data = generate_table(WorkloadSpec("v2", ROWS, seed * 1000 + i))
        writer.write_arrow(data, table)
        total += table_checksum(data)
    retries = sum(c.attempts - 1 for c in writer.commits)
    results.put((total.rows, total.digest, retries))


def test_two_processes_append_to_one_postgres_table(tmp_path: Path) -> None:
    namespace = f"k2test_{os.getpid()}_{time.time_ns() % 10**6}"
    config = _postgres(tmp_path, namespace)
    table = "contended"
    writer = IcebergWriter(open_catalog(config), namespace=namespace)
    writer.ensure_table(table)
    context = multiprocessing.get_context("spawn")
    results = context.Queue()
    procs = [context.Process(target=_append_from_process, args=(config, table, s, results))
             for s in range(1, PROCESSES + 1)]
    for p in procs:
        p.start()
    for p in procs:
        p.join(timeout=240)
    assert [p.exitcode for p in procs] == [0] * PROCESSES, "a writer process failed"
    outcomes = [results.get(timeout=10) for _ in procs]
    expected = Checksum()
    for rows, digest, _retries in outcomes:
        expected += Checksum(rows, digest)
    print(f"writer retries after lost races: {[r for _, _, r in outcomes]}")
    assert expected.rows == PROCESSES * APPENDS * ROWS
    state = verify_table(writer.table(table), expected)
    assert state.checksum.rows == PROCESSES * APPENDS * ROWS
    catalog = open_catalog(config)
    catalog.purge_table(f"{namespace}.{table}")
    catalog.drop_namespace(namespace)


class _Proxy:
    """A TCP forwarder to PostgreSQL that the test can cut, like a server going down."""

    def __init__(self, target: tuple[str, int]) -> None:
        self.target = target
        self.server = socket.create_server(("127.0.0.1", 0))
        self.port = self.server.getsockname()[1]
        self.sockets: list[socket.socket] = []
        threading.Thread(target=self._accept, daemon=True).start()

    def _accept(self) -> None:
        while True:
            try:
                client, _ = self.server.accept()
            except OSError:
                return
            upstream = socket.create_connection(self.target)
            self.sockets += [client, upstream]
            for a, b in ((client, upstream), (upstream, client)):
                threading.Thread(target=self._pipe, args=(a, b), daemon=True).start()

    @staticmethod
    def _pipe(source: socket.socket, sink: socket.socket) -> None:
        with contextlib.suppress(OSError):
            while chunk := source.recv(65536):
                sink.sendall(chunk)

    def cut(self) -> None:
        self.server.close()
        for s in self.sockets:
            with contextlib.suppress(OSError):
                s.shutdown(socket.SHUT_RDWR)
            s.close()


def test_postgres_going_down_mid_run_is_a_backend_error(tmp_path: Path) -> None:
    namespace = f"k2down_{os.getpid()}_{time.time_ns() % 10**6}"
    direct = _postgres(tmp_path, namespace)
    host_port = POSTGRES.rsplit("@", 1)[1].split("/", 1)[0]
    host, port = host_port.split(":")
    proxy = _Proxy((host, int(port)))
    proxied = CatalogConfig(uri=POSTGRES.replace(host_port, f"127.0.0.1:{proxy.port}"),
                            warehouse=direct.warehouse, namespace=namespace)
    writer = IcebergWriter(open_catalog(proxied), namespace=namespace)
    data = generate_table(WorkloadSpec("v2", 100, 1))
    writer.write_arrow(data, "t")
    proxy.cut()
    with pytest.raises(BackendError, match=rf"Iceberg table {namespace}\.t: the catalog or "
                                           "warehouse could not be reached"):
        writer.write_arrow(data, "t")
    catalog = open_catalog(direct)
    catalog.purge_table(f"{namespace}.t")
    catalog.drop_namespace(namespace)
