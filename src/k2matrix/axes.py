"""The one vocabulary of axis values.

Matrix validation (:mod:`k2matrix.matrix`), cell ids (:mod:`k2matrix.cell`) and the
registries of the components (layouts, query shapes, engines) all read these names, so a
value the matrix accepts is a value a component knows. A test checks that each registry
covers its axis exactly.
"""

from __future__ import annotations

COMPONENTS = ("producer", "writer", "query")
SCHEMAS = ("v1", "v2")
QUERY_SHAPES = (
    "simple_scan", "filtered", "aggregation", "time_range", "join", "window", "subquery",
)
ENGINES = ("duckdb_iceberg_scan", "duckdb_parquet", "polars")
LAYOUTS = ("unpartitioned", "day_symbol", "day_bucket", "sorted")
CACHE_STATES = ("cold", "warm")
QUERY_PATTERNS = ("sequential", "mixed")

# The axes of ``[axes]`` in matrix.toml (plural, as written there).
GLOBAL_AXES = (
    "components", "schemas", "batch_sizes", "query_shapes", "engines", "layouts", "dataset_sizes",
)

# Axes whose values are names from a fixed vocabulary.
CHOICES: dict[str, tuple[str, ...]] = {
    "components": COMPONENTS,
    "schemas": SCHEMAS,
    "query_shapes": QUERY_SHAPES,
    "engines": ENGINES,
    "layouts": LAYOUTS,
    "cache": CACHE_STATES,
    "pattern": QUERY_PATTERNS,
}

# Plural axis names (as written in matrix.toml) and the singular parameter name a cell uses.
AXIS_PARAM: dict[str, str] = {
    "components": "component",
    "schemas": "schema",
    "batch_sizes": "batch_size",
    "query_shapes": "query_shape",
    "engines": "engine",
    "layouts": "layout",
    "dataset_sizes": "dataset_size",
}


def param_name(axis: str) -> str:
    """The cell parameter name of an axis (``batch_sizes`` -> ``batch_size``)."""
    return AXIS_PARAM.get(axis, axis)
