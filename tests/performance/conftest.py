"""Fixtures the suites share for object storage: the S3 of this worker (``[backends.storage]``
or an embedded moto server started on first use) and the catalogs of the ``storages`` and
``catalogs`` axes."""

from __future__ import annotations

import os
from collections.abc import Iterator
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest
from applicable import require_support

from k2matrix.backends.catalog import axis_catalog, open_catalog
from k2matrix.backends.config import Backends
from k2matrix.backends.s3_session import S3Session
from k2matrix.cell import Cell
from k2matrix.matrix import Matrix
from k2matrix.writer.bench import Tables
from k2matrix.writer.suite import WriterBench

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


def _worker() -> str:
    return os.environ.get("PYTEST_XDIST_WORKER", "main")


@pytest.fixture(scope="session")
def k2_s3(k2_backends: Backends, k2_workdir: Path) -> Iterator[S3Session]:
    """This worker's S3 (started lazily: a sweep without S3 cells starts nothing)."""
    k2_workdir.mkdir(parents=True, exist_ok=True)
    session = S3Session(k2_backends.storage, log=k2_workdir / f"moto-{_worker()}.log")
    yield session
    session.close()


class CellCatalogs:
    """The catalog of each (storage, catalog kind) a cell names, opened once per module."""

    def __init__(self, backends: Backends, s3: S3Session) -> None:
        self.backends, self.s3 = backends, s3
        self.opened: dict[tuple[str, str], Catalog] = {}

    def storage_of(self, cell: Cell) -> str:
        if cell.params.get("catalog") == "glue":
            return "s3"  # Glue tables live on S3
        return str(cell.params.get("storage", "local"))

    def __call__(self, cell: Cell) -> Catalog:
        storage = self.storage_of(cell)
        kind = str(cell.params.get("catalog", ""))
        key = (storage, kind)
        if key not in self.opened:
            config = axis_catalog(kind, self.backends.catalog) if kind else self.backends.catalog
            store = self.s3.storage() if storage == "s3" else None
            name = f"k2matrix-{storage}-{kind or config.kind}"
            self.opened[key] = open_catalog(config, name=name, storage=store,
                                            warehouse_key=_worker())
        return self.opened[key]


@pytest.fixture(scope="module")
def cell_catalogs(k2_backends: Backends, k2_s3: S3Session) -> CellCatalogs:
    return CellCatalogs(k2_backends, k2_s3)


# ---------------------------------------------------------------------------- writer suites


@pytest.fixture
def catalog(k2_cell: Cell, cell_catalogs: Any) -> Catalog:
    """The cell's catalog: ``[backends.catalog]``, or the one its storage/catalog axes name."""
    opened: Catalog = cell_catalogs(k2_cell)
    return opened


@pytest.fixture
def tables(k2_cell: Cell, catalog: Catalog, k2_backends: Backends) -> Iterator[Tables]:
    t = Tables(k2_cell, catalog, k2_backends.catalog.namespace)
    yield t
    t.purge()


@pytest.fixture
def writers(k2_cell: Cell, catalog: Catalog, k2_backends: Backends, k2_matrix: Matrix
            ) -> WriterBench:
    """The matrix's writer implementation and the cell's tables (``not_applicable`` when the
    cell's schema is outside what the writer supports; a mixed V1/V2 cell needs both)."""
    bench = WriterBench(str(k2_cell.params.get("impl", k2_matrix.impls["writer"])), catalog,
                        k2_backends.catalog.namespace,
                        k2_cell.schema or "v2")
    for schema in ("v1", "v2") if k2_cell.case == "stress" else (k2_cell.schema or "v2",):
        require_support(bench.plugin, Cell(k2_cell.id, k2_cell.component, k2_cell.case,
                                           {**k2_cell.params, "schema": schema},
                                           k2_cell.seed))
    return bench
