"""The query workload of a cell: dataset choice, verification, query mixes, statistics."""

from __future__ import annotations

from pathlib import Path

import pytest

from k2matrix.cell import Cell
from k2matrix.errors import VerificationError
from k2matrix.query.shapes import MIXED
from k2matrix.query.workload import (
    DEFAULT_LAYOUT,
    QueryWorkload,
    distinct,
    rounds_for,
)

SETTINGS = {"symbols": 30, "rows_per_second": 20, "throughput_queries": 10}


def _cell(**params: object) -> Cell:
    return Cell(id="query-x", component="query", case="latency",
                params={"engine": "duckdb_iceberg_scan", "dataset_size": 3000, **params},
                seed=5, settings=SETTINGS)


def test_layouts_share_rows_and_cells_without_a_layout_use_the_default(tmp_path: Path) -> None:
    a = QueryWorkload.for_cell(_cell(layout="day_bucket"), 99, tmp_path)
    b = QueryWorkload.for_cell(_cell(), 99, tmp_path)
    assert b.dataset.key.layout == DEFAULT_LAYOUT and a.dataset.key.layout == "day_bucket"
    assert a.dataset.key.seed == b.dataset.key.seed
    assert a.generated()["trades"].equals(b.generated()["trades"])
    assert a.window == b.window


def test_verify_accepts_the_engine_and_rejects_a_wrong_result(tmp_path: Path) -> None:
    wl = QueryWorkload.for_cell(_cell(layout="sorted"), 99, tmp_path)
    params = wl.params("aggregation")
    engine = wl.open()
    try:
        right = engine.run("aggregation", params)
        wl.verify(right, "aggregation", params)
        wrong = engine.run("aggregation", params)
        wrong.table = wrong.table.slice(1)
        with pytest.raises(VerificationError, match="rows, expected"):
            wl.verify(wrong, "aggregation", params)
    finally:
        engine.close()


def test_mixed_queries_cycle_shapes_and_repeat_variants(tmp_path: Path) -> None:
    wl = QueryWorkload.for_cell(_cell(), 99, tmp_path)
    queries = wl.mixed_queries(50, variants=3)
    assert [s for s, _ in queries[:len(MIXED)]] == list(MIXED)
    unique = distinct(queries)
    assert len(unique) <= 3 * len(MIXED) < len(queries)
    assert distinct(unique) == unique


@pytest.mark.parametrize(("first", "budget", "default", "expected"), [
    (0.01, 1.0, 20, 20), (0.2, 1.0, 20, 5), (5.0, 1.0, 20, 3), (0.0, 1.0, 7, 7),
])
def test_rounds_for(first: float, budget: float, default: int, expected: int) -> None:
    assert rounds_for(first, budget, default) == expected
