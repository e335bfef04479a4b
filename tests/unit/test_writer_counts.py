"""The writer's file counters (parquet.*, iceberg.*) on a real SQLite catalog and local
warehouse: each commit's counts equal what the warehouse holds afterwards (files on disk,
row groups in their footers), and the process counters moved by the same amounts."""

from __future__ import annotations

from pathlib import Path
from typing import TYPE_CHECKING

import pyarrow.parquet as pq
import pytest

from k2matrix import counters
from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.writer.iceberg import IcebergWriter, Maintenance

if TYPE_CHECKING:
    from pyiceberg.catalog import Catalog

NAMES = ("parquet.files", "parquet.row_groups", "parquet.bytes", "iceberg.manifests",
         "iceberg.manifest_lists", "iceberg.metadata_files")


@pytest.fixture
def catalog(tmp_path: Path) -> Catalog:
    opened: Catalog = open_catalog(CatalogConfig(warehouse=str(tmp_path / "wh")))
    return opened


def _on_disk(root: Path) -> dict[str, float]:
    data = sorted(root.rglob("*.parquet"))
    return {
        "parquet.files": len(data),
        "parquet.row_groups": sum(pq.ParquetFile(f).metadata.num_row_groups for f in data),
        "parquet.bytes": sum(f.stat().st_size for f in data),
        "iceberg.manifests": len([f for f in root.rglob("*-m*.avro")
                                  if not f.name.startswith("snap-")]),
        "iceberg.manifest_lists": len(list(root.rglob("snap-*.avro"))),
        "iceberg.metadata_files": len(list(root.rglob("*.metadata.json"))),
    }


def _moved(before: dict[str, float]) -> dict[str, float]:
    moved = counters.delta(before, counters.snapshot())
    return {n: moved.get(n, 0.0) for n in NAMES}


@pytest.mark.parametrize("rows, limit", [(4_500, 1_000), (2_000, 2_000), (3_001, 500)])
def test_an_append_counts_its_files_and_row_groups_exactly(catalog: Catalog, tmp_path: Path,
                                                           rows: int, limit: int) -> None:
    writer = IcebergWriter(catalog, maintenance=Maintenance.off(),
                           properties={"write.parquet.row-group-limit": str(limit)})
    writer.ensure_table("t")
    created = _on_disk(tmp_path / "wh")
    assert created["iceberg.metadata_files"] == 1 and created["parquet.files"] == 0
    before = counters.snapshot()
    writer.write_arrow(generate_table(WorkloadSpec("v2", rows, 1)), "t")
    expected = {"parquet.files": 1, "parquet.row_groups": -(-rows // limit),
                "iceberg.manifests": 1, "iceberg.manifest_lists": 1,
                "iceberg.metadata_files": 1}
    counts = dict(writer.commits[-1].counts)
    assert {n: counts[n] for n in expected} == expected
    on_disk = _on_disk(tmp_path / "wh")
    assert counts["parquet.bytes"] == on_disk["parquet.bytes"] == writer.commits[-1].bytes
    assert {n: on_disk[n] - created[n] for n in NAMES} == {n: counts[n] for n in NAMES}
    assert _moved(before) == {n: counts[n] for n in NAMES}


def test_commits_and_merged_manifests_add_up_to_the_warehouse(catalog: Catalog,
                                                               tmp_path: Path) -> None:
    """Three appends, manifests merged once two have accumulated: the merged manifest is
    counted; the sums equal every file the warehouse holds besides the table's creation."""
    writer = IcebergWriter(catalog, maintenance=Maintenance.off(), properties={
        "commit.manifest-merge.enabled": "true", "commit.manifest.min-count-to-merge": "2",
        "write.parquet.row-group-limit": "300"})
    writer.ensure_table("m")
    before = counters.snapshot()
    for seed in (1, 2, 3):
        writer.write_arrow(generate_table(WorkloadSpec("v2", 700, seed)), "m")
    totals = {n: sum(c.counts[n] for c in writer.commits) for n in NAMES}
    on_disk = _on_disk(tmp_path / "wh")
    on_disk["iceberg.metadata_files"] -= 1  # the table's creation: not a commit
    assert totals == on_disk
    assert totals["parquet.row_groups"] == 3 * 3
    assert totals["iceberg.manifests"] > 3  # a merge wrote a manifest of its own
    assert _moved(before) == totals


def test_a_partitioned_append_counts_one_row_group_per_small_file(catalog: Catalog,
                                                                  tmp_path: Path) -> None:
    writer = IcebergWriter(catalog, layout="day_symbol", maintenance=Maintenance.off())
    writer.ensure_table("p")
    writer.write_arrow(generate_table(WorkloadSpec("v2", 2_000, 5, symbols=20)), "p")
    commit = writer.commits[-1]
    assert commit.counts["parquet.files"] == commit.data_files > 1
    assert commit.counts["parquet.row_groups"] == commit.data_files
    assert commit.counts["parquet.bytes"] == commit.bytes == _on_disk(
        tmp_path / "wh")["parquet.bytes"]

