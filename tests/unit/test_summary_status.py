"""Statuses against the targets and the K2 verdict: tables of inputs and expected outputs.

The inputs are synthetic results files (what a run writes), not stand-ins for the systems
under test. The tables use a frozen copy of the K2 targets (data/summary/targets.json, the
repository's matrix.toml [targets] as of this summary), so that retuning a target does not
change what these tests expect; the agreement test uses the live matrix.toml."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document

from k2matrix.matrix import Matrix, load_matrix
from k2matrix.summary import build_summary

MATRIX = Path(__file__).resolve().parents[2] / "matrix.toml"
FROZEN_TARGETS = Path(__file__).resolve().parent / "data" / "summary" / "targets.json"


@pytest.fixture(scope="module")
def matrix() -> Matrix:
    return load_matrix(MATRIX)


def targets(matrix: Matrix | None = None) -> list[dict[str, Any]]:
    """The live matrix's targets, or the frozen K2 table without a matrix."""
    if matrix is None:
        frozen: list[dict[str, Any]] = json.loads(FROZEN_TARGETS.read_text())
        return frozen
    return [t.to_dict() for t in matrix.targets.values()]


def write(tmp_path: Path, benches: list[dict[str, Any]], tgts: list[dict[str, Any]],
          **kw: Any) -> Path:
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(document(benches, tgts, **kw)))
    return path


def rounds(median_s: float) -> list[float]:
    return [median_s * f for f in (0.98, 0.99, 1.0, 1.01, 1.02)]


# (cell, median seconds, extra_info, expected status, expected deciding target)
STATUS_TABLE: list[tuple[dict[str, Any], float, dict[str, Any], str, str | None]] = [
    # writer.append b100: median_ms lower, target 200, critical 1000
    (cell_dict("writer", "append", schema="v2", batch_size=100, layout="unpartitioned"),
     0.150, {}, "pass", "write_100_rows"),
    (cell_dict("writer", "append", schema="v2", batch_size=100, layout="day_symbol"),
     0.500, {}, "below_target", "write_100_rows"),
    (cell_dict("writer", "append", schema="v1", batch_size=100, layout="unpartitioned"),
     1.500, {}, "below_critical", "write_100_rows"),
    # writer.append b1000: no target covers batch size 1000
    (cell_dict("writer", "append", schema="v1", batch_size=1000, layout="unpartitioned"),
     9.0, {}, "no_target", None),
    # producer.batch b1000: throughput higher, target 10000, critical 5000
    (cell_dict("producer", "batch", schema="v2", batch_size=1000), 0.05,
     {"items": 1000, "unit": "msg/s"}, "pass", "producer_throughput"),          # 20K msg/s
    (cell_dict("producer", "batch", schema="v1", batch_size=10000), 1.25,
     {"items": 10000, "unit": "msg/s"}, "below_target", "producer_throughput"),  # 8K msg/s
    (cell_dict("producer", "batch", schema="v1", batch_size=1000), 0.5,
     {"items": 1000, "unit": "msg/s", "throughput": 2000.0}, "below_critical",
     "producer_throughput"),
    # producer.batch b100: the target is narrowed to batch sizes 1000 and 10000
    (cell_dict("producer", "batch", schema="v1", batch_size=100), 10.0,
     {"items": 100, "unit": "msg/s"}, "no_target", None),
    # producer.paced_latency: p99_ms lower, target 10, critical 50
    (cell_dict("producer", "paced_latency", schema="v2"), 0.5,
     {"latency_p99_ms": 8.0}, "pass", "producer_p99_latency"),
    (cell_dict("producer", "paced_latency", schema="v1"), 0.5,
     {"latency_p99_ms": 60.0}, "below_critical", "producer_p99_latency"),
    (cell_dict("producer", "paced_latency", schema="v1", variant=2), 0.5,
     {}, "no_data", "producer_p99_latency"),
    # writer.arrow_conversion: the where narrows by schema and batch size
    (cell_dict("writer", "arrow_conversion", schema="v2", batch_size=1000), 0.012,
     {}, "pass", "arrow_conversion_v2"),
    (cell_dict("writer", "arrow_conversion", schema="v1", batch_size=1000), 0.012,
     {}, "below_target", "arrow_conversion_v1"),
    # query.latency: by query shape
    (cell_dict("query", "latency", query_shape="filtered", engine="duckdb_parquet",
               layout="unpartitioned", dataset_size=100000), 0.3, {}, "pass", "filtered"),
    (cell_dict("query", "latency", query_shape="simple_scan", engine="duckdb_parquet",
               layout="unpartitioned", dataset_size=100000), 0.3, {}, "below_target",
     "simple_scan"),
    # query.throughput: only the sequential pattern has a target
    (cell_dict("query", "throughput", pattern="mixed", engine="duckdb_parquet",
               dataset_size=100000), 1.0, {"items": 1, "unit": "queries/s"}, "no_target", None),
]


@pytest.mark.parametrize(("cell", "median", "extra", "status", "target"), STATUS_TABLE,
                         ids=[f"{c['id']}-{s}" for c, _, _, s, _ in STATUS_TABLE])
def test_status_table(tmp_path: Path, cell: dict[str, Any], median: float,
                      extra: dict[str, Any], status: str, target: str | None) -> None:
    path = write(tmp_path, [benchmark(cell, rounds(median), extra)], targets())
    out = build_summary(path).to_dict()
    (row,) = out["cells"]
    assert (row["status"], row["target"]) == (status, target)
    assert row["id"] == cell["id"]


def test_statuses_agree_with_target_applies_and_status(tmp_path: Path, matrix: Matrix
                                                       ) -> None:
    """The vectorized rule gives what Matrix.targets_for + Target.status give, for every
    cell of the full profile with times spread over three orders of magnitude."""
    import numpy as np

    rng = np.random.default_rng(7)
    cells = list({c.id: c for c in matrix.cells("full") + matrix.cells("stress")}.values())
    benches, expected = [], {}
    for cell in cells:
        median = float(10 ** rng.uniform(-3.5, 0.5))
        extra: dict[str, Any] = {"items": 1000, "unit": "items/s"}
        if rng.random() < 0.7:
            extra["latency_p99_ms"] = float(10 ** rng.uniform(0, 2))
        benches.append(benchmark(cell.to_dict(), [median] * 3, extra))
        values = {"throughput": 1000 / median, "median_ms": median * 1000,
                  "p99_ms": extra.get("latency_p99_ms")}
        order = ["no_target", "pass", "no_data", "below_target", "below_critical"]
        worst = "no_target"
        for t in matrix.targets_for(cell):
            v = values[t.metric]
            s = "no_data" if v is None else t.status(v)
            worst = max(worst, s, key=order.index)
        expected[cell.id] = worst
    out = build_summary(write(tmp_path, benches, targets(matrix))).to_dict()
    got = {c["id"]: c["status"] for c in out["cells"]}
    assert got == expected
    assert len({s for s in got.values()}) >= 4


def _sustained(median: float, throughput: float) -> dict[str, Any]:
    return benchmark(cell_dict("writer", "buffered", schema="v2"), rounds(median),
                     {"items": 100000, "unit": "rows/s", "throughput": throughput})


def _append(median: float, layout: str = "unpartitioned") -> dict[str, Any]:
    return benchmark(cell_dict("writer", "append", schema="v2", batch_size=100, layout=layout),
                     rounds(median))


# (benchmarks, failed ids, expected verdict)
VERDICT_TABLE: list[tuple[str, list[dict[str, Any]], list[str], str]] = [
    ("all pass", [_append(0.1, f"l{i}") for i in range(5)], [], "Good"),
    ("4 of 5 pass", [_append(0.1, f"l{i}") for i in range(4)] + [_append(0.5)], [],
     "Acceptable"),
    ("3 of 5 pass", [_append(0.1, f"l{i}") for i in range(3)]
     + [_append(0.5, "a"), _append(0.5, "b")], [], "Needs Investigation"),
    ("one below critical", [_append(0.1, f"l{i}") for i in range(9)] + [_append(2.0)], [],
     "Needs Investigation"),
    ("sustained below critical", [_append(0.1), _sustained(50.0, 2000.0)], [], "Blocking"),
    ("sustained below target only",
     [_append(0.1, f"l{i}") for i in range(4)] + [_sustained(15.0, 6000.0)], [],
     "Acceptable"),
    ("a failed cell", [_append(0.1)], ["writer-append-v2-b100-sorted"],
     "Needs Investigation"),
    ("no targeted cell", [benchmark(cell_dict("writer", "decimal_precision", schema="v1"),
                                    rounds(0.1))], [], "Good"),
]


@pytest.mark.parametrize(("benches", "failed", "verdict"),
                         [row[1:] for row in VERDICT_TABLE],
                         ids=[row[0] for row in VERDICT_TABLE])
def test_verdict_table(tmp_path: Path, benches: list[dict[str, Any]], failed: list[str],
                       verdict: str) -> None:
    out = build_summary(write(tmp_path, benches, targets(), failed=failed)).to_dict()
    assert out["verdict"] == verdict, out["verdict_reason"]
    assert out["counts"]["failed"] == len(failed)


def test_targets_absent_gives_no_target(tmp_path: Path) -> None:
    out = build_summary(write(tmp_path, [_append(5.0)], [])).to_dict()
    assert [c["status"] for c in out["cells"]] == ["no_target"]
    assert out["verdict"] == "Good"
    assert "no cell has a target" in out["verdict_reason"]
