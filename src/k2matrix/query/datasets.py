"""Query datasets: a trades (V2) and a quotes (V2) Iceberg table of a given size and layout,
built once per (size, layout, seed, data shape) and cached on disk.

Where: ``<workdir>/datasets/<name>/`` holds a dataset's own SQLite catalog and warehouse, and
``dataset.json`` (written last, atomically) marks it complete. A dataset has a catalog of its
own, not the matrix's ``[backends.catalog]``, because (1) it must not change once built: the
writer suite creates, appends to and drops tables in that catalog, and a query reference is only
valid for exactly the generated rows; (2) each dataset is built under its own lock, so
concurrent xdist workers building different datasets never contend on one SQLite file; (3) it
survives between runs when the workdir does, so 10M-row tables are built once per machine.
Engines read the tables through their metadata files, with no catalog at query time.

On S3 (``ensure_dataset(..., storage=…)``, the ``storages`` axis) the catalog stays in that
folder and the warehouse is ``s3://bucket/prefix/datasets/<name>/``; the folder's name adds a
tag of the endpoint, bucket and prefix, and a dataset whose metadata objects are gone (an
embedded server is in memory and new each session) is rebuilt.

Concurrency: the first worker to need a dataset takes an exclusive ``fcntl.flock`` on
``<name>.lock`` and builds it; the others block on the lock and then find ``dataset.json``.
A half-built folder (a crash) has no ``dataset.json`` and is removed and rebuilt.

The rows: ``generate_table`` of a spec seeded by :func:`dataset_seed` — a function of the
matrix's base seed and the size only, so every layout holds the same rows and engines and
layouts can be compared. Rows are appended in chunks of :data:`CHUNK_ROWS`, clustered as a
compaction would leave them: arrival (time) order for ``unpartitioned``; ``layouts.sort_keys``
(symbol, time) for ``sorted``; symbol then time for the partitioned layouts, so each partition
gets one file per day rather than one per chunk.
"""

from __future__ import annotations

import fcntl
import hashlib
import json
import os
import shutil
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import pyarrow as pa

from k2matrix.backends.faults import ServiceUnavailable, storage_fault
from k2matrix.backends.storage import ObjectStore
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.cell import derive_seed
from k2matrix.errors import BackendError
from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.writer.layouts import check_layout, sort_keys

# 2: tables at <warehouse>/<namespace>/<table> (engines that find a table by warehouse path
# and name reach it); a dataset of version 1 is rebuilt, same rows
FORMAT_VERSION = 2
CHUNK_ROWS = 1_000_000
NAMESPACE = "k2q"
TABLES: dict[str, str] = {"trades": "v2", "quotes": "quote_v2"}  # table name -> schema
QUOTES_SEED_OFFSET = 1
DATA_KEYS = ("symbols", "skew", "null_ratio", "disorder", "edge_case_fraction", "start",
             "rows_per_second")


def dataset_seed(base_seed: int, size: int) -> int:
    """The seed of the size-``size`` dataset: the same for every layout, engine and cell."""
    return derive_seed(base_seed, f"query-dataset-n{size}")


@dataclass(frozen=True)
class DatasetKey:
    """What decides a dataset: its size, layout, seed and data shape."""

    size: int
    layout: str
    seed: int
    data: tuple[tuple[str, Any], ...] = ()

    def __post_init__(self) -> None:
        if not isinstance(self.size, int) or self.size < 1:
            raise ValueError(f"size={self.size!r}: must be a positive integer")
        check_layout(self.layout)

    @classmethod
    def create(cls, size: int, layout: str, seed: int,
               settings: Mapping[str, Any] | None = None) -> DatasetKey:
        """A key with the data shape taken from ``settings`` (a cell's settings)."""
        settings = settings or {}
        data = tuple((k, settings[k]) for k in DATA_KEYS if k in settings)
        return cls(size=size, layout=layout, seed=seed, data=data)

    def spec(self, table: str) -> WorkloadSpec:
        """The generator spec of ``table`` (``trades`` or ``quotes``)."""
        offset = QUOTES_SEED_OFFSET if table == "quotes" else 0
        return WorkloadSpec(schema=TABLES[table], rows=self.size,
                            seed=(self.seed + offset) % 2**32, **dict(self.data))

    @property
    def name(self) -> str:
        shape = hashlib.sha256(json.dumps(self.data, sort_keys=True).encode()).hexdigest()[:8]
        return f"n{self.size}-{self.layout}-s{self.seed}-{shape}"


@dataclass(frozen=True)
class TableInfo:
    """One built table: where its metadata file is and what it holds."""

    name: str
    schema: str
    metadata_location: str
    rows: int
    data_files: int
    bytes: int


@dataclass(frozen=True)
class Dataset:
    """A built dataset: its key, folder and tables, and whether this call built it."""

    key: DatasetKey
    folder: Path
    tables: Mapping[str, TableInfo]
    build_seconds: float
    built_now: bool = False

    def metadata_locations(self) -> dict[str, str]:
        """``{table name: metadata file}``: what query engines open."""
        return {name: info.metadata_location for name, info in self.tables.items()}

    def describe(self) -> dict[str, Any]:
        """Plain data for results (``extra_info``)."""
        return {
            "name": self.key.name, "rows": self.key.size, "layout": self.key.layout,
            "seed": self.key.seed, "build_seconds": round(self.build_seconds, 3),
            "files": {n: t.data_files for n, t in self.tables.items()},
            "bytes": {n: t.bytes for n, t in self.tables.items()},
        }


def _local_path(location: str) -> Path:
    return Path(location.removeprefix("file://"))


def _exists(location: str, storage: StorageConfig | None) -> bool:
    if storage is None or not location.startswith("s3://"):
        return _local_path(location).is_file()
    try:
        return ObjectStore(storage).exists(location.removeprefix("s3://").split("/", 1)[1])
    except ServiceUnavailable:
        raise  # a silent endpoint is not a missing dataset: building would wait on it too
    except BackendError:
        return False


def _read_ready(folder: Path, key: DatasetKey, storage: StorageConfig | None = None
                ) -> Dataset | None:
    marker = folder / "dataset.json"
    try:
        raw = json.loads(marker.read_text())
    except (OSError, ValueError):
        return None
    if raw.get("format_version") != FORMAT_VERSION or raw.get("key") != _key_dict(key):
        return None
    tables = {n: TableInfo(**t) for n, t in raw["tables"].items()}
    if set(tables) != set(TABLES):
        return None
    if not all(_exists(t.metadata_location, storage) for t in tables.values()):
        return None
    return Dataset(key=key, folder=folder, tables=tables,
                   build_seconds=float(raw.get("build_seconds", 0.0)))


def _key_dict(key: DatasetKey) -> dict[str, Any]:
    plain: dict[str, Any] = json.loads(json.dumps(asdict(key)))  # tuples become lists
    return plain


@contextmanager
def _locked(path: Path) -> Iterator[None]:
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path, "a+") as handle:
        fcntl.flock(handle.fileno(), fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(handle.fileno(), fcntl.LOCK_UN)


def cluster(table: pa.Table, schema: str, layout: str) -> pa.Table:
    """The rows in the order they are appended for ``layout`` (see the module docstring)."""
    if layout == "unpartitioned":
        return table
    # The partitioned layouts take the sorted layout's order: symbol, then time.
    return table.sort_by(sort_keys(schema, "sorted"))


def _build_table(catalog: Any, name: str, schema: str, layout: str, rows: pa.Table
                 ) -> TableInfo:
    from k2matrix.writer.layouts import create_table

    # <warehouse>/<namespace>/<table>, the REST catalogs' convention: an engine that finds a
    # table by warehouse path and name (K2's QueryEngine) reaches it
    warehouse = str(catalog.properties.get("warehouse", "")).rstrip("/")
    table = create_table(catalog, f"{NAMESPACE}.{name}", schema, layout, replace=True,
                         location=f"{warehouse}/{NAMESPACE}/{name}" if warehouse else None)
    ordered = cluster(rows, schema, layout)
    for offset in range(0, max(ordered.num_rows, 1), CHUNK_ROWS):
        table.append(ordered.slice(offset, CHUNK_ROWS))
    files = list(table.scan().plan_files())
    return TableInfo(name=name, schema=schema, metadata_location=table.metadata_location,
                     rows=sum(f.file.record_count for f in files), data_files=len(files),
                     bytes=sum(f.file.file_size_in_bytes for f in files))


def _build(folder: Path, key: DatasetKey, storage: StorageConfig | None = None) -> Dataset:
    from k2matrix.backends.catalog import open_catalog
    from k2matrix.backends.config import CatalogConfig

    if folder.exists():
        shutil.rmtree(folder)  # a half-built dataset from an interrupted run
    folder.mkdir(parents=True)
    started = time.perf_counter()
    config = CatalogConfig(kind="sql", uri=f"sqlite:///{folder}/catalog.db",
                           warehouse=str(folder / "warehouse"), namespace=NAMESPACE)
    if storage is not None:
        ObjectStore(storage).delete_prefix(f"{storage.prefix}/datasets/{folder.name}")
    catalog = open_catalog(config, name=f"k2q-{key.name}", storage=storage,
                           warehouse_key=f"datasets/{folder.name}")
    tables = {}
    for name, schema in TABLES.items():
        rows = generate_table(key.spec(name))
        tables[name] = _build_table(catalog, name, schema, key.layout, rows)
        del rows
    seconds = time.perf_counter() - started
    payload = {"format_version": FORMAT_VERSION, "key": _key_dict(key),
               "build_seconds": seconds,
               "tables": {n: asdict(t) for n, t in tables.items()}}
    tmp = folder / "dataset.json.tmp"
    tmp.write_text(json.dumps(payload, indent=2))
    os.replace(tmp, folder / "dataset.json")
    return Dataset(key=key, folder=folder, tables=tables, build_seconds=seconds, built_now=True)


def storage_tag(storage: StorageConfig) -> str:
    """A short tag of where an S3 dataset lives (endpoint, bucket, prefix)."""
    where = f"{storage.endpoint}|{storage.bucket}|{storage.prefix}"
    return "s3-" + hashlib.sha256(where.encode()).hexdigest()[:8]


def ensure_dataset(workdir: str | Path, key: DatasetKey, storage: StorageConfig | None = None
                   ) -> Dataset:
    """The dataset of ``key`` under ``workdir`` (its files on ``storage`` when that is S3),
    built first if it is not there yet.

    Safe to call from concurrent processes: exactly one builds, the others wait and reuse.
    """
    if storage is not None and storage.kind != "s3":
        storage = None
    root = Path(workdir) / "datasets"
    name = key.name if storage is None else f"{key.name}-{storage_tag(storage)}"
    folder = root / name
    ready = _read_ready(folder, key, storage)
    if ready is not None:
        return ready
    with _locked(root / f"{name}.lock"):
        ready = _read_ready(folder, key, storage)  # built by another worker while we waited
        if ready is not None:
            return ready
        try:
            return _build(folder, key, storage)
        except BackendError:
            raise
        except Exception as exc:
            fault = storage_fault(exc, storage) if storage is not None else None
            if fault is not None:
                raise fault from None
            if not isinstance(exc, OSError):
                raise
            raise BackendError(f"dataset {key.name}: cannot build under {folder}: {exc}"
                               ) from None
