"""The metadata-caching transaction: one computation per staged change, same result."""

from __future__ import annotations

from pathlib import Path

from pyiceberg.table import Transaction

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.writer.layouts import create_table
from k2matrix.writer.transaction import CachingTransaction


def test_metadata_is_cached_until_the_staged_updates_change(tmp_path: Path) -> None:
    catalog = open_catalog(CatalogConfig(warehouse=str(tmp_path / "wh")))
    table = create_table(catalog, "k2.t", "v2", "unpartitioned")
    data = generate_table(WorkloadSpec("v2", 50, 1))
    tx = CachingTransaction(table)
    before = tx.table_metadata
    assert tx.table_metadata is before
    assert before == Transaction(table).table_metadata
    tx.append(data)
    staged = tx.table_metadata
    assert staged is not before
    assert len(staged.snapshots) == len(before.snapshots) + 1
    tx.commit_transaction()
    assert table.scan().to_arrow().num_rows == 50
    again = CachingTransaction(table)
    assert again.table_metadata == Transaction(table).table_metadata
