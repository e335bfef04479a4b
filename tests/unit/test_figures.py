"""The one declaration of every figure (k2matrix.figures): what is valid under which clock,
derived figures, views of an entry and of its trials, and the trial entries a fold keeps."""

from __future__ import annotations

import pytest

from k2matrix import figures
from k2matrix.errors import ResultsError
from k2matrix.results.folding import fold
from k2matrix.results.record import CellRecord


def _bench(clock: str | None, **extra: object) -> dict[str, object]:
    k2: dict[str, object] = {} if clock is None else {"clock": clock}
    return {"stats": {"median": 0.02, "data": [0.02]},
            "extra_info": {"items": 1000, **extra, "k2": k2}}


def test_time_figures_are_valid_under_timing_clocks_only() -> None:
    wall = figures.entry_view(_bench(None, efficiency=0.5, latency_p99_ms=3.0))
    assert wall["clock"] == "wall" and wall["median_s"] == 0.02
    assert figures.value("throughput", wall) == pytest.approx(50_000.0)  # derived
    assert figures.value("relative", wall) == 2.0
    assert figures.value("p99_ms", wall) == 3.0
    assert figures.value("per_item_us", wall) == pytest.approx(20.0)
    counted = figures.entry_view(_bench("instructions", instructions=2.3e7,
                                        counters={"s3.put": 2.0}))
    assert figures.value("throughput", counted) is None
    assert figures.value("median_ms", counted) is None
    assert figures.value("instructions", counted) == 2.3e7
    assert figures.value("instructions", wall) is None
    assert figures.value("s3.put", counted) == 2.0
    assert figures.value("s3.put", wall) is None  # no counters recorded


def test_values_are_checked_once() -> None:
    view = {"clock": "wall", "throughput": True, "efficiency": 0.0, "latency_p99_ms": "3"}
    assert figures.value("latency_p99_ms", view) is None  # a string is no figure
    assert figures.positive("efficiency", view) is None
    assert figures.value("throughput", view) is None  # a bool is no figure
    assert figures.positive("latency_p50_ms", {"latency_p50_ms": float("nan")}) is None
    with pytest.raises(KeyError, match="not a declared figure"):
        figures.figure("speed")
    with pytest.raises(ResultsError, match="clock = 'tsc'"):
        figures.check_clock("tsc", "here")


def test_derive_fills_what_extra_info_lacks() -> None:
    assert figures.derive({"items": 100, "ceiling_throughput": 10_000.0}, 0.02) == {
        "throughput": pytest.approx(5000.0), "efficiency": pytest.approx(0.5)}
    assert figures.derive({"items": 100, "throughput": 1.0}, 0.02) == {}
    assert figures.derive({"items": 100}, 2.3e7, "instructions") == {}


def test_counters_declare_their_unit_from_their_last_word() -> None:
    assert figures.figure("process.write_bytes").unit == "bytes"
    assert figures.figure("s3.put").unit == "count"
    assert figures.figure("s3.put").compared == figures.EXACT_OR_SPREAD
    names = [row["name"] for row in figures.table()]
    assert {"median_s", "instructions", "throughput", "area.what"} <= set(names)
    assert all(row["clocks"] for row in figures.table())


def _record(trial: int, clock: str, count: float, counters: dict[str, float]) -> CellRecord:
    bench = {"name": "test_append[c]", "stats": {"median": count, "data": [count, count]},
             "extra_info": {"items": 1000, "instructions": count, "counters": counters,
                            "k2": {"clock": clock, "cell": {"id": "c"}}}}
    return CellRecord(nodeid="t::test_append[c]", status="passed", cell={"id": "c"},
                      worker="main", pid=trial, started=float(trial),
                      finished=trial + 0.5, benchmark=bench, overhead_s=0.0)


def test_a_fold_keeps_each_trials_clock_count_and_counters() -> None:
    (folded,) = fold([(1, [_record(1, "instructions", 1e7, {"s3.put": 2.0})]),
                      (2, [_record(2, "instructions", 1.1e7, {"s3.put": 3.0})])])
    assert folded.benchmark is not None
    info = folded.benchmark["extra_info"]
    assert "throughput" not in info  # counts are no time: no rate from them
    trials = info["k2"]["trials"]
    assert [t["clock"] for t in trials] == ["instructions"] * 2
    assert [t["instructions"] for t in trials] == [1e7, 1.1e7]
    assert [t["counters"] for t in trials] == [{"s3.put": 2.0}, {"s3.put": 3.0}]
    views = figures.trial_views(folded.benchmark)
    assert figures.every("instructions", views) == [1e7, 1.1e7]
    assert [figures.value("s3.put", v) for v in views] == [2.0, 3.0]
