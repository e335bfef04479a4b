"""The HTML report and its charts: human tick labels that never repeat, the charts a real
smoke run gives, the page's order (verdict and causes first, contents), sortable tables,
the environment, the comparison chart of a --baseline report, the export's tails."""

from __future__ import annotations

import json
import re
from pathlib import Path
from typing import Any

import pytest
from synthetic import trials_document

from k2matrix.summary import build_summary
from k2matrix.summary.canvas import (
    figure,
    human_axis,
    human_count,
    human_time,
    percentile_axis,
    short_labels,
)
from k2matrix.summary.export import gab_entries
from k2matrix.summary.html import render_html
from k2matrix.summary.latency_plots import _commit_series
from k2matrix.summary.plots import charts
from k2matrix.summary.report_tables import sort_key

DATA = Path(__file__).resolve().parent / "data" / "summary"
SMOKE = DATA / "smoke-2026-12-05.json"


def tick_labels(values: list[float], kind: str = "time") -> list[str]:
    fig = figure()
    ax = fig.subplots()
    ax.plot(range(len(values)), values)
    human_axis(ax, "y", values, kind)
    fig.canvas.draw()
    lo, hi = sorted(ax.get_ylim())
    return [t.get_text() for t in ax.get_yticklabels()
            if t.get_text() and lo <= t.get_position()[1] <= hi]


@pytest.mark.parametrize("values", [
    [1e-4, 2e-3, 0.05, 1.2, 9.0],  # 5 decades: log, one unit per tick
    [0.2, 0.21, 0.22, 0.25],  # a narrow band (was 2e-01 four times)
    [3e-4, 4e-2],  # was 3e-04e-02, overlapping
    [0.001, 0.0012, 0.0013],
    [12.0, 14.0, 19.0],
])
def test_time_ticks_are_human_and_distinct(values: list[float]) -> None:
    labels = tick_labels(values)
    assert len(labels) >= 2
    assert len(set(labels)) == len(labels), labels
    assert all(re.fullmatch(r"0|[\d.]+ (ns|µs|ms|s)", label) for label in labels), labels


def test_count_and_percent_ticks() -> None:
    labels = tick_labels([100.0, 1000.0, 10_000.0], "count")
    assert {"100", "1K", "10K"} <= set(labels)
    assert "50%" in tick_labels([0.01, 0.5], "percent")


def test_human_numbers() -> None:
    assert human_time(0.0123) == "12.3 ms" and human_time(2.5e-6) == "2.5 µs"
    assert human_time(0.0) == "0" and human_count(12_500) == "12.5K"
    assert sort_key("12.3 ms") == pytest.approx(0.0123)
    assert sort_key("24.2K msg/s") == pytest.approx(24_200)
    assert sort_key("+5.0%") == pytest.approx(0.05) and sort_key("-5.0%") == -0.05
    assert sort_key("no_target") == "no_target"


def test_percentile_axis_labels() -> None:
    fig = figure()
    ax = fig.subplots()
    percentile_axis(ax, 5000.0)
    assert [t.get_text() for t in ax.get_xticklabels()] == ["50%", "90%", "99%", "99.9%"]
    percentile_axis(ax, 7.0, [7, 7])
    assert [t.get_text() for t in ax.get_xticklabels()] == ["50%", "max of 7"]


def test_short_labels_drop_shared_words() -> None:
    ids = ["query-latency-filtered-duckdb_parquet-n100000",
           "query-latency-filtered-polars-n100000"]
    assert short_labels(ids) == ["duckdb_parquet", "polars"]
    assert short_labels(["a-b", "a-b"]) == ["a-b", "a-b"]


@pytest.fixture(scope="module")
def smoke() -> Any:
    return build_summary(SMOKE)


def test_charts_of_a_real_smoke_run(smoke: Any) -> None:
    made = {c.name: c for c in charts(smoke)}
    assert set(made) == {"scaling_producer.png", "scaling_query.png", "scaling_writer.png",
                         "latency_delivery.png", "latency_freshness.png",
                         "latency_commit.png", "latency_query.png", "latency_round.png",
                         "commit_latency.png", "pipeline_over_time.png"}
    assert all(c.png.startswith(b"\x89PNG") and c.caption for c in made.values())
    assert "bootstrap interval" in made["scaling_writer.png"].caption
    # CPU time never on a latency axis
    assert not any("cpu" in name for name in _commit_series(smoke))


def test_page_opens_on_the_verdict_with_contents(smoke: Any) -> None:
    page = render_html(smoke)
    main = page.index("<main>")
    assert page.index('id="verdict"') < page.index("<h2", main)
    assert "Tightest margins" in page  # a Good verdict: the closest calls
    anchors = re.findall(r'<li><a href="#([^"]+)">', page)
    assert anchors[:3] == ["verdict", "environment", "cells"]
    for anchor in anchors:
        assert f'id="{anchor}"' in page, anchor
    assert page.count("data:image/png;base64,") == 10
    assert 'class="sortable"' in page and "data-v=" in page
    assert "<script src" not in page and "https://" not in page
    # one meaning per column: latency by kind, tails only where resolved
    assert 'id="latency-delivery-table"' in page and "max of 7:" in page
    assert "efficiency: the cell&#x27;s throughput as a share of its in-run ceiling" in page
    assert "lag_t_s" not in page


def test_causes_of_a_verdict_short_of_good(tmp_path: Path) -> None:
    from test_summary_command import sustained_run

    path = tmp_path / "run.json"
    path.write_text(json.dumps(sustained_run(throughput=3000.0)))
    page = render_html(build_summary(path), with_plots=False)
    verdict = page[page.index('id="verdict"'):page.index("</section>")]
    assert "What decided the verdict" in verdict and "writer-buffered-v2" in verdict
    assert "below_critical" in verdict and "3K rows/s" in verdict


def test_environment_when_the_summary_has_one(smoke: Any) -> None:
    before = smoke.environment  # the fixture's run predates the record: unknown
    assert before.get("recorded") is False
    assert 'id="environment"' in render_html(smoke, with_plots=False)
    smoke.environment = {"backends": {"kafka": {"mode": "mock"}}, "git": {"commit": "abc"},
                         "load": [0.5, 0.4, 0.3]}
    try:
        page = render_html(smoke, with_plots=False)
    finally:
        smoke.environment = before
    assert 'id="environment"' in page and "backends.kafka.mode" in page
    assert "<td>[0.5, 0.4, 0.3]</td>" in page


def test_baseline_report_charts_every_change(tmp_path: Path) -> None:
    base = tmp_path / "base.json"
    slow = tmp_path / "slow.json"
    base.write_text(json.dumps(trials_document(6, trials=5)))
    slow.write_text(json.dumps(trials_document(6, trials=5, slowdown=1.4, seed=1)))
    summary = build_summary(slow, baseline=base)
    made = {c.name: c for c in charts(summary)}
    assert "comparison.png" in made and "threshold" in made["comparison.png"].caption
    page = render_html(summary)
    assert page.index('id="comparison"') < page.index('id="cells"')


def test_export_names_the_tail_its_samples_resolve(smoke: Any) -> None:
    names = {e["name"]: e for e in gab_entries(smoke)}
    assert "producer-batch-v1-b100 p99 latency" in names  # 500 samples
    assert "writer-append-v1-b100-unpartitioned max latency" in names  # 7 rounds
    assert "writer-append-v1-b100-unpartitioned p99 latency" not in names
    assert "over 7 samples" in names["writer-append-v1-b100-unpartitioned max latency"][
        "extra"]
