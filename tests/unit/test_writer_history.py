"""The history experiment: maintained tables keep a bounded history, baseline tables keep
every snapshot (latencies are printed, never asserted)."""

from __future__ import annotations

from pathlib import Path

import pytest

from k2matrix.backends.catalog import open_catalog
from k2matrix.backends.config import CatalogConfig
from k2matrix.tools.commit_history import main, run_history
from k2matrix.writer.bench import first_and_last_tenth
from k2matrix.writer.iceberg import IcebergWriter, Maintenance


def test_first_and_last_tenth() -> None:
    assert first_and_last_tenth([1.0] * 10 + [3.0] * 10) == (1.0, 3.0)
    assert first_and_last_tenth([2.0, 4.0]) == (2.0, 4.0)


def test_maintained_history_stays_bounded(tmp_path: Path) -> None:
    catalog = open_catalog(CatalogConfig(warehouse=str(tmp_path / "wh")))
    kept = IcebergWriter(catalog, maintenance=Maintenance())
    every = IcebergWriter(catalog, maintenance=Maintenance.off())
    assert len(run_history(kept, "kept", 12, 10)) == 12
    run_history(every, "every", 12, 10)
    assert len(kept.table("kept").metadata.snapshots) == 2
    assert len(kept.table("kept").metadata.metadata_log) <= 5
    assert len(every.table("every").metadata.snapshots) == 12


def test_main_prints_both_modes(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["--commits", "6", "--rows", "5"]) == 0
    out = capsys.readouterr().out
    assert "maintained" in out and "pyiceberg-defaults" in out
    rows = {line.split()[0]: line.split() for line in out.splitlines()[2:]}
    assert rows["maintained"][-1] == "2" and rows["pyiceberg-defaults"][-1] == "6"
