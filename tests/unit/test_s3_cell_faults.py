"""What an S3 cell meets when its server hangs (SIGSTOP: the kernel still accepts, nothing
answers) or vanishes (SIGKILL): a real moto server, a real dataset and a real writer. Every
component boundary the suites cross (opening an engine, a query on an engine opened before,
a dataset lookup, the writer creating its table) raises k2matrix's ServiceUnavailable
naming S3 and the endpoint, never a raw pyarrow OSError, DuckDB IOException or Polars
error. No wall-clock time is asserted (see test_deadline for the timeouts)."""

from __future__ import annotations

import os
import signal
from collections.abc import Callable, Iterator
from contextlib import closing
from pathlib import Path
from typing import Any

import pytest

from k2matrix.backends import storage
from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.backends.faults import ServiceUnavailable
from k2matrix.backends.moto_server import MotoServer
from k2matrix.backends.s3_session import wait_gone
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.query.datasets import DatasetKey, dataset_seed, ensure_dataset
from k2matrix.query.engine import open_engine
from k2matrix.query.shapes import DataWindow, default_params
from k2matrix.writer.suite import WriterBench

DEADLINE = 2.0
ENGINES = ("duckdb_iceberg_scan", "duckdb_parquet", "polars")
SETTINGS = {"symbols": 8, "skew": 1.1, "rows_per_second": 2000}


class World:
    """A moto server, its S3 storage active, a dataset on it and a catalog for a writer."""

    def __init__(self, server: MotoServer, tmp: Path) -> None:
        self.server = server
        self.storage = StorageConfig(kind="s3", endpoint=server.endpoint, deadline_s=DEADLINE)
        storage.ObjectStore(self.storage).ensure_bucket()
        storage.activate(self.storage)
        self.work = tmp / "work"
        self.key = DatasetKey.create(2000, "unpartitioned", dataset_seed(3, 2000), SETTINGS)
        self.dataset = ensure_dataset(self.work, self.key, self.storage)
        self.window = DataWindow.from_spec(self.key.spec("trades"))
        config = CatalogConfig(uri=f"sqlite:///{tmp}/catalog.db", warehouse=str(tmp / "wh"),
                               deadline_s=DEADLINE)
        self.catalog = open_catalog(config, storage=self.storage, warehouse_key="w")

    def query(self, engine: Any) -> Any:
        return engine.run("filtered", default_params("filtered", self.window))


@pytest.fixture
def world(tmp_path: Path) -> Iterator[World]:
    with MotoServer.start(log=tmp_path / "moto.log") as server:
        try:
            yield World(server, tmp_path)
        finally:
            os.kill(server.pid, signal.SIGCONT)  # a stopped server could not be stopped
            storage.activate(None)


def _fails_naming_s3(world: World, call: Callable[[], object], problem: str) -> str:
    with pytest.raises(ServiceUnavailable) as info:
        call()
    message = str(info.value)
    assert message.startswith(f"S3 at {world.server.endpoint} (bucket 'warehouse') {problem}")
    assert "fix: check that the S3 server is running" in message
    return message


def _every_boundary_fails(world: World, engines: dict[str, Any], problem: str,
                          table: str) -> None:
    """Each boundary a cell crosses fails naming S3 and ``problem``: a query on an engine
    opened before the fault, opening an engine, the dataset, the writer's table."""
    for engine in engines.values():
        with closing(engine):
            _fails_naming_s3(world, lambda e=engine: world.query(e), problem)
    for name in ENGINES:
        _fails_naming_s3(world, lambda n=name: open_engine(
            n, world.dataset.metadata_locations()), problem)
    _fails_naming_s3(world, lambda: ensure_dataset(world.work, world.key, world.storage),
                     problem)
    writers = WriterBench("iceberg", world.catalog, "k2", "v2")
    writer = writers.make()
    _fails_naming_s3(world, lambda: writers.ensure_table(writer, table), problem)


def test_a_hung_server_fails_every_boundary_naming_s3(world: World) -> None:
    engines = {name: open_engine(name, world.dataset.metadata_locations()) for name in ENGINES}
    for engine in engines.values():  # alive: the engines answer
        assert world.query(engine).rows_returned > 0
    os.kill(world.server.pid, signal.SIGSTOP)
    _every_boundary_fails(world, engines, f"did not answer within {DEADLINE:g} s",
                          "hung_table")


def test_a_vanished_server_fails_every_boundary_naming_s3(world: World) -> None:
    engines = {name: open_engine(name, world.dataset.metadata_locations()) for name in ENGINES}
    os.kill(world.server.pid, signal.SIGKILL)
    wait_gone(world.server)
    _every_boundary_fails(world, engines, "cannot be reached", "gone_table")
