"""The suites, unchanged, on outside implementations with known bugs (tests/unit/k2_bugs.py,
named by import path in the matrix): the K2 writer's decimal bug fails its cell with a
VerificationError naming the column and the value, and an engine that returns the right
row count with a wrong value after its verified first run fails its query cell with a
VerificationError naming the timed run and the column (no bare assert)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

from k2matrix.results.journal import read_run

ROOT = Path(__file__).resolve().parents[2]
PROFILE = """
[profiles.bugs]
description = "one writer cell and one query cell, small"
cases = ["writer.append", "query.latency"]
schemas = ["v2"]
batch_sizes = [100]
layouts = ["unpartitioned"]
engines = ["k2_bugs:DriftingEngine"]
dataset_sizes = [4000]
storages = ["local"]
[profiles.bugs.case_values]
"query.latency".query_shapes = ["filtered"]
[profiles.bugs.data]
symbols = 20
"""


def test_the_suites_fail_the_buggy_cells_with_verification_errors(tmp_path: Path) -> None:
    real = (ROOT / "matrix.toml").read_text(encoding="utf-8")
    old = 'impl = "k2matrix.writer.iceberg:IcebergWriter"'
    assert old in real
    matrix = tmp_path / "matrix.toml"
    matrix.write_text(real.replace(old, 'impl = "k2_bugs:RescalingWriter"') + PROFILE,
                      encoding="utf-8")
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K2_", "PYTEST_"))}
    env["PYTHONPATH"] = f"{ROOT / 'tests' / 'unit'}{os.pathsep}{ROOT / 'src'}"
    run = subprocess.run(
        [sys.executable, "-m", "k2matrix.cli", "run", "--matrix", str(matrix), "--tests",
         str(ROOT / "tests" / "performance"), "--profile", "bugs", "--results",
         str(tmp_path / "results"), "--k2-run-id=bugs", f"--k2-workdir={tmp_path / 'work'}",
         "-q", "-p", "no:xdist", "-p", "no:randomly"],
        cwd=tmp_path, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 1, run.stdout[-3000:] + run.stderr[-3000:]
    records = {r.cell["id"] if r.cell else r.nodeid: r for r in read_run(
        tmp_path / "results" / "bugs")}
    writer = records["writer-append-v2-b100-unpartitioned"]
    assert writer.status == "failed"
    assert "VerificationError: writer k2_bugs:RescalingWriter could not store" in writer.error
    assert "column 'price' = Decimal(" in writer.error
    assert "Rescaling Decimal value would cause data loss" in writer.error
    (query,) = [r for cell, r in records.items() if cell.startswith("query-latency-filtered")]
    assert query.status == "failed"
    assert "VerificationError: timed run 1 of the cell: filtered" in query.error
    assert "column 'price' differs" in query.error
