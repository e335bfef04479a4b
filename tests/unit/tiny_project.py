"""A tiny k2matrix project on disk for the end-to-end tests of trials, A/B and noise: a
matrix whose cells do real k2matrix work (generating trades and converting them to Arrow),
one case of them exclusive, and its suite in tests/performance."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from matrices import matrix_toml

from k2matrix.plugin.threads import THREAD_VARIABLES

# its matrix: two writer cases over schemas (one also over batch sizes), one of them exclusive
CASES: dict[str, dict[str, Any]] = {
    "writer.arrow_conversion": {"sweep": ["schemas", "batch_sizes"]},
    "writer.decimal_precision": {"sweep": ["schemas"], "exclusive": True},
}


def tiny_matrix(**changes: dict[str, Any]) -> str:
    """The tiny project's matrix; ``changes`` add keys to a case, by its name
    (``decimal_precision={"not_countable": "..."}``)."""
    cases = {key: {**case, **changes.get(key.split(".", 1)[1], {})}
             for key, case in CASES.items()}
    return matrix_toml(axes={"batch_sizes": [200, 400]}, data={"skew": 1.1}, cases=cases,
                       profiles={"smoke": {"description": "every cell"}})


MATRIX = tiny_matrix()

SUITE = """
import os

import pytest

from k2matrix.schemas import records_to_arrow
from k2matrix.workload.generate import WorkloadSpec, generate_records


def _convert(k2_cell, benchmark, rows, rounds):
    records = generate_records(WorkloadSpec.from_cell(k2_cell, rows=rows))
    slow = float(os.environ.get("K2_TINY_SLOWDOWN", "0"))

    def run():
        table = records_to_arrow(records, k2_cell.schema)
        for _ in range(int(slow * 20)):  # known extra work for the A/B tests
            records_to_arrow(records, k2_cell.schema)
        return table

    table = benchmark.pedantic(run, rounds=rounds, iterations=1)
    assert table.num_rows == len(records)
    benchmark.extra_info.update(items=len(records), unit="rows/s", verified="row count")


@pytest.mark.k2(component="writer", case="arrow_conversion")
def test_convert(k2_cell, benchmark):
    _convert(k2_cell, benchmark, k2_cell.params["batch_size"], 15)


@pytest.mark.k2(component="writer", case="decimal_precision")
def test_exclusive(k2_cell, benchmark):
    _convert(k2_cell, benchmark, 2000, 10)
"""

BOOTSTRAP = """#!/usr/bin/env bash
# the tiny project's environment: this interpreter, which has k2matrix installed
set -euo pipefail
mkdir -p .venv/bin
printf '#!/bin/sh\nexec "%s" "$@"\n' "$PYTHON" > .venv/bin/python
chmod +x .venv/bin/python
"""

CELLS = {*(f"writer-arrow_conversion-{s}-b{b}" for s in ("v1", "v2") for b in (200, 400)),
         "writer-decimal_precision-v1", "writer-decimal_precision-v2"}


def make_project(root: Path, git: bool = False) -> Path:
    (root / "tests" / "performance").mkdir(parents=True)
    (root / "matrix.toml").write_text(MATRIX)
    (root / "tests" / "performance" / "test_tiny.py").write_text(SUITE)
    (root / "scripts").mkdir()
    (root / "scripts" / "bootstrap.sh").write_text(BOOTSTRAP)
    (root / ".gitignore").write_text(".venv/\n.k2matrix/\nresults/\n")
    if git:
        for args in (["init", "-q"], ["add", "-A"],
                     ["-c", "user.name=t", "-c", "user.email=t@t", "commit", "-qm", "tiny"]):
            subprocess.run(["git", *args], cwd=root, check=True, capture_output=True)
    return root


def k2matrix(root: Path, *args: str, env: dict[str, str] | None = None,
             timeout: float = 300) -> subprocess.CompletedProcess[str]:
    """``k2matrix ARGS`` in ``root``, as a user runs it (no outer pytest or xdist state)."""
    clean = {k: v for k, v in os.environ.items()
             if k not in THREAD_VARIABLES and not k.startswith("PYTEST_")}
    script = Path(sys.executable).parent / "k2matrix"
    return subprocess.run([str(script), *args], cwd=root, capture_output=True, text=True,
                          timeout=timeout, env={**clean, **(env or {})}, check=False)
