"""The K2 query component: ``execute_query(sql_or_shape, params) -> rows`` over Iceberg.

An engine is opened on a set of Iceberg tables, given as ``{name: metadata file}`` (for the
query workload: ``trades`` and ``quotes``), and runs either a named shape of
:mod:`~k2matrix.query.shapes` with its parameters, or raw SQL over views named like
the tables (DuckDB engines; parameters as ``$name``/``$1``/``?``, always bound).

Engines (the ``engines`` matrix axis), each behind :class:`QueryEngine`:

- ``duckdb_iceberg_scan``: DuckDB ``iceberg_scan`` on the table's current metadata file;
- ``duckdb_parquet``: DuckDB ``read_parquet`` over the data files pyiceberg plans for the
  query (``scan(row_filter=...).plan_files()``: partition and column-statistics pruning);
- ``polars``: ``polars.scan_iceberg``, each shape as a lazy Polars plan.

The engines are registered as entry points (group ``k2matrix.engine``) and loaded by
:mod:`k2matrix.implementations`, like a user's own: a name of an installed engine or an import path
``"package.module:ClassName"`` (a class taking the tables mapping and satisfying
:class:`~k2matrix.query.protocol.QueryEngine`).
"""

from __future__ import annotations

import hashlib
import re
from collections.abc import Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2matrix import implementations
from k2matrix.backends import faults, storage
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.component_config import ComponentConfig, StorageSettings, TableRef
from k2matrix.errors import BackendError, QueryError
from k2matrix.query.protocol import Params, QueryEngine
from k2matrix.query.shapes import SHAPES, Shape, bind

if TYPE_CHECKING:
    from pyiceberg.table import StaticTable

_NAME = re.compile(r"[A-Za-z_][A-Za-z0-9_]*")


def query_id(query: str) -> str:
    """A shape's name, or ``sql-<8 hex>`` for raw SQL (stable, for error messages)."""
    if query in SHAPES:
        return query
    return "sql-" + hashlib.sha1(query.encode()).hexdigest()[:8]


def is_shape(query: str) -> bool:
    """A shape name rather than SQL: one word with no spaces (unknown words are shape typos)."""
    return query.strip().replace("_", "").isalnum()


def load_table(name: str, metadata_location: str) -> StaticTable:
    """The Iceberg table ``name`` from its metadata file; :class:`BackendError` naming the table
    and the file if it is missing or not valid table metadata."""
    from pyiceberg.table import StaticTable

    if not _NAME.fullmatch(name):
        raise QueryError(f"table name {name!r}: use letters, digits and underscores (it names "
                         "a view in SQL)")
    path = Path(metadata_location.removeprefix("file://"))
    local = "://" not in metadata_location or metadata_location.startswith("file://")
    if local and not path.is_file():
        raise BackendError(f"Iceberg table {name!r}: metadata file {path} does not exist "
                           "(dropped table or removed dataset? rebuild the dataset)")
    try:
        return StaticTable.from_metadata(metadata_location, properties=io_properties(
            metadata_location))
    except Exception as exc:
        fault = remote_fault(exc, metadata_location)
        if fault is not None:
            raise fault from None
        detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
        raise BackendError(f"Iceberg table {name!r}: metadata file {metadata_location} is not "
                           f"valid Iceberg table metadata ({type(exc).__name__}: {detail})"
                           ) from None


def s3_storage(location: str) -> StorageConfig | None:
    """The storage an ``s3://`` location is read with (this process's active storage);
    :class:`BackendError` if none is active."""
    if not location.startswith(("s3://", "s3a://")):
        return None
    config = storage.active()
    if config is None:
        raise BackendError(f"{location}: an S3 location, but no S3 storage is configured in "
                           "this process: set [backends.storage] kind = \"s3\" (or "
                           "K2_S3_ENDPOINT)")
    return config


def remote_fault(exc: BaseException, location: str) -> BackendError | None:
    """k2matrix's error for an S3 endpoint that did not answer or refused while reading
    ``location`` (naming S3 and the endpoint), else None."""
    config = s3_storage(location) if location.startswith(("s3://", "s3a://")) else None
    return faults.storage_fault(exc, config) if config is not None else None


def engine_fault(exc: BaseException, tables: Mapping[str, str]) -> BackendError | None:
    """:func:`remote_fault` for an engine reading ``tables`` (their first S3 location)."""
    location = next((loc for loc in tables.values() if loc.startswith(("s3://", "s3a://"))),
                    None)
    return remote_fault(exc, location) if location is not None else None


def io_properties(location: str) -> dict[str, str]:
    """pyiceberg FileIO properties for reading ``location``."""
    config = s3_storage(location)
    return storage.pyiceberg_properties(config) if config else {}


def bind_shape(query: str, params: Params, tables: Mapping[str, str]
               ) -> tuple[Shape, dict[str, Any]]:
    """The shape ``query`` with checked parameters; :class:`QueryError` for a bad shape or
    parameters, or a table the shape needs that the engine was not opened on."""
    if params is not None and not isinstance(params, Mapping):
        raise QueryError(f"query shape {query!r}: parameters must be a mapping of name to value")
    shape, bound = bind(query, params)
    missing = [t for t in shape.tables if t not in tables]
    if missing:
        raise QueryError(f"query {shape.name}: table(s) {', '.join(missing)} not open in this "
                         f"engine (open: {', '.join(tables) or 'none'})")
    return shape, bound


# ---------------------------------------------------------------------------- engines


def open_engine(name: str, tables: Mapping[str, str]) -> QueryEngine:
    """Open engine ``name`` (an installed engine's name or ``"package.module:ClassName"``,
    loaded by :mod:`k2matrix.implementations`) on ``tables`` (``{table name: metadata file}``);
    :class:`~k2matrix.implementations.PluginError` naming the engine if it cannot be loaded or
    lacks the :class:`QueryEngine` members."""
    plugin = implementations.resolve("engine", name)
    try:
        if plugin.accepts("config"):
            engine: QueryEngine = plugin.build(config=engine_config(tables))
        else:
            engine = plugin.build(dict(tables))
    except Exception as exc:  # opening reads table metadata: S3 that does not answer
        fault = engine_fault(exc, tables)
        if fault is not None:
            raise fault from None
        raise
    return engine


def engine_config(tables: Mapping[str, str]) -> ComponentConfig:
    """An engine's resolved configuration: each table's metadata file and root, and the
    storage an S3 table is read with (:mod:`k2matrix.component_config`)."""
    refs = {n: TableRef(n, loc, location=table_root(loc)) for n, loc in tables.items()}
    first_s3 = next((loc for loc in tables.values() if loc.startswith(("s3://", "s3a://"))),
                    None)
    return ComponentConfig(kind="engine", tables=refs,
                           storage=StorageSettings.of(s3_storage(first_s3) if first_s3 else None))


def table_root(metadata_location: str) -> str:
    """The table's root folder: the parent of its ``metadata/`` folder."""
    head, _, _ = metadata_location.rpartition("/metadata/")
    return head or metadata_location.rsplit("/", 1)[0]


def execute_query(engine: QueryEngine, sql_or_shape: str, params: Params = None
                  ) -> list[dict[str, Any]]:
    """The K2 API: the rows of a shape or SQL query as dicts."""
    return engine.run(sql_or_shape, params).rows()
