"""The sweep machinery end to end, with pytester: real pytest (and pytest-xdist) runs of a
small matrix whose cells do real k2matrix work (generating trades and converting them to
Arrow), checked through the journal and the merged pytest-benchmark JSON."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from matrices import matrix_toml
from sweeps import run_sweep

from k2matrix.errors import ResultsError
from k2matrix.results.journal import read_run
from k2matrix.results.merge import merge_dirs

pytest_plugins = ["pytester"]


def tiny_matrix(batch_sizes: tuple[int, ...] = (10, 20, 30), **profiles: Any) -> str:
    """One case over schemas and batch sizes (six cells), a target on it."""
    return matrix_toml(
        axes={"batch_sizes": list(batch_sizes)},
        cases={"writer.arrow_conversion": {"sweep": ["schemas", "batch_sizes"]}},
        profiles={"smoke": {"description": "all six cells"}, **profiles},
        targets={"conversion": {"metric": "median_ms", "direction": "lower", "target": 100,
                                "critical": 1000, "applies_to": ["writer.arrow_conversion"]}},
    )


TINY_MATRIX = tiny_matrix()

SUITE = """
import os
import signal

import pytest

from k2matrix.workload.generate import WorkloadSpec, generate_records
from k2matrix.schemas import records_to_arrow


@pytest.mark.k2(component="writer", case="arrow_conversion")
def test_convert(k2_cell, benchmark, k2_rounds):
    if os.environ.get("K2_TEST_KILL") == k2_cell.id:
        os.kill(os.getpid(), signal.SIGKILL)  # a worker killed mid-sweep
    assert os.environ.get("K2_TEST_FAIL") != k2_cell.id, "injected failure"
    spec = WorkloadSpec.from_cell(k2_cell, rows=k2_cell.params["batch_size"])
    records = generate_records(spec)
    table = benchmark.pedantic(records_to_arrow, args=(records, k2_cell.schema),
                               rounds=k2_rounds(3), iterations=1)
    assert table.num_rows == len(records)
    benchmark.extra_info.update(items=len(records), unit="rows/s", verified="row count")
"""

CELL_IDS = {f"writer-arrow_conversion-{s}-b{b}" for s in ("v1", "v2") for b in (10, 20, 30)}


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", matrix=TINY_MATRIX)
    pytester.makepyfile(test_suite=SUITE)
    return pytester




def _merged(run_dir: Path) -> dict[str, Any]:
    doc: dict[str, Any] = json.loads((run_dir / "benchmarks.json").read_text())
    return doc


def _cell_ids(doc: dict[str, Any]) -> set[str]:
    return {b["extra_info"]["k2"]["cell"]["id"] for b in doc["benchmarks"]}


def test_xdist_sweep_times_every_cell_into_one_merged_file(project: pytest.Pytester) -> None:
    result = run_sweep(project, "-n", "2", "--benchmark-only", "--k2-run-id=r1",
                  "--benchmark-json=out.json")
    result.assert_outcomes(passed=6)
    assert "automatically disabled" not in result.stdout.str()
    doc = _merged(project.path / "results" / "r1")
    assert _cell_ids(doc) == CELL_IDS
    workers = set()
    for b in doc["benchmarks"]:
        assert b["stats"]["rounds"] >= 3 and b["stats"]["median"] > 0
        assert len(b["stats"]["data"]) == b["stats"]["rounds"]
        k2 = b["extra_info"]["k2"]
        assert k2["workers"] == 2 and k2["affinity"]
        # each worker's libraries get their share of the cores, not all of them
        assert k2["threads"] == max(1, len(os.sched_getaffinity(0)) // 2)
        assert b["extra_info"]["throughput"] > 0
        workers.add(k2["worker"])
    assert workers <= {"gw0", "gw1"}
    assert doc["k2"]["matrix_fingerprint"] and doc["k2"]["versions"]["pyiceberg"]
    assert doc["k2"]["cells_missing"] == [] and doc["k2"]["failed"] == []
    # --benchmark-json is pytest-benchmark's own file for the whole run, from the controller
    own = json.loads((project.path / "out.json").read_text())
    assert {b["fullname"] for b in own["benchmarks"]} == {
        b["fullname"] for b in doc["benchmarks"]}
    # one results table for the whole run, printed by the controller
    assert result.stdout.str().count("benchmark: 6 tests") == 1
    journals = sorted(p.name for p in (project.path / "results" / "r1").glob("journal-*"))
    assert journals and all(name.startswith("journal-gw") for name in journals)


def test_without_xdist_the_same_files_are_written(project: pytest.Pytester) -> None:
    result = run_sweep(project, "-n", "0", "--k2-run-id=r0")
    result.assert_outcomes(passed=6)
    doc = _merged(project.path / "results" / "r0")
    assert _cell_ids(doc) == CELL_IDS
    assert all(b["extra_info"]["k2"]["worker"] == "main" for b in doc["benchmarks"])
    assert all(b["extra_info"]["k2"]["concurrent"] is False for b in doc["benchmarks"])
    assert all(b["extra_info"]["k2"]["threads"] is None for b in doc["benchmarks"])


def test_killed_worker_keeps_other_cells_and_reports_the_crash(project: pytest.Pytester
                                                               ) -> None:
    victim = "writer-arrow_conversion-v2-b20"
    result = run_sweep(project, "-n", "2", "--k2-run-id=rk", env={"K2_TEST_KILL": victim})
    outcomes = result.parseoutcomes()
    assert outcomes.get("passed") == 5 and outcomes.get("failed") == 1
    doc = _merged(project.path / "results" / "rk")
    assert _cell_ids(doc) == CELL_IDS - {victim}
    failed = doc["k2"]["failed"]
    assert len(failed) == 1 and victim in failed[0]["nodeid"]
    assert failed[0]["status"] == "crashed"
    assert victim in doc["k2"]["cells_missing"]


def test_resume_runs_only_missing_or_failed_cells(project: pytest.Pytester) -> None:
    broken = "writer-arrow_conversion-v1-b30"
    first = run_sweep(project, "--k2-run-id=rr", env={"K2_TEST_FAIL": broken})
    first.assert_outcomes(passed=5, failed=1)
    run_dir = project.path / "results" / "rr"
    assert _cell_ids(_merged(run_dir)) == CELL_IDS - {broken}
    assert _merged(run_dir)["k2"]["failed"][0]["error"]

    second = run_sweep(project, "-n", "2", f"--k2-resume={run_dir}")
    second.assert_outcomes(passed=1)
    assert "[1 item]" in second.stdout.str()  # the five passed cells were deselected
    doc = _merged(run_dir)
    assert _cell_ids(doc) == CELL_IDS
    assert doc["k2"]["failed"] == [] and doc["k2"]["cells_missing"] == []


def test_shards_merge_into_the_unsharded_cell_set(project: pytest.Pytester) -> None:
    run_sweep(project, "--k2-shard=1/2", "--k2-run-id=s1").assert_outcomes(passed=3)
    run_sweep(project, "--k2-shard=2/2", "--k2-run-id=s2").assert_outcomes(passed=3)
    results = project.path / "results"
    assert _cell_ids(_merged(results / "s1")).isdisjoint(_cell_ids(_merged(results / "s2")))
    doc = merge_dirs([results / "s1", results / "s2"], results / "all")
    assert _cell_ids(doc) == CELL_IDS
    assert doc["k2"]["cells_missing"] == []


def test_incompatible_merge_is_refused_naming_the_key(project: pytest.Pytester) -> None:
    run_sweep(project, "--k2-shard=1/2", "--k2-run-id=a").assert_outcomes(passed=3)
    run_sweep(project, "--k2-shard=2/2", "--k2-run-id=b").assert_outcomes(passed=3)
    results = project.path / "results"
    meta_path = results / "b" / "meta.json"
    meta = json.loads(meta_path.read_text())
    meta["machine_kind"]["cpu_count"] = 64
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ResultsError, match=r"machine_kind\.cpu_count differs"):
        merge_dirs([results / "a", results / "b"], results / "ab")
    meta["matrix_fingerprint"] = "0" * 16
    meta_path.write_text(json.dumps(meta))
    with pytest.raises(ResultsError, match="matrix_fingerprint differs"):
        merge_dirs([results / "a", results / "b"], results / "ab")
    cli = subprocess.run(
        [sys.executable, "-m", "k2matrix.cli", "merge", str(results / "a"), str(results / "b"),
         "--out", str(results / "ab")], capture_output=True, text=True, check=False)
    assert cli.returncode == 2
    assert "matrix_fingerprint differs" in cli.stderr and "Traceback" not in cli.stderr
    forced = merge_dirs([results / "a", results / "b"], results / "ab", force=True)
    assert _cell_ids(forced) == CELL_IDS


def test_bad_matrix_stops_the_run_with_every_problem(project: pytest.Pytester) -> None:
    project.makefile(".toml", matrix=tiny_matrix((10, -5, 0)))
    result = run_sweep(project)
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "axes.batch_sizes[1] = -5: batch sizes must be positive integers" in err
    assert "axes.batch_sizes[2] = 0" in err
    assert "Traceback" not in err


def test_k2matrix_run_wraps_the_sweep(project: pytest.Pytester) -> None:
    suites = project.path / "perf"
    suites.mkdir()
    (project.path / "test_suite.py").rename(suites / "test_suite.py")
    mp = pytest.MonkeyPatch()
    mp.delenv("PYTEST_XDIST_WORKER", raising=False)
    try:
        cli = subprocess.run(
            [sys.executable, "-m", "k2matrix.cli", "run", "--matrix", "matrix.toml",
             "--tests", "perf", "-n", "2", "--k2-run-id=viacli", "-q"],
            cwd=project.path, capture_output=True, text=True, check=False, timeout=300)
    finally:
        mp.undo()
    assert cli.returncode == 0, cli.stdout[-2000:] + cli.stderr[-2000:]
    doc = _merged(project.path / "results" / "viacli")
    assert _cell_ids(doc) == CELL_IDS
    assert doc["k2"]["workers"] == 2
    # every cell's journal line carries k2matrix's own cost for it
    records = read_run(project.path / "results" / "viacli")
    assert len(records) == 6 and all((r.overhead_s or 0.0) > 0 for r in records)
    assert (project.path / "results" / "latest").resolve() == (
        project.path / "results" / "viacli").resolve()


def test_resume_refuses_another_profile_naming_the_key(project: pytest.Pytester) -> None:
    run_sweep(project, "--k2-run-id=rp").assert_outcomes(passed=6)
    project.makefile(".toml", matrix=tiny_matrix(other={"description": "x"}))
    result = run_sweep(project, "--k2-profile=other",
                       f"--k2-resume={project.path / 'results' / 'rp'}")
    assert result.ret == pytest.ExitCode.USAGE_ERROR
    err = result.stderr.str()
    assert "profile differs" in err and "Traceback" not in err
