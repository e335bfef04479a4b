"""The report of a search on the deterministic planted cliff: the two dimensions that moved
the figure most are the cliff's, the picture is a PNG, the table says what was found before
and after shrinking, and a written counterexample is found again by id."""

from __future__ import annotations

from pathlib import Path

import pytest
from test_explore_search import RATE, cliff

from k2matrix.errors import K2Error
from k2matrix.explore.picture import influence, write_picture
from k2matrix.explore.render import example_view, render_table
from k2matrix.explore.search import search
from k2matrix.explore.space import CellFactory
from k2matrix.explore.store import find_cell, new_run_dir, write_counterexamples
from k2matrix.matrix import parse_matrix

MATRIX = parse_matrix((Path(__file__).resolve().parents[2] / "matrix.toml").read_text())


def test_report_of_the_planted_cliff(tmp_path: Path) -> None:
    result = search(RATE, cliff, budget=120, seed=0)
    assert result.shrunk is not None and result.first_violation is not None
    top = [k for k, _ in influence(RATE, result.examples)[:2]]
    assert set(top) == {"batch_size", "symbols"}
    png = write_picture(RATE, result.examples, result.shrunk, tmp_path / "explore.png")
    assert png is not None and png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    report = {"examples": len(result.examples), "failures": 0, "seconds": 1.0,
              "total_seconds": 2.0, "stopped": result.stopped,
              "worst": example_view(RATE, result.worst),
              "found": example_view(RATE, result.first_violation),
              "counterexample": example_view(RATE, result.shrunk), "confirmed": False,
              "confirmation": {"trials": [[1.0, 2.0]], "reason": "not confirmed: x"},
              "influence": [["batch_size", 0.5]], "picture": str(png),
              "run_dir": str(tmp_path)}
    report.update(budget=result.plan.to_dict() if result.plan else None,
                  measurements=result.measurements, search_stopped=result.search_stopped,
                  shrinking={"stopped": result.shrink_stopped, "complete": True},
                  region=[example_view(RATE, e) for e in result.region], noise=[])
    text = render_table(RATE, report)
    assert "violation before shrinking" in text and "after shrinking: 2000 at" in text
    assert "NOT CONFIRMED" in text and "throughput >= 10000" in text
    assert "budget 120 measurements: the search 72" in text
    assert f"violating region: {len(result.region)} examples" in text
    assert "shrinking: shrunk in" in text
    # cut short: never "after shrinking"; too few examples: no influence
    report.update(shrinking={"stopped": "shrinking cut short by the budget after 3 steps",
                             "complete": False}, influence=[])
    text = render_table(RATE, report)
    assert "after shrinking" not in text and "where shrinking stopped (not the simplest)" in text
    assert "too few examples vary one to tell" in text


def test_influence_needs_examples_that_vary_a_dimension() -> None:
    few = search(RATE, cliff, budget=5, seed=0)
    assert influence(RATE, few.examples) == []


def test_written_counterexample_is_found_by_id(tmp_path: Path) -> None:
    factory = CellFactory(MATRIX, RATE)
    cell = factory.cell({"batch_size": 30001, "symbols": 801, "skew": 0.0, "null_ratio": 0.0,
                         "layout": "sorted", "schema": "v2"})
    assert cell.id.startswith("writer-append-v2-b30001-sorted-x")
    assert cell.settings["symbols"] == 801 and cell.params["storage"] == "local"
    run_dir = new_run_dir(tmp_path, "writer_append_rate")
    write_counterexamples(run_dir, [cell], {cell.id: {"property": "writer_append_rate"}})
    again, source = find_cell(tmp_path, cell.id)
    assert again == cell and source.parent == run_dir
    with pytest.raises(K2Error, match="no counterexample with this id"):
        find_cell(tmp_path, "writer-append-nope")
