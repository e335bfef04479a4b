"""The summary's pipeline-stage table on synthetic cells whose figures are known."""

from __future__ import annotations

from typing import Any

import pytest

from k2matrix.results.load import Run
from k2matrix.summary.build import analyse
from k2matrix.summary.html import render_html
from k2matrix.summary.pipeline import pipeline_stages
from k2matrix.summary.render import render_markdown, render_table


def _bench(cell: str, held: bool, busy: dict[str, float], seconds: float) -> dict[str, Any]:
    stages: dict[str, Any] = {
        s: {"busy_s": b, "us_per_row": b / 1e5 * 1e6, "p99_ms": 10.0 * (i + 1)}
        for i, (s, b) in enumerate(busy.items())}
    stages.update(broker={"p50_ms": 1.0, "p99_ms": 7.0}, probe={"p50_ms": 2.0, "p99_ms": 9.0})
    return {"name": cell, "stats": {"median": seconds},
            "extra_info": {"k2": {"cell": {"id": cell}}, "broker": "bootstrap 10.0.0.1:9092",
                           "held": held, "throughput": 1e5 / seconds, "seconds": seconds,
                           "producer_rate": 2e5 / seconds, "stages": stages}}


def test_one_row_per_pipeline_cell_with_its_busiest_stage() -> None:
    run = Run(source="synthetic", benchmarks=[
        _bench("pipe-a", True, {"produce": 1.0, "consume": 2.0, "decode": 6.0,
                                "commit": 3.0}, 10.0),
        _bench("pipe-b", False, {"produce": 4.0, "consume": 1.0, "decode": 2.0,
                                 "commit": 8.0}, 20.0),
        {"name": "writer-x", "stats": {"median": 1.0}, "extra_info": {"items": 10}},
    ])
    table = pipeline_stages(run)
    assert table["id"].to_list() == ["pipe-a", "pipe-b"]
    a, b = table.to_dicts()
    assert (a["busiest"], a["busiest_share"]) == ("decode", pytest.approx(0.6))
    assert (b["busiest"], b["busiest_share"]) == ("commit", pytest.approx(0.4))
    assert a["held"] and not b["held"]
    assert a["decode_us_per_row"] == pytest.approx(60.0)
    assert a["broker_p99_ms"] == 7.0 and a["probe_p99_ms"] == 9.0
    assert a["commit_p99_ms"] == 40.0  # the fourth stage given: p99 10 ms x 4
    assert b["broker"] == "bootstrap 10.0.0.1:9092"


def test_a_run_without_pipeline_cells_has_an_empty_table() -> None:
    run = Run(source="synthetic", benchmarks=[
        {"name": "writer-x", "stats": {"median": 1.0}, "extra_info": {"items": 10}}])
    assert pipeline_stages(run).height == 0


def test_every_report_shows_the_stages_of_each_pipeline_cell() -> None:
    """The text table, the markdown and the HTML page each carry the stage table, with the
    cell that fell behind marked and its busiest thread named."""
    run = Run(source="synthetic", benchmarks=[
        _bench("pipe-held", True, {"produce": 1.0, "consume": 2.0, "decode": 6.0,
                                   "commit": 3.0}, 10.0),
        _bench("pipe-behind", False, {"produce": 4.0, "consume": 1.0, "decode": 2.0,
                                      "commit": 8.0}, 20.0),
    ])
    summary = analyse(run)
    title = "Pipeline stages (where the time goes)"
    for text in (render_table(summary), render_markdown(summary)):
        assert title in text
        row = next(line for line in text.splitlines() if "pipe-behind" in line
                   and "FELL BEHIND" in line)
        assert "commit 40%" in row  # 8 s busy of a 20 s run
    page = render_html(summary)
    section = page[page.index(title):]
    assert "pipe-held" in section and "decode 60%" in section
    assert "FELL BEHIND" in section and "commit 40%" in section
