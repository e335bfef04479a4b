"""Cells that can never run on the configured backends are not planned, and ``k2matrix
cells`` says which and why: a Glue catalog on the local disk, an S3 delay on a cell without
S3 (:mod:`k2matrix.matrix.backend_fit`)."""

from __future__ import annotations

from pathlib import Path

import pytest
from matrices import write_matrix

from k2matrix.cli import main
from k2matrix.matrix import load_matrix

COMMITS = {"writer.commits": {"sweep": ["catalogs", "storages", "s3_latency_ms"],
                              "values": {"catalogs": ["sqlite", "glue"],
                                         "storages": ["local", "s3"],
                                         "s3_latency_ms": [0, 20]}}}


def test_cells_that_can_never_run_are_not_planned(tmp_path: Path) -> None:
    matrix = load_matrix(write_matrix(tmp_path, cases=COMMITS))
    planned = [c.id for c in matrix.cells("smoke")]
    unplanned = dict((c.id, why) for c, why in matrix.unplanned("smoke"))
    assert planned == ["writer-commits", "writer-commits-s3", "writer-commits-s3-lat20",
                       "writer-commits-glue-s3", "writer-commits-glue-s3-lat20"]
    assert set(unplanned) == {"writer-commits-lat20", "writer-commits-glue",
                              "writer-commits-glue-lat20"}
    assert "uses no S3" in unplanned["writer-commits-lat20"]
    assert unplanned["writer-commits-glue"].startswith("Glue keeps its tables on S3")
    assert len(planned) + len(unplanned) == 2 * 2 * 2  # the whole grid, each cell once


def test_the_cells_command_says_why(tmp_path: Path, capsys: pytest.CaptureFixture[str]
                                    ) -> None:
    path = write_matrix(tmp_path, cases=COMMITS)
    assert main(["cells", "--matrix", str(path), "-k", "glue"]) == 0
    out = capsys.readouterr().out
    assert "2 cells matching -k 'glue' (of 5)" in out
    assert "2 cells not planned: they can never run on the configured backends" in out
    assert "  writer-commits-glue: Glue keeps its tables on S3" in out
    assert "writer-commits-lat20" not in out  # -k applies to the unplanned ones too


def test_a_grid_where_every_cell_runs_lists_none(tmp_path: Path,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["cells", "--matrix", str(write_matrix(tmp_path))]) == 0
    out = capsys.readouterr().out
    assert "not planned" not in out
