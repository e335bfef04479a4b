"""The Iceberg writer under test: K2's ``write_trades(records, table_name)`` on pyiceberg.

- :class:`~k2matrix.writer.protocol.TradeWriter` is the Protocol a user's own writer
  implements (the matrix names it, ``[components.writer] impl``; :mod:`k2matrix.implementations`
  loads it). This writer is registered as the entry point ``iceberg``.
- :class:`IcebergWriter` appends dict records (checked, converted column-wise) or Arrow
  tables to V1/V2 tables of any layout; one Iceberg commit per call. A commit that loses a
  race with another writer is retried with exponential backoff and jitter (pyiceberg retries
  a few times itself, re-using the written data files; past that the writer refreshes the
  table and appends again), so no row is lost. Each commit is recorded
  (:class:`CommitRecord`): rows, files and bytes added, write and commit time, attempts,
  and the files it wrote, also added to the process counters (:mod:`k2matrix.writer.counts`:
  ``parquet.*``, ``iceberg.*``).
- Commit cost is kept flat as the table's history grows (see :class:`Maintenance`): old
  snapshots are expired in the appends themselves, the metadata log is capped and the old
  metadata files deleted, and manifests are merged, so the metadata pyiceberg copies and
  rewrites on each commit stays bounded; and each append's transaction computes its staged
  metadata once per change instead of deep-copying it on every read
  (:mod:`writer_transaction`).
- Table properties (``properties=``) go on the tables the writer creates, on top of
  :func:`k2matrix.writer.layouts.table_properties`: e.g. ``write.target-file-size-bytes``.

Buffering small input batches into fewer commits is :mod:`writer_buffer`.
"""

from __future__ import annotations

import random
import time
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

import pyarrow as pa

from k2matrix.errors import BackendError, WorkloadError
from k2matrix.schemas import TRADE_SCHEMAS, arrow_schema
from k2matrix.writer.convert import records_to_table
from k2matrix.writer.counts import count_commit, producers_of
from k2matrix.writer.layouts import check_layout, create_table, sort_keys

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog
    from pyiceberg.table import Table, Transaction


@dataclass(frozen=True)
class RetryPolicy:
    """Backoff for commits that lose a race: ``attempts`` tries in all, waits doubling from
    ``base_s`` up to ``max_s`` with full jitter. pyiceberg's own retries happen inside each
    attempt (``commit.retry.*`` table properties)."""

    attempts: int = 10
    base_s: float = 0.02
    max_s: float = 1.0

    def wait(self, attempt: int) -> float:
        return random.uniform(0, min(self.max_s, self.base_s * 2**attempt))


@dataclass(frozen=True)
class Maintenance:
    """How the writer keeps commit latency flat as history grows.

    Commit cost grows with what the table metadata carries. The writer expires old snapshots
    *in the append's own transaction* (no extra commit) every ``expire_every`` appends,
    keeping the newest ``keep_snapshots`` (0 disables expiry; data files are never deleted:
    appended files stay live). The table properties, set on tables the writer creates, bound
    the rest: ``write.metadata.previous-versions-max`` caps the metadata log carried in each
    metadata file, ``write.metadata.delete-after-commit.enabled`` deletes the metadata files
    that fall off it, and ``commit.manifest-merge.enabled`` merges manifests once
    ``commit.manifest.min-count-to-merge`` (100) have accumulated, so the manifest list stays
    short. ``commit.retry.*`` tune pyiceberg's own retry of a lost commit race.

    Measured with ``python -m k2matrix.tools.commit_history`` (300 commits of 100 rows,
    CPU time per commit, first tenth -> last tenth): maintained 20.6 -> 31.2 ms (1.5x; what
    remains grows with the number of data files, which only compaction would bound, and
    pyiceberg 0.12 has none), pyiceberg defaults 25.4 -> 76.6 ms (3.0x) with 300 snapshots
    kept. Before the writer stopped pyiceberg deep-copying the metadata on every read (see
    :mod:`writer_transaction`) the defaults grew 10.6x in wall time over the same run.
    """

    keep_snapshots: int = 2
    expire_every: int = 1
    table_properties: Mapping[str, str] = field(default_factory=lambda: {
        "write.metadata.previous-versions-max": "5",
        "write.metadata.delete-after-commit.enabled": "true",
        "commit.manifest-merge.enabled": "true",
        "commit.retry.num-retries": "4",
        "commit.retry.min-wait-ms": "10",
        "commit.retry.max-wait-ms": "500",
    })

    def __post_init__(self) -> None:
        if self.keep_snapshots < 0 or self.expire_every < 1:
            raise ValueError(f"keep_snapshots={self.keep_snapshots!r}, expire_every="
                             f"{self.expire_every!r}: keep_snapshots must be >= 0 (0: no "
                             "expiry) and expire_every >= 1")

    @classmethod
    def off(cls) -> Maintenance:
        """pyiceberg's defaults: no expiry, no extra table properties (the baseline)."""
        return cls(keep_snapshots=0, table_properties={})


@dataclass(frozen=True)
class CommitRecord:
    """One append as committed: what it added and what it cost."""

    table: str
    rows: int
    data_files: int
    bytes: int
    write_ms: float  # data files and manifests written (tx.append)
    commit_ms: float  # the catalog commit, including pyiceberg's own retries
    cpu_ms: float  # CPU time of the process (all threads) for the whole append: robust to
    #                other load on the machine, unlike the wall-clock times
    attempts: int
    snapshot_id: int
    expired_snapshots: int = 0
    counts: Mapping[str, float] = field(default_factory=dict)  # files written: writer.counts

    @property
    def total_ms(self) -> float:
        return self.write_ms + self.commit_ms


@dataclass
class _Target:
    table: Table
    schema: str
    sort: list[tuple[str, str]]


def _summary_int(summary: Any, key: str) -> int:
    props = getattr(summary, "additional_properties", None) or {}
    return int(props.get(key, 0))


def _unreachable(exc: BaseException) -> bool:
    """A lost connection to the catalog (SQLAlchemy/driver, HTTP) or a failing warehouse."""
    if isinstance(exc, OSError | ConnectionError | TimeoutError):
        return True
    kind = type(exc)
    return kind.__module__.startswith("sqlalchemy") and kind.__name__ in (
        "OperationalError", "InterfaceError", "DisconnectionError", "TimeoutError")


def detect_schema(table: Table) -> str:
    """Which trade schema (``v1``/``v2``) an existing table has, from its column names."""
    names = [f.name for f in table.schema().fields]
    for name in TRADE_SCHEMAS:
        if arrow_schema(name).names == names:
            return name
    raise WorkloadError(f"table {table.name()}: columns {names} match no trade schema "
                        f"({', '.join(TRADE_SCHEMAS)})")


class IcebergWriter:
    """Appends trades to Iceberg tables in ``namespace`` of ``catalog``, one commit per call.

    Tables that do not exist are created with ``schema`` and ``layout`` (see
    :mod:`k2matrix.writer.layouts`); existing tables keep theirs (the schema is read from the
    table).
    """

    def __init__(self, catalog: Catalog, *, namespace: str = "k2", schema: str = "v2",
                 layout: str = "unpartitioned", properties: Mapping[str, str] | None = None,
                 retry: RetryPolicy | None = None, maintenance: Maintenance | None = None
                 ) -> None:
        if schema not in TRADE_SCHEMAS:
            raise ValueError(f"schema={schema!r}: use one of {', '.join(TRADE_SCHEMAS)}")
        check_layout(layout)
        self.catalog = catalog
        self.namespace = namespace
        self.schema = schema
        self.layout = layout
        self.retry = retry or RetryPolicy()
        self.maintenance = maintenance or Maintenance()
        self.properties = {**self.maintenance.table_properties, **(properties or {})}
        self.commits: list[CommitRecord] = []
        self._targets: dict[str, _Target] = {}
        self._since_expiry: dict[str, int] = {}

    # ------------------------------------------------------------------ tables

    def identifier(self, table_name: str) -> str:
        return table_name if "." in table_name else f"{self.namespace}.{table_name}"

    def schema_of(self, table_name: str) -> str:
        """The trade schema (``v1``/``v2``) of ``table_name`` (created if missing)."""
        return self._target(table_name).schema

    def table(self, table_name: str) -> Table:
        """The pyiceberg table (created if missing), as this writer last saw it."""
        return self._target(table_name).table

    def ensure_table(self, table_name: str, schema: str | None = None,
                     layout: str | None = None) -> str:
        """Create ``table_name`` if missing (with ``schema``/``layout``, else the writer's);
        return the schema it has."""
        return self._target(table_name, schema, layout).schema

    def _target(self, table_name: str, schema: str | None = None, layout: str | None = None
                ) -> _Target:
        target = self._targets.get(table_name)
        if target is None:
            identifier = self.identifier(table_name)
            self.catalog.create_namespace_if_not_exists(identifier.rsplit(".", 1)[0])
            table = create_table(self.catalog, identifier,
                                 schema or self.schema, layout or self.layout,
                                 properties=dict(self.properties))
            found = detect_schema(table)
            # The table's own sort order decides (pyiceberg records it but does not sort).
            sort = sort_keys(found, "sorted") if table.sort_order().fields else []
            target = _Target(table, found, sort)
            self._targets[table_name] = target
        return target

    # ------------------------------------------------------------------ the K2 API

    def write_trades(self, records: Sequence[Mapping[str, Any]], table_name: str) -> int:
        """Check and convert dict records, append them in one commit; the rows written.

        A bad record raises :class:`WorkloadError` (row, field, value) before anything is
        written."""
        target = self._target(table_name)
        return self._append(target, table_name, records_to_table(records, target.schema))

    def write_arrow(self, table: pa.Table, table_name: str, *,
                    snapshot_properties: Mapping[str, str] | None = None) -> int:
        """Append an Arrow table of the trade schema in one commit; the rows written.
        ``snapshot_properties`` go into the new snapshot's summary, atomically with the rows
        (the pipeline keeps its consumed offsets there)."""
        target = self._target(table_name)
        return self._append(target, table_name, conform(table, target.schema),
                            snapshot_properties)

    def close(self) -> None:
        self._targets.clear()

    # ------------------------------------------------------------------ commits

    def _append(self, target: _Target, table_name: str, data: pa.Table,
                snapshot_properties: Mapping[str, str] | None = None) -> int:
        if data.num_rows == 0:
            return 0
        if data.num_columns and data.column(0).num_chunks > 1:
            # pyiceberg writes chunk by chunk: many small chunks append far slower than
            # the same rows in one chunk (docs/measurements.md)
            data = data.combine_chunks()
        if target.sort:
            data = data.sort_by(target.sort)
        from pyiceberg.exceptions import (
            CommitFailedException,
            CommitStateUnknownException,
            ValidationException,
        )

        from k2matrix.writer.transaction import CachingTransaction

        last: Exception | None = None
        for attempt in range(1, self.retry.attempts + 1):
            tx = CachingTransaction(target.table)
            start, cpu_start = time.perf_counter(), time.process_time()
            expiring = 0
            metadata = target.table.metadata_location
            try:
                tx.append(data, snapshot_properties=dict(snapshot_properties or {}))
                expiring = self._stage_expiry(tx, target, table_name) if attempt == 1 else 0
                producers = producers_of(tx)
                staged = time.perf_counter()
                tx.commit_transaction()
            except (CommitFailedException, ValidationException) as exc:
                # Lost a race (pyiceberg's own retries included), or another writer expired
                # the snapshot this append started from ("Cannot find starting snapshot"):
                # the commit did not land and pyiceberg removed its files; append again.
                last = exc
            except ValueError as exc:
                # A staged expiry naming a snapshot another writer has expired already: the
                # commit did not land; write again without the expiry.
                if not expiring:
                    raise
                last = exc
            except CommitStateUnknownException as exc:
                raise BackendError(
                    f"Iceberg table {self.identifier(table_name)}: the commit's outcome is "
                    f"unknown ({exc}); check the table before writing these rows again") from exc
            except Exception as exc:
                if not _unreachable(exc):
                    raise
                detail = str(exc).splitlines()[0] if str(exc) else type(exc).__name__
                raise BackendError(
                    f"Iceberg table {self.identifier(table_name)}: the catalog or warehouse "
                    f"could not be reached during the append ({type(exc).__name__}: "
                    f"{detail}); the rows may or may not be committed: check the table "
                    "before writing them again") from None
            else:
                done = time.perf_counter()
                self._since_expiry[table_name] = (
                    0 if expiring else self._since_expiry.get(table_name, 0) + 1)
                cpu_ms = (time.process_time() - cpu_start) * 1e3
                counts = count_commit(producers, target.table.metadata_location != metadata)
                self._record(target, table_name, data.num_rows, attempt,
                             (staged - start) * 1e3, (done - staged) * 1e3, cpu_ms, expiring,
                             counts)
                return int(data.num_rows)
            time.sleep(self.retry.wait(attempt))
            target.table.refresh()
        raise BackendError(
            f"Iceberg table {self.identifier(table_name)}: commit failed {self.retry.attempts} "
            f"times against concurrent writers ({last}); nothing was written. Retry later or "
            "raise RetryPolicy.attempts")

    def _record(self, target: _Target, table_name: str, rows: int, attempts: int,
                write_ms: float, commit_ms: float, cpu_ms: float, expired: int,
                counts: Mapping[str, float]) -> None:
        snapshot = target.table.current_snapshot()
        summary = snapshot.summary if snapshot is not None else None
        self.commits.append(CommitRecord(
            table=table_name, rows=rows,
            data_files=_summary_int(summary, "added-data-files"),
            bytes=_summary_int(summary, "added-files-size"),
            write_ms=write_ms, commit_ms=commit_ms, cpu_ms=cpu_ms, attempts=attempts,
            snapshot_id=snapshot.snapshot_id if snapshot is not None else -1,
            expired_snapshots=expired, counts=counts,
        ))

    def _stage_expiry(self, tx: Transaction, target: _Target, table_name: str) -> int:
        """Stage the expiry of old snapshots in the append's own transaction (no extra
        commit) when ``expire_every`` appends have passed; the number staged."""
        keep = self.maintenance.keep_snapshots
        if keep <= 0 or self._since_expiry.get(table_name, 0) + 1 < self.maintenance.expire_every:
            return 0
        # The append adds one snapshot: keep it and the newest keep - 1 before it.
        old = snapshots_to_expire(target.table, max(keep - 1, 0))
        if old:
            from pyiceberg.table.update.snapshot import ExpireSnapshots

            ExpireSnapshots(transaction=tx).by_ids(old).commit()
        return len(old)


def snapshots_to_expire(table: Table, keep: int) -> list[int]:
    """Ids of all but the newest ``keep`` snapshots of ``table``, never a branch or tag head."""
    snapshots = sorted(table.metadata.snapshots, key=lambda s: (s.timestamp_ms, s.sequence_number
                                                                  or 0))
    protected = {ref.snapshot_id for ref in table.metadata.refs.values()}
    old = snapshots[:-keep] if keep else snapshots
    return [s.snapshot_id for s in old if s.snapshot_id not in protected]


def conform(table: pa.Table, schema_name: str) -> pa.Table:
    """``table`` with the columns and types of ``arrow_schema(schema_name)``, or a
    :class:`WorkloadError` naming what does not fit."""
    schema = arrow_schema(schema_name)
    if table.schema.equals(schema):
        return table
    missing = [n for n in schema.names if n not in table.column_names]
    if missing:
        raise WorkloadError(f"Arrow table for schema {schema_name!r} lacks column(s) "
                            f"{', '.join(missing)}")
    try:
        return table.select(schema.names).cast(schema)
    except (pa.ArrowException, ValueError) as exc:
        raise WorkloadError(f"Arrow table does not fit schema {schema_name!r}: {exc}") from None

