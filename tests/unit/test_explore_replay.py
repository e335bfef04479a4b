"""End to end on the tiny project (real cells, real processes): explore writes a confirmed
counterexample as a replayable cell with its data shape and seed, JSON keys as the issue
names them; ``k2matrix run --cell ID`` re-measures exactly that cell; the next explore
starts from the example database; bad replays are exit 2."""

from __future__ import annotations

import json
from pathlib import Path

from tiny_project import MATRIX, k2matrix, make_project

from k2matrix.results.cell_files import read_entries
from k2matrix.results.journal import read_run

# a bound no conversion can meet (1 ns for hundreds of rows): every example violates; 3
# trials (with 2, t at 99% has one degree of freedom: 63.7, and two unlike trials hide even this)
PROPERTY = """
[properties.instant]
description = "a conversion takes no time at all (it cannot: a violation every time)"
case = "writer.arrow_conversion"
metric = "median_ms"
bound = 0.000001
direction = "lower"
[properties.instant.space]
batch_size = [50, 400]
symbols = [1, 50]
schemas = ["v1", "v2"]
"""


def test_explore_writes_and_replays_a_counterexample(tmp_path: Path) -> None:
    root = make_project(tmp_path / "tiny")
    (root / "matrix.toml").write_text(MATRIX + PROPERTY)
    done = k2matrix(root, "explore", "instant", "--budget", "4", "--trials", "3",
                    "--format", "json")
    assert done.returncode == 1, done.stderr  # 1: a confirmed counterexample
    report = json.loads(done.stdout)
    assert {"property", "examples", "counterexample", "confirmed", "worst"} <= set(report)
    assert report["property"] == "instant" and report["confirmed"] is True
    assert 1 <= report["examples"] <= 4
    ce = report["counterexample"]
    # shrunk to the simplest workload: the smallest batch, one symbol, the first schema
    assert ce["params"] == {"batch_size": 50, "symbols": 1, "schema": "v1"}
    assert ce["metric"] > 0.000001
    run_dir = Path(report["run_dir"])
    if not run_dir.is_absolute():
        run_dir = root / run_dir
    assert (run_dir / "hypothesis").is_dir() and (run_dir / "explore.json").is_file()
    entries = read_entries(run_dir / "counterexamples.json")
    shrunk = next(e for e in entries if e["role"] == "shrunk")
    cell = shrunk["cell"]
    assert cell["id"] == ce["cells"][0] and cell["settings"]["symbols"] == 1
    assert shrunk["confirmed"] is True and "progress" not in done.stdout

    replay = k2matrix(root, "run", "--cell", cell["id"])
    assert replay.returncode == 0, replay.stdout + replay.stderr
    latest = (root / "results" / "latest").resolve()
    records = read_run(latest)
    assert [r.cell_id for r in records] == [cell["id"]]
    assert records[0].passed and records[0].cell == {**cell, "slow": False}

    # 3 measurements: the known counterexample, first in line, and its two repeats
    again = k2matrix(root, "explore", "instant", "--budget", "3", "--trials", "3",
                     "--format", "json", "--seed", "5")
    second = json.loads(again.stdout)
    assert second["earlier_runs"] and second["counterexample"]["params"] == ce["params"]


def test_replay_of_an_unknown_cell_is_exit_2(tmp_path: Path) -> None:
    root = make_project(tmp_path / "tiny")
    done = k2matrix(root, "run", "--cell", "writer-arrow_conversion-v1-b50-xdeadbeef")
    assert done.returncode == 2
    assert "no counterexample with this id" in done.stderr and "Traceback" not in done.stderr


def test_a_damaged_cells_file_is_a_usage_error(tmp_path: Path) -> None:
    root = make_project(tmp_path / "tiny")
    bad = root / "cells.json"
    bad.write_text('{"kind": "k2matrix-cells", "format_version": 1, "cells": [{"x": 1}]}')
    done = k2matrix(root, "run", f"--k2-cells={bad}")
    assert done.returncode == 2, done.stdout + done.stderr
    assert "cells[0] has no cell" in done.stdout + done.stderr
