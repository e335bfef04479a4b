"""The one vocabulary of axis values.

Matrix validation (:mod:`k2matrix.matrix`), cell ids (:mod:`k2matrix.cell`) and the
registries of the components (layouts, query shapes) all read these names, so a value the
matrix accepts is a value a component knows. A test checks that each registry covers its
axis exactly.

Engines are open-ended: the ``engines`` axis takes the name of any installed engine (entry
point group ``k2matrix.engine``) or an import path, checked by :mod:`k2matrix.implementations` when
the matrix loads. :data:`ENGINES` are the names k2matrix itself registers.
"""

from __future__ import annotations

COMPONENTS = ("producer", "writer", "query", "pipeline")
SCHEMAS = ("v1", "v2")
QUERY_SHAPES = (
    "simple_scan", "filtered", "aggregation", "time_range", "join", "window", "subquery",
    # the shapes K2's QueryEngine API serves: query_trades, get_market_summary
    "latest_trades", "market_summary",
)
ENGINES = ("duckdb_iceberg_scan", "duckdb_parquet", "polars")  # the built-in engines
LAYOUTS = ("unpartitioned", "day_symbol", "day_bucket", "sorted")
CACHE_STATES = ("cold", "warm")
STORAGES = ("local", "s3")  # where the warehouse is: the local disk or [backends.storage] S3
CATALOGS = ("sqlite", "postgresql", "glue")  # the catalog of a writer's commit cells
QUERY_PATTERNS = ("sequential", "mixed")

# The components whose implementation the matrix names (``[components.<c>] impl``), the
# plug-in kind of each, and the built-in each defaults to (an entry point name). The query
# component's implementations are the ``engines`` axis (kind ``engine``).
IMPL_KINDS: dict[str, str] = {"producer": "producer", "writer": "writer"}
DEFAULT_IMPLS: dict[str, str] = {"producer": "k2", "writer": "iceberg"}
ENGINE_KIND = "engine"

# Cases that time k2matrix's own code whatever implementation the matrix names (the
# serializer cache, the record-to-Arrow conversion, the pipeline's own producer and sink).
# With another implementation named, their ids end in ``-k2matrix`` and their records say so
# (parameter ``times``), so a run of an outside implementation never shows them as its own.
OWN_CODE_CASES = ("producer.serializer_cache", "writer.arrow_conversion", "pipeline.*")
OWN_CODE = "k2matrix"

# The axes of ``[axes]`` in matrix.toml (plural, as written there).
GLOBAL_AXES = (
    "components", "schemas", "batch_sizes", "query_shapes", "engines", "layouts", "dataset_sizes",
)

# Axes ``[axes]`` may leave out, with their default values. A cell whose parameter has the
# default adds nothing to its id (``writer-append-v2-b100-unpartitioned`` is the local-disk
# cell, ``…-s3`` the S3 one), so ids of cells that do not use object storage stay the same.
OPTIONAL_AXES: dict[str, tuple[str | int, ...]] = {
    "storages": ("local",),
    "catalogs": ("sqlite",),
    "s3_latency_ms": (0,),  # a delay added to every request of the embedded S3 server
}
_ID_DEFAULTS: dict[str, str | int] = {"storage": "local", "catalog": "sqlite",
                                      "s3_latency_ms": 0}


def in_cell_id(param: str, value: object) -> bool:
    """Whether a parameter appears in a cell id (not an optional axis at its default)."""
    return param not in _ID_DEFAULTS or value != _ID_DEFAULTS[param]


# Axes whose values are names from a fixed vocabulary (not ``engines``: see above).
CHOICES: dict[str, tuple[str, ...]] = {
    "components": COMPONENTS,
    "schemas": SCHEMAS,
    "query_shapes": QUERY_SHAPES,
    "layouts": LAYOUTS,
    "cache": CACHE_STATES,
    "pattern": QUERY_PATTERNS,
    "storages": STORAGES,
    "catalogs": CATALOGS,
}

# Case-local axes of the pipeline component (positive integers): load processes, and the
# buffered writer's two commit triggers.
PIPELINE_AXES = ("workers", "commit_interval_ms", "commit_rows")

# Plural axis names (as written in matrix.toml) and the singular parameter name a cell uses.
AXIS_PARAM: dict[str, str] = {
    "components": "component",
    "schemas": "schema",
    "batch_sizes": "batch_size",
    "query_shapes": "query_shape",
    "engines": "engine",
    "layouts": "layout",
    "dataset_sizes": "dataset_size",
    "storages": "storage",
    "catalogs": "catalog",
}


def param_name(axis: str) -> str:
    """The cell parameter name of an axis (``batch_sizes`` -> ``batch_size``)."""
    return AXIS_PARAM.get(axis, axis)
