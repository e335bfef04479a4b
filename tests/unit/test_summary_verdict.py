"""A verdict that says why: the cells that decided it (worst first, with figure, target and
critical values), each status with its target and headroom, a run that did not cover its
profile is Incomplete (never Good), a counted run says it is counted, and ``--fail-on``
makes a verdict fail a CI job. Inputs are synthetic results files (what a run writes)
judged against the frozen K2 targets."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from counted import counted_bench, counted_doc
from synthetic import benchmark, cell_dict, document

from k2matrix.cli import main as k2matrix
from k2matrix.summary import build_summary
from k2matrix.summary.render import render_markdown, render_table
from k2matrix.summary.verdict import LEVELS, level

TARGETS = json.loads((Path(__file__).resolve().parent / "data" / "summary" /
                      "targets.json").read_text())


def _append(median: float, layout: str) -> dict[str, Any]:
    cell = cell_dict("writer", "append", schema="v2", batch_size=100, layout=layout)
    return benchmark(cell, [median * f for f in (0.99, 1.0, 1.01)])


def _producer(rate: float, schema: str = "v1") -> dict[str, Any]:
    cell = cell_dict("producer", "batch", schema=schema, batch_size=1000)
    return benchmark(cell, [1000 / rate] * 3, {"items": 1000, "unit": "msg/s"})


def _write(tmp_path: Path, benches: list[dict[str, Any]], planned_extra: int = 0,
           **kw: Any) -> Path:
    doc = document(benches, TARGETS, **kw)
    extra = [f"writer-append-v2-b100-extra{i}" for i in range(planned_extra)]
    doc["k2"]["cells_planned"] += extra
    doc["k2"]["cells_missing"] += extra
    path = tmp_path / "benchmarks.json"
    path.write_text(json.dumps(doc))
    return path


@pytest.mark.parametrize(("benches", "text"), [
    ([_append(0.018, "a")], "pass: 18 ms ≤ 200 ms, 11x headroom"),
    ([_append(0.150, "a")], "pass: 150 ms ≤ 200 ms, 1.3x headroom"),
    ([_append(0.250, "a")], "below_target: 250 ms > 200 ms, 1.2x off target (critical 1 s)"),
    ([_append(2.0, "a")], "below_critical: 2 s > 1 s critical, 10x off target (200 ms)"),
    ([_producer(20_000)], "pass: 20K msg/s ≥ 10K msg/s, 2.0x headroom"),
    ([_producer(2_000)], "below_critical: 2K msg/s < 5K msg/s critical, 5.0x off target "
                         "(10K msg/s)"),
    ([benchmark(cell_dict("producer", "paced_latency", schema="v2"), [0.5] * 3)],
     "no_data: p99_ms not recorded (target 10 ms)"),
    ([benchmark(cell_dict("writer", "decimal_precision", schema="v1"), [0.1] * 3)],
     "no_target"),
])
def test_each_status_shows_its_target_and_headroom(tmp_path: Path,
                                                   benches: list[dict[str, Any]],
                                                   text: str) -> None:
    summary = build_summary(_write(tmp_path, benches))
    (row,) = summary.to_dict()["cells"]
    assert row["status_text"] == text
    assert text in render_table(summary)


def test_the_target_with_least_headroom_decides_between_passes(tmp_path: Path) -> None:
    doc = document([_append(0.1, "a")], [
        {**TARGETS[6], "name": "loose", "target": 1000.0, "critical": 5000.0},
        {**TARGETS[6], "name": "tight", "target": 120.0, "critical": 600.0}])
    path = tmp_path / "b.json"
    path.write_text(json.dumps(doc))
    (row,) = build_summary(path).to_dict()["cells"]
    assert (row["status"], row["target"], row["headroom"]) == ("pass", "tight",
                                                               pytest.approx(1.2, rel=0.01))


def test_the_cells_that_decided_come_worst_first_with_their_figures(tmp_path: Path) -> None:
    benches = [*(_append(0.05, f"ok{i}") for i in range(8)), _append(0.3, "slow"),
               _append(0.6, "slower")]
    summary = build_summary(_write(tmp_path, benches))
    verdict = summary.verdict
    assert verdict.verdict == "Acceptable"
    assert [d["id"] for d in verdict.deciding] == ["writer-append-v2-b100-slower",
                                                   "writer-append-v2-b100-slow"]
    worst = verdict.deciding[0]
    assert (worst["figure"], worst["target_value"], worst["critical"]) == (
        pytest.approx(600.0), 200.0, 1000.0)
    assert worst["text"] == "below_target: 600 ms > 200 ms, 3.0x off target (critical 1 s)"
    text = render_table(summary)
    head = text.split("Cells", 1)[0]
    assert head.index("b100-slower") < head.index("b100-slow ")
    assert "  writer-append-v2-b100-slower  below_target: 600 ms" in head
    assert "  - writer-append-v2-b100-slower" in render_markdown(summary)
    assert summary.to_dict()["deciding_cells"] == verdict.deciding


def test_a_good_verdict_names_the_tightest_cells(tmp_path: Path) -> None:
    benches = [_append(m, f"l{i}") for i, m in enumerate((0.01, 0.19, 0.05, 0.15, 0.02))]
    verdict = build_summary(_write(tmp_path, benches)).verdict
    assert verdict.verdict == "Good"
    assert [round(d["figure"]) for d in verdict.deciding] == [190, 150, 50]


def test_failed_cells_come_first(tmp_path: Path) -> None:
    path = _write(tmp_path, [_append(2.0, "a")], failed=["writer-append-v2-b100-broken"])
    verdict = build_summary(path).verdict
    assert verdict.verdict == "Needs Investigation"
    assert verdict.deciding[0] == {"id": "writer-append-v2-b100-broken", "status": "failed",
                                   "text": "failed: E   AssertionError: checksum"}
    assert verdict.deciding[1]["status"] == "below_critical"


def test_a_run_that_did_not_cover_its_profile_is_incomplete(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, [_append(0.01, f"l{i}") for i in range(3)], planned_extra=2)
    summary = build_summary(path)
    out = summary.to_dict()
    assert out["verdict"] == "Incomplete"
    assert out["verdict_reason"].startswith("3 of 5 cells; 2 have no result")
    assert out["counts"]["missing"] == 2 and out["counts"]["planned"] == 5
    assert {d["status"] for d in out["deciding_cells"]} == {"missing"}
    assert k2matrix(["summary", str(path)]) == 0  # the default --fail-on is blocking
    assert "Verdict: Incomplete: 3 of 5 cells" in capsys.readouterr().out
    assert k2matrix(["summary", str(path), "--fail-on", "incomplete"]) == 1
    # worse problems still win: a failed cell makes it Needs Investigation
    failed = _write(tmp_path, [_append(0.01, "l0")], planned_extra=1, failed=["x"])
    assert build_summary(failed).verdict.verdict == "Needs Investigation"


def test_a_counted_run_says_it_is_counted(tmp_path: Path) -> None:
    doc = counted_doc([counted_bench("append", [45e6, 45.1e6]),
                       counted_bench("throughput", [9e6, 9.2e6])])
    doc["k2"]["targets"] = TARGETS
    path = tmp_path / "counted.json"
    path.write_text(json.dumps(doc))
    summary = build_summary(path)
    assert summary.verdict.verdict == "Counted"
    assert summary.verdict.reason.startswith("2 cells, no time target applies")
    assert "Verdict: Counted: 2 cells, no time target applies" in render_table(summary)
    assert "Good" not in render_table(summary).split("Cells", 1)[0]


@pytest.mark.parametrize(("fail_on", "acceptable", "good"), [
    ("good", 1, 1), ("counted", 1, 0), ("acceptable", 1, 0), ("incomplete", 0, 0),
    ("needs-investigation", 0, 0), ("Needs Investigation", 0, 0), ("blocking", 0, 0)])
def test_fail_on_exits_1_at_the_level_or_worse(tmp_path: Path, fail_on: str, acceptable: int,
                                               good: int) -> None:
    fine = _write(tmp_path, [_append(0.05, f"l{i}") for i in range(5)])
    good_path = fine.rename(tmp_path / "good.json")
    worse = _write(tmp_path, [*(_append(0.05, f"l{i}") for i in range(4)),
                              _append(0.3, "slow")])
    assert k2matrix(["summary", str(worse), "--fail-on", fail_on]) == acceptable
    assert k2matrix(["summary", str(good_path), "--fail-on", fail_on]) == good


def test_fail_on_levels() -> None:
    assert [level(name.lower()) for name in LEVELS] == list(LEVELS)
    assert level("investigate") == "Needs Investigation"
    with pytest.raises(Exception, match="good, counted, acceptable, incomplete"):
        level("fine")


def test_a_zero_figure_has_unbounded_headroom_and_still_writes_json(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = _write(tmp_path, [_append(0.0, "zero"), _append(0.1, "a")])
    assert k2matrix(["summary", str(path), "--format", "json"]) == 0
    out = json.loads(capsys.readouterr().out)
    zero = next(c for c in out["cells"] if c["id"].endswith("zero"))
    assert zero["status_text"] == "pass: 0 s ≤ 200 ms, unbounded headroom"
    assert zero["headroom"] is None  # JSON has no infinity
    assert all(d["headroom"] is None or d["headroom"] > 0 for d in out["deciding_cells"])
