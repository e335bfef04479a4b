"""The summary subcommand: formats, files it writes, exit codes and messages on bad input."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from synthetic import benchmark, cell_dict, document, synthetic_document, trials_document

from k2matrix.cli import main as k2matrix
from k2matrix.errors import ResultsError
from k2matrix.summary import build_summary
from k2matrix.summary.__main__ import main

FROZEN_TARGETS = Path(__file__).resolve().parent / "data" / "summary" / "targets.json"


def summary(argv: list[str]) -> int:
    """``k2matrix summary ARGV``, in this process: its exit code."""
    return k2matrix(["summary", *argv])


def write(path: Path, doc: Any) -> Path:
    path.write_text(json.dumps(doc) if not isinstance(doc, str) else doc)
    return path


def sustained_run(throughput: float = 9000.0) -> dict[str, Any]:
    benches = [
        benchmark(cell_dict("writer", "buffered", schema="v2"), [12.0, 12.1, 11.9],
                  {"items": 100000, "unit": "rows/s", "throughput": throughput,
                   "series": {"commit_latency_ms": [30.0 + i for i in range(40)]}}),
        benchmark(cell_dict("producer", "paced_latency", schema="v2"), [0.5, 0.5, 0.5],
                  {"latency_p50_ms": 2.0, "latency_p99_ms": 7.5, "latency_p999_ms": 9.0,
                   "latency_max_ms": 12.0,
                   "series": {"delivery_latency_ms": [1.0 + (i % 17) / 3 for i in range(300)]}}),
        benchmark(cell_dict("writer", "append", schema="v1", batch_size=100,
                            layout="sorted"), [0.05] * 3,
                  {"latency_p50_ms": 40.0, "latency_p99_ms": 70.0}),
        *[benchmark(cell_dict("producer", "batch", schema=s, batch_size=n),
                    [n / 20000.0 * (1.2 if s == "v2" else 1.0)] * 3,
                    {"items": n, "unit": "msg/s"})
          for s in ("v1", "v2") for n in (100, 1000, 10000)],
    ]
    return document(benches, json.loads(FROZEN_TARGETS.read_text()))


@pytest.fixture
def run_path(tmp_path: Path) -> Path:
    return write(tmp_path / "benchmarks.json", sustained_run())


@pytest.mark.parametrize("fmt", ["table", "markdown", "json", "html"])
def test_every_format_prints(run_path: Path, fmt: str,
                             capsys: pytest.CaptureFixture[str]) -> None:
    assert summary([str(run_path), "--format", fmt]) == 0
    out = capsys.readouterr().out
    assert "writer-buffered-v2" in out
    if fmt == "json":
        data = json.loads(out)
        assert set(data) >= {"verdict", "cells", "scaling"}
        assert "comparisons" not in data
        cell = next(c for c in data["cells"] if c["id"] == "producer-batch-v1-b1000")
        assert {"id", "component", "case", "schema", "batch_size", "median_s", "throughput",
                "unit", "status"} <= set(cell)
        assert (cell["throughput"], cell["unit"], cell["status"]) == (20000.0, "msg/s", "pass")
    elif fmt == "html":
        assert out.startswith("<!DOCTYPE html>")
        assert "data:image/png;base64," in out
        assert "http://" not in out and "https://" not in out and "<script src" not in out
    else:
        assert "Verdict: Good" in out


def test_results_directory_and_json_shape(tmp_path: Path) -> None:
    run_dir = tmp_path / "results" / "20261126-1"
    run_dir.mkdir(parents=True)
    write(run_dir / "benchmarks.json", sustained_run())
    out = build_summary(run_dir).to_dict()
    assert out["verdict"] == "Good"
    scaling = {(r["component"], r["case"], r["schema"]): r for r in out["scaling"]}
    assert set(scaling) == {("producer", "batch", "v1"), ("producer", "batch", "v2")}
    assert scaling[("producer", "batch", "v2")]["v2_v1_ratio"] == pytest.approx(1.2)
    assert [d["series"] for d in out["drift"]] == ["commit_latency_ms", "delivery_latency_ms"]


def test_plots_html_and_gab_export(run_path: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    plots, html, gab = tmp_path / "plots", tmp_path / "out" / "report.html", tmp_path / "g.json"
    code = summary([str(run_path), "--format", "html", "--out", str(html),
                    "--plots", str(plots), "--export-gab", str(gab)])
    assert code == 0
    assert "Verdict: Good" in capsys.readouterr().out
    names = sorted(p.name for p in plots.iterdir())
    assert names == ["commit_latency.png", "latency_delivery.png", "latency_round.png",
                     "scaling_producer.png"]
    for p in plots.iterdir():
        assert p.read_bytes().startswith(b"\x89PNG")
    text = html.read_text()
    assert text.count("data:image/png;base64,") == 4
    entries = json.loads(gab.read_text())
    assert all(set(e) == {"name", "unit", "value", "extra"} for e in entries)
    by_name = {e["name"]: e for e in entries}
    assert by_name["producer-batch-v1-b1000"]["unit"] == "s"
    assert by_name["producer-batch-v1-b1000"]["value"] == pytest.approx(0.05)
    assert by_name["producer-paced_latency-v2 p99 latency"]["value"] == 7.5  # 300 samples
    # 3 rounds and no max recorded: no tail entry
    assert not any(n.startswith("writer-append-v1-b100-sorted ") for n in by_name)


def test_blocking_verdict_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    path = write(tmp_path / "b.json", sustained_run(throughput=3000.0))
    assert summary([str(path)]) == 1
    assert "Verdict: Blocking" in capsys.readouterr().out


def test_regression_exits_1(tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    base = write(tmp_path / "base.json", trials_document(10, trials=5))
    slow = write(tmp_path / "slow.json", trials_document(10, trials=5, slowdown=1.4, seed=1))
    assert summary([str(base), "--baseline", str(base)]) == 0
    capsys.readouterr()
    assert summary([str(slow), "--baseline", str(base), "--format", "json"]) == 1
    data = json.loads(capsys.readouterr().out)
    assert data["regressions"] == 10
    assert all(set(c) >= {"id", "change", "ci_low", "ci_high", "noise_floor", "verdict"}
               for c in data["comparisons"])
    assert summary([str(slow), "--baseline", str(base),
                    "--fail-threshold", "50%"]) == 0


# (what, how to make the bad input, words the message must contain)
BAD_INPUTS: list[tuple[str, Any, list[str]]] = [
    ("missing file", None, ["no such file or directory"]),
    ("empty directory", "dir", ["not a results directory", "benchmarks.json"]),
    ("not JSON", "this is not json", ["invalid JSON", "line 1"]),
    ("JSON without benchmarks", {"hello": 1}, ["not a pytest-benchmark results file"]),
    ("benchmark without stats", {"benchmarks": [{"name": "t"}]}, ["benchmarks[0]", "stats"]),
    ("negative median", {"benchmarks": [{"name": "t", "stats": {"median": -1}}]},
     ["stats.median = -1"]),
    ("newer format", {"benchmarks": [], "k2": {"format_version": 99}},
     ["format_version = 99", "upgrade"]),
    ("bad target", {"benchmarks": [], "k2": {"targets": [{"name": "x"}]}},
     ["k2.targets[0]", "metric"]),
]


@pytest.mark.parametrize(("make", "words"), [b[1:] for b in BAD_INPUTS],
                         ids=[b[0] for b in BAD_INPUTS])
def test_bad_input_exits_2_with_a_message(tmp_path: Path, make: Any, words: list[str],
                                          capsys: pytest.CaptureFixture[str]) -> None:
    path = tmp_path / "run.json"
    if make == "dir":
        path = tmp_path / "empty"
        path.mkdir()
    elif make is not None:
        write(path, make)
    assert summary([str(path)]) == 2
    err = capsys.readouterr().err
    assert err.startswith("k2matrix: ")
    assert "Traceback" not in err
    for word in words:
        assert word in err


def test_incompatible_baseline_exits_2_unless_forced(tmp_path: Path,
                                                     capsys: pytest.CaptureFixture[str]) -> None:
    doc = synthetic_document(10)
    a = write(tmp_path / "a.json", doc)
    doc["k2"]["matrix_fingerprint"] = "f" * 16
    b = write(tmp_path / "b.json", doc)
    assert summary([str(b), "--baseline", str(a)]) == 2
    err = capsys.readouterr().err
    assert "k2.matrix_fingerprint differs" in err and "Traceback" not in err
    assert summary([str(b), "--baseline", str(a), "--force"]) == 0


def test_unwritable_output_exits_2(run_path: Path, tmp_path: Path,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    blocker = tmp_path / "file"
    blocker.write_text("x")
    assert summary([str(run_path), "--out", str(blocker / "x.txt")]) == 2
    assert "--out" in capsys.readouterr().err


def test_plain_pytest_benchmark_file(tmp_path: Path) -> None:
    """A file written by plain pytest-benchmark: axes from the test name and params, no
    targets."""
    def plain(name: str, params: dict[str, Any] | None, median: float) -> dict[str, Any]:
        entry = benchmark(cell_dict("x", "y"), [median] * 3)
        entry.update(name=name, fullname=f"tests/test_codec.py::{name}", params=params,
                     param=None, extra_info={})
        return entry

    doc = {"machine_info": {}, "commit_info": {}, "datetime": "", "version": "5.3.1",
           "benchmarks": [plain(f"test_encode[{n}]", {"size": n}, 1e-3 + 1e-6 * n)
                          for n in (10, 100, 1000)] + [plain("test_decode", None, 2e-3)]}
    out = build_summary(write(tmp_path / "plain.json", doc)).to_dict()
    cells = {c["id"]: c for c in out["cells"]}
    assert set(cells) == {"test_encode[10]", "test_encode[100]", "test_encode[1000]",
                          "test_decode"}
    enc = cells["test_encode[100]"]
    assert (enc["component"], enc["case"], enc["size"], enc["status"]) == \
        ("codec", "encode", 100, "no_target")
    assert enc["unit"] == "ops/s"
    assert "size" not in cells["test_decode"]
    assert out["verdict"] == "Good"


def test_empty_run_is_an_error_and_concurrency_note(
        tmp_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    """A file in which no cell was measured is bad input (exit 2 naming the file and the
    fix), never a Good verdict: a CI job whose sweep ran nothing must not pass."""
    empty = write(tmp_path / "empty.json", {"benchmarks": []})
    with pytest.raises(ResultsError, match="no cell was measured"):
        build_summary(empty)
    assert summary([str(empty)]) == 2
    err = capsys.readouterr().err
    assert str(empty) in err and "run a sweep" in err and "-k selection" in err
    doc = sustained_run()
    for bench in doc["benchmarks"]:
        bench["extra_info"]["k2"]["concurrent"] = True
    out = build_summary(write(tmp_path / "conc.json", doc)).to_dict()
    assert any("contention" in note for note in out["notes"])


def test_unmerged_run_directory_reads_the_journals(tmp_path: Path) -> None:
    """An interrupted run has journals and meta.json but no benchmarks.json."""
    doc = sustained_run()
    run_dir = tmp_path / "run"
    run_dir.mkdir()
    meta = {**doc["k2"], "machine_info": {}, "commit_info": {}, "versions": {}}
    write(run_dir / "meta.json", meta)
    lines = []
    for i, bench in enumerate(doc["benchmarks"]):
        cell = bench["extra_info"]["k2"]["cell"]
        lines.append({"format_version": 1, "nodeid": f"t::x[{cell['id']}]", "cell": cell,
                      "status": "passed", "error": None, "worker": "gw0", "started": i,
                      "finished": i + 0.5, "benchmark": bench})
    lines.append({"format_version": 1, "nodeid": "t::x[writer-append-v2-b100-sorted]",
                  "cell": {"id": "writer-append-v2-b100-sorted"}, "status": "failed",
                  "error": "E   AssertionError: row count", "worker": "gw1", "started": 0,
                  "finished": 1, "benchmark": None})
    (run_dir / "journal-gw0.jsonl").write_text("\n".join(json.dumps(x) for x in lines) + "\n")
    out = build_summary(run_dir).to_dict()
    assert len(out["cells"]) == len(doc["benchmarks"])
    assert out["failed"][0]["id"] == "writer-append-v2-b100-sorted"
    assert out["verdict"] == "Needs Investigation"
    assert any("journals" in n for n in out["notes"])


def test_ten_thousand_cells(tmp_path: Path) -> None:
    """10K cells (with raw rounds) are summarized, fitted and compared; the time is
    measured outside the unit tests (see the summary's README notes in the report)."""
    path = write(tmp_path / "big.json", synthetic_document(10_000))
    out = build_summary(path).to_dict()
    assert len(out["cells"]) == 10_000
    assert out["counts"]["cells"] == 10_000
    assert len(out["scaling"]) == 2_000  # 10K cells / 5 dataset sizes
    assert out["schema_ratios"][0]["pairs"] == 5_000
    compared = build_summary(path, baseline=path).to_dict()
    assert compared["regressions"] == 0 and len(compared["comparisons"]) == 10_000


def test_module_entry_point(run_path: Path, capsys: pytest.CaptureFixture[str]) -> None:
    assert main([str(run_path), "--format", "markdown"]) == 0
    assert capsys.readouterr().out.startswith("# k2matrix summary")


def test_group_labels_keep_one_order_whatever_ran_first(tmp_path: Path) -> None:
    """The scaling table's group label lists the axes in one order (by name), however the
    cells' axes happened to be ordered in the run (here: the same cells, their axes
    recorded in opposite orders)."""
    from k2matrix.summary.render import render_table

    def cells(order: tuple[str, str]) -> list[dict[str, Any]]:
        out = []
        for layout in ("sorted", "unpartitioned"):
            for engine in ("polars", "duckdb_parquet"):
                for n in (100_000, 1_000_000, 10_000_000):
                    params = {"layout": layout, "engine": engine}
                    cell = cell_dict("query", "latency", schema="v1",
                                     **{k: params[k] for k in order}, dataset_size=n)
                    out.append(benchmark(cell, [0.001 + n * 1e-9] * 3))
        return out

    tables = []
    for order in (("layout", "engine"), ("engine", "layout")):
        path = write(tmp_path / f"{order[0]}.json", document(cells(order)))
        text = render_table(build_summary(path))
        tables.append(text.split("Scaling", 1)[1].split("\n\n", 1)[0])
    assert tables[0] == tables[1]
    assert "engine=duckdb_parquet layout=sorted" in tables[0]
