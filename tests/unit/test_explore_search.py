"""The search on deterministic components with known cliffs (no wall-clock timing): Hypothesis
finds the violation, and shrinking lands on the threshold and the simplest values of the
dimensions that do not matter; relational kinds; budgets; a property whose every draw fails
its verification; the example database replays a known counterexample first."""

from __future__ import annotations

import math
from pathlib import Path
from typing import Any

from hypothesis.database import DirectoryBasedExampleDatabase

from k2matrix.explore.relation import evaluate
from k2matrix.explore.search import Outcome, search
from k2matrix.explore.space import RESOLUTION, points, position_to_value
from k2matrix.matrix import parse_matrix
from k2matrix.matrix.properties import Property, Range

ROOT = Path(__file__).resolve().parents[2]
MATRIX = parse_matrix((ROOT / "matrix.toml").read_text(encoding="utf-8"))
RATE = MATRIX.properties["writer_append_rate"]  # throughput >= 10000 rows/s
ROWS, SYMBOLS = 30_000, 800  # the planted cliff: 10x slower above both


def cliff(pts: list[dict[str, Any]]) -> list[Outcome]:
    return [Outcome(2_000.0 if p["batch_size"] > ROWS and p["symbols"] > SYMBOLS else 20_000.0)
            for p in pts]


def test_position_is_monotonic_and_covers_the_range() -> None:
    dim = Range(100, 100_000, integer=True, log=True)
    values = [position_to_value(dim, p) for p in range(0, RESOLUTION + 1, RESOLUTION // 50)]
    assert values[0] == 100 and values[-1] == 100_000
    assert values == sorted(values)


def test_planted_cliff_shrinks_to_the_threshold() -> None:
    hits = 0
    for seed in range(5):
        result = search(RATE, cliff, budget=200, seed=seed)
        assert len(result.examples) <= 200
        if result.shrunk is None:
            continue
        params = result.shrunk.params
        assert abs(params["batch_size"] - ROWS) <= 0.1 * ROWS
        assert abs(params["symbols"] - SYMBOLS) <= 0.1 * SYMBOLS
        # what does not matter shrinks to its simplest value
        assert params["skew"] == 0.0 and params["null_ratio"] == 0.0
        assert params["layout"] == "unpartitioned" and params["schema"] == "v1"
        assert result.first_violation is not None and result.first_violation.violated
        hits += 1
    assert hits >= 4


def test_a_space_that_holds_gives_no_counterexample() -> None:
    result = search(RATE, lambda pts: [Outcome(20_000.0) for _ in pts], budget=30, seed=1)
    assert result.shrunk is None and result.first_violation is None
    assert len(result.examples) == 30 and result.worst is not None


def test_time_budget_stops_the_search() -> None:
    ticks = iter(range(10**6))
    result = search(RATE, lambda pts: [Outcome(20_000.0) for _ in pts], seconds=20, seed=2,
                    clock=lambda: float(next(ticks)))
    assert 0 < len(result.examples) <= 20
    assert result.stopped == "budget spent without a violation"


def test_every_draw_failing_verification_is_not_a_counterexample() -> None:
    result = search(RATE, lambda pts: [Outcome(None, "failed", "checksum differs")
                                       for _ in pts], budget=10, seed=0)
    assert result.failures == len(result.examples) == 10
    assert result.shrunk is None


def _prop(kind: str) -> Property:
    return {"monotonic": MATRIX.properties["writer_append_monotonic"],
            "scaling": MATRIX.properties["writer_append_scaling"],
            "ratio": MATRIX.properties["writer_v2_cost"]}[kind]


def test_monotonic_finds_the_dip() -> None:
    # throughput rises with the batch, except for a dip after 20,000 rows on sorted layouts
    def thr(p: dict[str, Any]) -> float:
        base = 1000 * math.log(p["batch_size"])
        return base / 3 if p["batch_size"] > 20_000 and p["layout"] == "sorted" else base
    prop = _prop("monotonic")
    result = search(prop, lambda pts: [Outcome(thr(p)) for p in pts], budget=150, seed=3)
    assert result.shrunk is not None
    low, high = result.shrunk.points
    assert low["batch_size"] <= 20_000 < high["batch_size"]
    assert high["layout"] == "sorted" and high["batch_size"] <= 22_000


def test_scaling_finds_the_quadratic_region() -> None:
    # time linear below 10,000 rows, quadratic above
    def ms(p: dict[str, Any]) -> float:
        n = p["batch_size"]
        return n * 0.01 if n <= 10_000 else 100 * (n / 10_000) ** 2
    prop = _prop("scaling")
    result = search(prop, lambda pts: [Outcome(ms(p)) for p in pts], budget=150, seed=0)
    assert result.shrunk is not None and result.shrunk.evaluation is not None
    assert result.shrunk.evaluation.figure > 1.0
    assert result.shrunk.points[1]["batch_size"] > 10_000


def test_ratio_compares_the_two_variants() -> None:
    prop = _prop("ratio")
    pts = points(prop, {"batch_size": 5000, "layout": "sorted"})
    assert [p["schema"] for p in pts] == ["v1", "v2"]
    assert evaluate(prop, [10.0, 14.0]).violated is False
    assert evaluate(prop, [10.0, 16.0]).violated is True

    def ms(p: dict[str, Any]) -> float:
        slow = p["schema"] == "v2" and p["layout"] == "day_bucket" and p["batch_size"] > 500
        return 30.0 if slow else 10.0
    result = search(prop, lambda pts: [Outcome(ms(p)) for p in pts], budget=100, seed=0)
    assert result.shrunk is not None
    assert result.shrunk.params["layout"] == "day_bucket"
    assert 500 < result.shrunk.params["batch_size"] <= 550


def test_database_replays_a_known_counterexample_first(tmp_path: Path) -> None:
    db = DirectoryBasedExampleDatabase(str(tmp_path / "hypothesis"))
    first = search(RATE, cliff, budget=200, seed=0, database=db)
    assert first.shrunk is not None
    again = search(RATE, cliff, budget=200, seed=99, database=db)
    assert again.first_violation is not None and again.first_violation.number == 1
    assert again.shrunk is not None and again.shrunk.params == first.shrunk.params


def test_a_finite_space_is_measured_once_each_then_the_search_ends() -> None:
    prop = MATRIX.properties["iceberg_scan_overhead"]  # 4 shapes x 4 layouts, 2 engines each
    result = search(prop, lambda pts: [Outcome(10.0) for _ in pts], budget=100, seed=0)
    assert len(result.examples) == 16
    assert len({tuple(sorted(e.params.items())) for e in result.examples}) == 16
    assert "no new example to draw" in result.stopped
