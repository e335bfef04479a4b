"""The Iceberg writer on a real SQLite catalog: rows land exactly, bad input commits nothing,
lost commit races are retried, history is expired, tables keep their layout."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING, cast

import pyarrow as pa
import pytest

from k2matrix import implementations
from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.errors import VerificationError, WorkloadError
from k2matrix.workload.generate import WorkloadSpec, generate_records, generate_table
from k2matrix.writer.checksum import table_checksum
from k2matrix.writer.iceberg import IcebergWriter, Maintenance, RetryPolicy
from k2matrix.writer.layouts import create_table
from k2matrix.writer.protocol import TradeWriter
from k2matrix.writer.verify import verify_table

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    opened: Catalog = open_catalog(CatalogConfig(warehouse=str(tmp_path / "wh")))
    return opened


@pytest.mark.parametrize("schema", ["v1", "v2"])
@pytest.mark.parametrize("layout", ["unpartitioned", "day_bucket"])
def test_write_trades_lands_every_row(catalog: Catalog, schema: str, layout: str) -> None:
    writer = IcebergWriter(catalog, schema=schema, layout=layout)
    first = generate_records(WorkloadSpec(schema, 300, 1))
    second = generate_records(WorkloadSpec(schema, 200, 2))
    assert writer.write_trades(first, "trades") == 300
    assert writer.write_trades(second, "trades") == 200
    expected = (table_checksum(generate_table(WorkloadSpec(schema, 300, 1)))
                + table_checksum(generate_table(WorkloadSpec(schema, 200, 2))))
    state = verify_table(writer.table("trades"), expected)
    assert [c.rows for c in writer.commits] == [300, 200]
    assert sum(c.data_files for c in writer.commits) == state.data_files
    assert sum(c.bytes for c in writer.commits) == state.files_bytes
    assert all(c.attempts == 1 and c.total_ms > 0 for c in writer.commits)


def test_verification_notices_a_missing_row(catalog: Catalog) -> None:
    writer = IcebergWriter(catalog)
    data = generate_table(WorkloadSpec("v2", 100, 1))
    writer.write_arrow(data.slice(1), "t")
    with pytest.raises(VerificationError, match="holds 99 rows, 100 were written"):
        verify_table(writer.table("t"), table_checksum(data))


def test_sorted_layout_sorts_each_batch(catalog: Catalog) -> None:
    writer = IcebergWriter(catalog, schema="v1", layout="sorted")
    writer.write_arrow(generate_table(WorkloadSpec("v1", 500, 4)), "s")
    back = writer.table("s").scan().to_arrow()
    keys = list(zip(back.column("symbol").to_pylist(),
                    back.column("exchange_timestamp").to_pylist(), strict=True))
    assert keys == sorted(keys)


def test_existing_table_keeps_its_schema(catalog: Catalog) -> None:
    create_table(catalog, "k2.old", "v1", "unpartitioned")
    writer = IcebergWriter(catalog, schema="v2")
    assert writer.ensure_table("old") == "v1"
    assert writer.write_trades(generate_records(WorkloadSpec("v1", 10, 1)), "old") == 10


def test_a_bad_record_commits_nothing(catalog: Catalog) -> None:
    writer = IcebergWriter(catalog)
    good = generate_records(WorkloadSpec("v2", 50, 1))
    writer.write_trades(good, "t")
    before = writer.table("t").current_snapshot()
    bad = generate_records(WorkloadSpec("v2", 50, 2))
    del bad[41]["trade_id"]
    with pytest.raises(WorkloadError, match="record 41: required field 'trade_id' is missing"):
        writer.write_trades(bad, "t")
    writer.table("t").refresh()
    assert writer.table("t").current_snapshot() == before
    verify_table(writer.table("t"), table_checksum(generate_table(WorkloadSpec("v2", 50, 1))))


def test_arrow_input_must_fit_the_schema(catalog: Catalog) -> None:
    writer = IcebergWriter(catalog)
    data = generate_table(WorkloadSpec("v2", 10, 1))
    with pytest.raises(WorkloadError, match="lacks column"):
        writer.write_arrow(data.drop_columns(["symbol"]), "t")
    with pytest.raises(WorkloadError, match="does not fit schema 'v2'"):
        writer.write_arrow(data.set_column(6, "price", pa.array(["x"] * 10)), "t")
    reordered = data.select(list(reversed(data.column_names)))
    assert writer.write_arrow(reordered, "t") == 10


def test_history_is_expired_in_the_append_itself(catalog: Catalog) -> None:
    data = generate_table(WorkloadSpec("v2", 20, 1))
    kept = IcebergWriter(catalog, maintenance=Maintenance(keep_snapshots=3))
    for _ in range(8):
        kept.write_arrow(data, "kept")
    assert len(kept.table("kept").metadata.snapshots) == 3
    assert len(kept.table("kept").metadata.metadata_log) <= 5
    assert sum(c.expired_snapshots for c in kept.commits) == 5
    verify_table(kept.table("kept"), sum([table_checksum(data)] * 8, table_checksum(data[:0])))
    baseline = IcebergWriter(catalog, maintenance=Maintenance.off())
    for _ in range(8):
        baseline.write_arrow(data, "all")
    assert len(baseline.table("all").metadata.snapshots) == 8


def test_maintenance_and_buffer_arguments_are_checked() -> None:
    with pytest.raises(ValueError, match="expire_every=0"):
        Maintenance(expire_every=0)
    with pytest.raises(ValueError, match="schema='v3'"):
        IcebergWriter(cast("Catalog", None), schema="v3")
    with pytest.raises(ValueError, match="layout='zigzag'"):
        IcebergWriter(cast("Catalog", None), layout="zigzag")


def test_a_lost_commit_race_is_retried_without_losing_rows(catalog: Catalog) -> None:
    # No pyiceberg-internal retries: the writer's own backoff must recover.
    props = {"commit.retry.num-retries": "0"}
    a = IcebergWriter(catalog, properties=props, retry=RetryPolicy(base_s=0.001))
    b = IcebergWriter(catalog, properties=props)
    one, two, three = (generate_table(WorkloadSpec("v2", 40, s)) for s in (1, 2, 3))
    a.write_arrow(one, "race")
    b.write_arrow(two, "race")  # a's view of the table is now stale
    a.write_arrow(three, "race")
    assert a.commits[-1].attempts == 2
    expected = table_checksum(one) + table_checksum(two) + table_checksum(three)
    verify_table(a.table("race"), expected)


def test_writer_by_import_path_and_by_name(catalog: Catalog) -> None:
    """The one plug-in loader builds the built-in writer by import path and by its entry
    point name, checked against the TradeWriter Protocol."""
    for spec in ("k2matrix.writer.iceberg:IcebergWriter", "iceberg"):
        writer = implementations.load("writer", spec, catalog, namespace="k2", schema="v1",
                              layout="unpartitioned")
        assert isinstance(writer, TradeWriter) and isinstance(writer, IcebergWriter)
        assert writer.schema == "v1"
    with pytest.raises(implementations.PluginError, match="no writer of that name"):
        implementations.load("writer", "k2matrix.writer.iceberg", catalog)
    with pytest.raises(implementations.PluginError, match=r"no module named 'k2matrix\.nowhere'"):
        implementations.load("writer", "k2matrix.nowhere:Writer", catalog)
    with pytest.raises(implementations.PluginError, match="OrderedDict lacks write_trades"):
        implementations.load("writer", "collections:OrderedDict")


def test_target_file_size_is_configurable(catalog: Catalog) -> None:
    data = generate_table(WorkloadSpec("v2", 5_000, 1))
    small = IcebergWriter(catalog, properties={"write.target-file-size-bytes": "100000"})
    small.write_arrow(data, "small")
    default = IcebergWriter(catalog)
    default.write_arrow(data, "default")
    assert default.commits[0].data_files == 1
    assert small.commits[0].data_files > 1
    verify_table(small.table("small"), table_checksum(data))


def test_a_missing_namespace_is_created(catalog: Catalog) -> None:
    writer = IcebergWriter(catalog, namespace="fresh")
    assert writer.write_arrow(generate_table(WorkloadSpec("v2", 5, 2)), "t") == 5
    assert writer.write_arrow(generate_table(WorkloadSpec("v2", 5, 1)), "other.t") == 5
    assert ("fresh",) in catalog.list_namespaces() and ("other",) in catalog.list_namespaces()
