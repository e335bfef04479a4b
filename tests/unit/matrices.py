"""The one builder of small matrices for the unit tests: a minimal valid ``matrix.toml`` (every
global axis with one or two values, one writer case, a smoke profile) with what a test
changes, as TOML text or written to a file."""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any

import tomli_w

AXES: dict[str, list[Any]] = {
    "components": ["writer"],
    "schemas": ["v1", "v2"],
    "batch_sizes": [10],
    "query_shapes": ["simple_scan"],
    "engines": ["duckdb_iceberg_scan"],
    "layouts": ["unpartitioned"],
    "dataset_sizes": [1000],
}
CASES: dict[str, dict[str, Any]] = {"writer.arrow_conversion": {"sweep": ["schemas"]}}
PROFILES: dict[str, dict[str, Any]] = {"smoke": {}}


def matrix_toml(*, cases: Mapping[str, Mapping[str, Any]] | None = None,
                profiles: Mapping[str, Mapping[str, Any]] | None = None,
                **tables: Mapping[str, Any]) -> str:
    """A small valid matrix as TOML. ``cases`` (``{"component.case": table}``) and
    ``profiles`` replace the default ones; any other table (``matrix``, ``axes``, ``data``,
    ``targets``, ...) updates the minimal one key by key, e.g.
    ``matrix_toml(axes={"batch_sizes": [1, 2]})``."""
    doc: dict[str, Any] = {"matrix": {"name": "tiny", "seed": 7}, "axes": dict(AXES)}
    for name, table in tables.items():
        doc[name] = {**doc.get(name, {}), **table}
    components: dict[str, Any] = {}
    for key, case in (CASES if cases is None else cases).items():
        component, name = key.split(".", 1)
        components.setdefault(component, {"cases": {}})["cases"][name] = dict(case)
    doc["components"] = components
    doc["profiles"] = dict(PROFILES if profiles is None else profiles)
    return tomli_w.dumps(doc)


def write_matrix(path: Path, **changes: Any) -> Path:
    """:func:`matrix_toml` written to ``path`` (``path/matrix.toml`` if it is a directory)."""
    target = path / "matrix.toml" if path.is_dir() else path
    target.write_text(matrix_toml(**changes), encoding="utf-8")
    return target
