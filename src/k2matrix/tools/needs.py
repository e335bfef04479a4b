"""What a profile's cells need of the backends, for ``k2matrix doctor --profile P``.

- producer cells: Kafka and the Schema Registry;
- writer cells: their catalog (``[backends.catalog]``, or the one the ``catalogs`` axis
  names: SQLite, PostgreSQL, Glue), and S3 when their ``storages`` value is ``s3`` or their
  catalog is Glue (Glue keeps its tables on S3);
- query cells: DuckDB (with httpfs for S3 cells) and S3 for their ``s3`` cells (their
  datasets have their own SQLite catalog in the work folder);
- pipeline cells: Kafka, the Schema Registry, ``[backends.catalog]`` and DuckDB.

S3 is ``[backends.storage]`` when it is S3, else the embedded server the cells would start.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field

from k2matrix.backends.catalog import axis_catalog
from k2matrix.backends.config import Backends, CatalogConfig
from k2matrix.cell import Cell

SERVICES = ("kafka", "schema_registry", "storage", "catalog", "duckdb")


@dataclass(frozen=True)
class Needs:
    """The checks to run: services by name, the catalogs by label (``configured`` for
    ``[backends.catalog]``, else the ``catalogs`` axis value), whether DuckDB needs httpfs,
    and why each service not needed is left out."""

    services: frozenset[str]
    catalogs: dict[str, CatalogConfig] = field(default_factory=dict)
    s3: bool = False
    skipped: dict[str, str] = field(default_factory=dict)


def configured(backends: Backends) -> Needs:
    """Everything the matrix configures (``doctor`` without a profile: the library call)."""
    on_s3 = backends.storage.kind == "s3"
    catalogs = {"configured": backends.catalog}
    return Needs(frozenset(SERVICES if on_s3 else set(SERVICES) - {"storage"}),
                 catalogs, on_s3)


def _uses_s3(cell: Cell) -> bool:
    return cell.params.get("storage") == "s3" or cell.params.get("catalog") == "glue"


def needs_of(cells: Iterable[Cell], backends: Backends, profile: str) -> Needs:
    """What the cells of ``profile`` need (see the module docstring)."""
    cells = list(cells)
    components = {c.component for c in cells}
    services: set[str] = set()
    catalogs: dict[str, CatalogConfig] = {}
    if components & {"producer", "pipeline"}:
        services |= {"kafka", "schema_registry"}
    if components & {"query", "pipeline"}:
        services.add("duckdb")
    for cell in cells:
        if cell.component == "pipeline" or (cell.component == "writer"
                                            and "catalog" not in cell.params):
            catalogs.setdefault("configured", backends.catalog)
        elif cell.component == "writer":
            kind = str(cell.params["catalog"])
            config = axis_catalog(kind, backends.catalog)
            catalogs.setdefault("configured" if config == backends.catalog else kind, config)
    if catalogs:
        services.add("catalog")
    s3 = any(_uses_s3(c) for c in cells)
    if s3:
        services.add("storage")
    uses = {"kafka": "producer or pipeline", "schema_registry": "producer or pipeline",
            "storage": "S3 (storages = s3, or a Glue catalog)",
            "catalog": "writer or pipeline", "duckdb": "query or pipeline"}
    skipped = {name: f"no {uses[name]} cell in profile {profile!r}" for name in SERVICES
               if name not in services}
    return Needs(frozenset(services), catalogs, s3, skipped)
