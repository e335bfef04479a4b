"""--k2-draws N: N data shapes drawn per grid cell, reproducible from the cell's seed, ids that
say so; a sweep runs them and the summary shows how far each cell's figure moved."""

from __future__ import annotations

import json
from pathlib import Path

import polars as pl
from tiny_project import k2matrix, make_project

from k2matrix.matrix import parse_matrix
from k2matrix.summary.draws import draw_spread
from k2matrix.workload.draws import grid_id, with_draws

ROOT = Path(__file__).resolve().parents[2]
MATRIX = parse_matrix((ROOT / "matrix.toml").read_text(encoding="utf-8"))


def test_draws_are_reproducible_and_named() -> None:
    grid = MATRIX.cells("smoke")[:3]
    first, again = with_draws(MATRIX, grid, 2), with_draws(MATRIX, grid, 2)
    assert first == again and len(first) == 9
    assert [c.id for c in first[:3]] == [grid[0].id, f"{grid[0].id}-d1", f"{grid[0].id}-d2"]
    d1, d2 = first[1], first[2]
    assert d1.params == grid[0].params and d1.seed != grid[0].seed != d2.seed
    assert d1.settings != d2.settings and grid_id(d2.id) == grid[0].id
    for cell in first:
        assert 1 <= cell.settings["symbols"] <= MATRIX.data["symbols"]
        assert 0 <= cell.settings["null_ratio"] <= 1 and 0 <= cell.settings["skew"] <= 3


def test_spread_table() -> None:
    frame = pl.DataFrame({"id": ["a", "a-d1", "a-d2", "b"],
                          "median_s": [0.010, 0.030, 0.012, 0.5]})
    table = draw_spread(frame).to_dicts()
    assert table == [{"id": "a", "draws": 2, "grid_median_s": 0.010, "min_median_s": 0.010,
                      "max_median_s": 0.030, "spread": 3.0, "worst_draw": "a-d1"}]


def test_a_sweep_with_draws(tmp_path: Path) -> None:
    root = make_project(tmp_path / "tiny")
    done = k2matrix(root, "run", "-k", "convert and v1-b200", "--k2-draws", "2")
    assert done.returncode == 0, done.stdout + done.stderr
    summary = k2matrix(root, "summary", "results/latest", "--format", "json")
    doc = json.loads(summary.stdout)
    ids = sorted(c["id"] for c in doc["cells"])
    base = "writer-arrow_conversion-v1-b200"
    assert ids == [base, f"{base}-d1", f"{base}-d2"]
    assert [d["id"] for d in doc["draws"]] == [base] and doc["draws"][0]["spread"] >= 1.0
