"""What each cell's latency percentiles measure and which tail its samples resolve, on cells
of a real smoke run (``data/summary/smoke-2026-12-05.json``: 15 cells of a ``k2matrix run
--profile smoke -n 2`` on this machine, kept whole)."""

from __future__ import annotations

import itertools
from pathlib import Path
from typing import Any

import pytest

from k2matrix.summary import build_summary
from k2matrix.summary.latency import curve, resolved_points, resolves, tail

SMOKE = Path(__file__).resolve().parent / "data" / "summary" / "smoke-2026-12-05.json"


@pytest.fixture(scope="module")
def cells() -> dict[str, dict[str, Any]]:
    frame = build_summary(SMOKE).frame
    return {r["id"]: r for r in frame.to_dicts()}


def test_each_component_names_what_its_latency_measures(cells: dict[str, Any]) -> None:
    kinds = {cid: (r["latency_kind"], r["latency_samples"]) for cid, r in cells.items()}
    assert kinds["producer-batch-v1-b100"] == ("delivery", 500)  # 5 rounds of 100 messages
    assert kinds["producer-paced_latency-v1"] == ("delivery", 5000)
    assert kinds["pipeline-restart-v2-w1-ci1000-cr100000"] == ("freshness", 40000)
    assert kinds["writer-append-v1-b100-unpartitioned"] == ("round", 7)
    assert kinds["writer-commits-s3"] == ("commit", 20)
    assert kinds["query-throughput-mixed-duckdb_iceberg_scan-n100000"] == ("query", 60)
    assert kinds["query-latency-aggregation-duckdb_iceberg_scan-sorted-n100000"] == (
        "query", 20)
    assert kinds["writer-buffered-v2"] == (None, None)  # records no latency percentiles


def test_a_tail_is_shown_only_where_the_samples_resolve_it(cells: dict[str, Any]) -> None:
    def shown(cid: str) -> tuple[str, float] | None:
        row = cells[cid]
        return tail(row["latency_samples"], row)

    assert shown("writer-append-v1-b100-unpartitioned") == (
        "max of 7", cells["writer-append-v1-b100-unpartitioned"]["latency_max_ms"])
    assert shown("producer-batch-v1-b100")[0] == "p99"  # 500 samples: p99, not p99.9
    assert shown("producer-paced_latency-v1")[0] == "p99.9"
    assert shown("pipeline-restart-v2-w1-ci1000-cr100000")[0] == "p99.99"
    assert shown("query-throughput-mixed-duckdb_iceberg_scan-n100000")[0] == "max of 60"


def test_resolution_rule() -> None:
    assert resolves(100, 0.99) and not resolves(99, 0.99)
    assert resolves(1000, 0.999) and not resolves(999, 0.999)
    assert not resolves(None, 0.5)
    values = {"p50_ms": 1.0, "p90_ms": 2.0, "p99_ms": 3.0, "p999_ms": 3.0,
              "latency_max_ms": 3.0}
    assert [p[2] for p in resolved_points(150, values)] == ["p50", "p90", "p99"]
    assert tail(None, values) == ("max (samples unknown)", 3.0)


def test_percentile_curve_stops_short_of_the_max() -> None:
    samples = [float(i) for i in range(1, 1001)]
    points = curve(samples)
    assert points[0] == (2.0, 500.0)  # the median at x = 1 / (1 - 0.5)
    assert points[-1][0] == pytest.approx(1000.0) and points[-1][1] == 999.0
    assert all(b[0] > a[0] and b[1] >= a[1] for a, b in itertools.pairwise(points))


def test_paced_cells_carry_their_pace(cells: dict[str, Any]) -> None:
    assert cells["producer-paced_latency-v1"]["pace"] == 10000
    assert cells["pipeline-restart-v2-w1-ci1000-cr100000"]["pace"] == 10000
    assert cells["producer-batch-v1-b100"]["pace"] is None
