"""The writer under test as the writer suite drives it: built by the factory the matrix names
(``[components.writer] impl``, loaded by :mod:`k2matrix.implementations`), with fresh tables per
round, every table read back *through the catalog* (not through the writer) and checked, and
the optional capabilities of :mod:`k2matrix.writer.protocol` used where the writer has them.
What a cell did instead is recorded in its ``extra_info["capabilities_missing"]``."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from k2matrix import implementations
from k2matrix.backends import storage as object_storage
from k2matrix.backends.catalog import boundary
from k2matrix.backends.faults import first_line
from k2matrix.component_config import CatalogSettings, ComponentConfig, StorageSettings
from k2matrix.errors import VerificationError
from k2matrix.writer.bench import Tables, commit_info, tenths
from k2matrix.writer.boundary import GuardedWriter
from k2matrix.writer.checksum import Checksum
from k2matrix.writer.fit import first_unfit, type_mismatch
from k2matrix.writer.iceberg import CommitRecord
from k2matrix.writer.layouts import create_table
from k2matrix.writer.protocol import SchemaAwareWriter, TradeWriter
from k2matrix.writer.verify import Normalizer, verify_table

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table

ENSURE = "ensure_table (the suite created the tables, with no extra table properties)"
SCHEMA_OF = "schema_of (the suite told the buffered writer each table's schema)"
ARROW_ERRORS = (pa.ArrowInvalid, pa.ArrowTypeError, pa.ArrowNotImplementedError, ValueError,
                TypeError)
COMMITS = "commits (commit counts, bytes and files from snapshot summaries; no commit timings)"


class WriterBench(implementations.Capabilities):
    """Makes the cell's writers and knows the tables they write."""

    def __init__(self, spec: str, catalog: Catalog, namespace: str, schema: str) -> None:
        super().__init__("writer", spec)
        self.catalog = catalog
        self.namespace = namespace
        self.schema = schema
        self.layout = "unpartitioned"  # of the tables the suite creates for the writer
        self.schemas: dict[str, str] = {}  # table -> schema, of the tables of this cell
        self.declared: object = None  # the writer last made: its optional declarations

    def make(self, layout: str = "unpartitioned") -> TradeWriter:
        """The writer, behind :class:`~k2matrix.writer.boundary.GuardedWriter`: a remote
        fault inside it is k2matrix's error naming the endpoint."""
        with boundary(self.catalog):
            if self.plugin.accepts("config"):
                config = self.config(layout)
                self.configured = config.describe()
                writer: TradeWriter = self.plugin.build(config=config)
            else:
                writer = self.plugin.build(self.catalog, namespace=self.namespace,
                                           schema=self.schema, layout=layout)
        self.layout = layout
        self.declared = writer
        return GuardedWriter(writer, self.catalog, self.explain)

    def config(self, layout: str) -> ComponentConfig:
        """The cell's resolved configuration (:mod:`k2matrix.component_config`): the catalog
        by name and properties (``load_catalog`` opens the same one) and its storage."""
        catalog = CatalogSettings.of(self.catalog, self.namespace)
        on_s3 = catalog.warehouse.startswith(("s3://", "s3a://"))
        storage = StorageSettings.of(object_storage.active() if on_s3 else None)
        return ComponentConfig(kind="writer", schema=self.schema, layout=layout,
                               catalog=catalog, storage=storage,
                               live={"catalog": self.catalog})

    # ------------------------------------------------------------------ storage form

    def storage_schema(self, schema: str | None = None) -> pa.Schema | None:
        """The Arrow schema the writer declares it stores ``schema``'s rows in (its
        ``storage_schema`` capability), or None."""
        declare = getattr(self.declared, "storage_schema", None)
        if not callable(declare):
            return None
        found: pa.Schema = declare(schema or self.schema)
        return found

    def normalizer(self) -> Normalizer | None:
        """The writer's ``normalize`` capability (a table read back in the trade schema's
        form), or None."""
        found = getattr(self.declared, "normalize", None)
        return found if callable(found) else None

    def explain(self, exc: BaseException, given: Any, table_name: str) -> BaseException | None:
        """A VerificationError naming the column and the value when the writer refused the
        rows it was given for a value that does not fit its storage schema, or when that
        schema contradicts its table's; None when neither explains ``exc``."""
        if not isinstance(exc, ARROW_ERRORS):
            return None
        schema = self.schemas.get(table_name, self.schema)
        declared = self.storage_schema(schema)
        try:
            table_schema = self.table(table_name).schema().as_arrow()
        except Exception:  # the table is not there: explain from the declaration alone
            table_schema = None
        target = declared if declared is not None else table_schema
        unfit = first_unfit(given, target) if target is not None else None
        where = (f"writer {self.plugin.spec} could not store the rows of "
                 f"{self.identifier(table_name)}")
        if unfit is not None:
            what = ("the writer's storage schema" if declared is not None
                    else "the table's schema")
            note = ""
            if declared is not None and table_schema is not None:
                index = table_schema.get_field_index(unfit.column)
                if index >= 0:
                    note = (f"; its table stores {unfit.column} as "
                            f"{table_schema.field(index).type}")
            return VerificationError(f"{where}: {unfit.describe(what)}{note}")
        mismatch = (type_mismatch(declared, table_schema)
                    if declared is not None and table_schema is not None else None)
        if mismatch is not None:
            return VerificationError(f"{where}: {mismatch} ({first_line(exc)})")
        return None

    # ------------------------------------------------------------------ tables

    def identifier(self, name: str) -> str:
        return f"{self.namespace}.{name}"

    def ensure_table(self, writer: TradeWriter, name: str, schema: str | None = None) -> str:
        """Create ``name`` (untimed): by the writer's ``ensure_table`` where it has one."""
        own = getattr(writer, "ensure_table", None)
        if callable(own):
            made: str = own(name, schema=schema) if schema else own(name)
            self.schemas[name] = made
            return made
        self.lacks(ENSURE)
        schema = schema or self.schema
        with boundary(self.catalog):
            self.catalog.create_namespace_if_not_exists(self.namespace)
            create_table(self.catalog, self.identifier(name), schema, self.layout)
        self.schemas[name] = schema
        return schema

    def fresh_tables(self, writer: TradeWriter, tables: Tables, names: list[str]
                     ) -> Callable[[], str]:
        """A setup: a fresh table per round, its name kept in ``names``."""

        def setup() -> str:
            name = tables.new()
            self.ensure_table(writer, name)
            names.append(name)
            return name

        return setup

    def table(self, name: str) -> Table:
        """The table as the catalog has it now."""
        with boundary(self.catalog):
            return self.catalog.load_table(self.identifier(name))

    def verify_all(self, names: Sequence[str], expected: Checksum) -> str:
        """Every table holds exactly ``expected`` (read back through the catalog)."""
        storage, normalize = self.storage_schema(), self.normalizer()
        for name in names:
            with boundary(self.catalog):
                verify_table(self.table(name), expected, normalize, storage)
        return (f"{len(names)} tables: count+checksum over all columns and snapshot "
                "total-records equal")

    def bufferable(self, writer: TradeWriter) -> SchemaAwareWriter:
        """What :class:`~k2matrix.writer.buffer.BufferedWriter` wraps: the writer itself if
        it has ``schema_of``, else the writer with the schemas of the suite's tables."""
        inner = writer.writer if isinstance(writer, GuardedWriter) else writer
        if isinstance(inner, SchemaAwareWriter):
            return writer  # type: ignore[return-value]  # guarded: schema_of is the writer's
        self.lacks(SCHEMA_OF)
        return _WithSchemas(writer, self.schemas)

    # ------------------------------------------------------------------ commits

    def commits(self, writer: TradeWriter) -> list[CommitRecord] | None:
        """The writer's commit records, or ``None`` (and noted) if it keeps none."""
        found = getattr(writer, "commits", None)
        if isinstance(found, list):
            return found
        self.lacks(COMMITS)
        return None

    def mark(self, writer: TradeWriter) -> int:
        """How many commits the writer has recorded so far (0 if it records none)."""
        found = getattr(writer, "commits", None)
        return len(found) if isinstance(found, list) else 0

    def commit_info(self, writer: TradeWriter, since: int, names: Sequence[str]
                    ) -> dict[str, Any]:
        """Commit figures of the writer's commits from ``since`` on; without commit records,
        counts, bytes and files from the snapshot summaries of ``names``."""
        records = self.commits(writer)
        if records is not None:
            return commit_info(records[since:])
        return self.snapshot_info(names)

    def snapshot_info(self, names: Sequence[str]) -> dict[str, Any]:
        commits = size = files = 0
        for name in names:
            for snapshot in self.table(name).metadata.snapshots:
                props = snapshot.summary.additional_properties if snapshot.summary else {}
                commits += 1
                size += int(props.get("added-files-size", 0))
                files += int(props.get("added-data-files", 0))
        return {"commits": commits, "bytes": size, "files_added": files}

    def sustained_info(self, writer: TradeWriter, since: int, name: str) -> dict[str, Any]:
        """A sustained round's commit figures, first/last tenth and per-commit series."""
        records = self.commits(writer)
        if records is None:
            return self.snapshot_info([name])
        last = records[since:]
        return {**commit_info(last), **tenths(last),
                "series": {"commit_latency_ms": [round(c.total_ms, 3) for c in last],
                           "commit_cpu_ms": [round(c.cpu_ms, 3) for c in last]}}


    def stress_info(self, writer: TradeWriter, rounds: Sequence[dict[str, str]]
                    ) -> dict[str, Any]:
        """The mixed V1/V2 cell: commit figures, growth per table schema (V1 and V2 commits
        interleave and differ in size) with the worse one as ``commit_growth``, series."""
        records = self.commits(writer)
        if records is None:
            return self.snapshot_info([n for names in rounds for n in names.values()])
        by_schema = {s: [c for c in records if c.table in {names[s] for names in rounds}]
                     for s in ("v1", "v2")}
        growth = {s: tenths(commits) for s, commits in by_schema.items()}
        worst = max(growth.values(), key=lambda t: t["commit_growth"])
        return {**commit_info(records), **worst,
                **{f"{k}_{s}": v for s, t in growth.items() for k, v in t.items()},
                "series": {"commit_latency_ms": [round(c.total_ms, 3) for c in records],
                           **{f"commit_latency_ms_{s}": [round(c.total_ms, 3) for c in v]
                              for s, v in by_schema.items()}}}


class _WithSchemas:
    """A writer without ``schema_of``, answered from the tables the suite created."""

    def __init__(self, writer: TradeWriter, schemas: dict[str, str]) -> None:
        self.writer = writer
        self.schemas = schemas

    def schema_of(self, table_name: str) -> str:
        return self.schemas[table_name]

    def write_arrow(self, table: pa.Table, table_name: str) -> int:
        return self.writer.write_arrow(table, table_name)

    def close(self) -> None:
        self.writer.close()
