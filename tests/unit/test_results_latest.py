"""Real sweeps (pytester) of a small matrix whose cells do real k2matrix work: the run's
``meta.json`` records its environment; ``results/latest-<profile>`` points at the last
full run and a partial run (a ``-k`` selection, a failure) does not move it; ``merge``
keeps a run's trials, also when the run is merged alone."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from matrices import matrix_toml
from sweeps import run_sweep

from k2matrix.cli import main as k2matrix
from k2matrix.compare.trial_figures import trial_values
from k2matrix.results.load import load_run
from k2matrix.results.merge import merge_dirs

pytest_plugins = ["pytester"]

MATRIX = matrix_toml(
    axes={"batch_sizes": [10, 20]},
    cases={"writer.arrow_conversion": {"sweep": ["schemas", "batch_sizes"]}},
    profiles={"smoke": {"description": "all four cells"}},
    targets={"conversion": {"metric": "median_ms", "direction": "lower", "target": 1000,
                            "critical": 5000, "applies_to": ["writer.arrow_conversion"]}},
)

SUITE = """
import os

import pytest

from k2matrix.workload.generate import WorkloadSpec, generate_records
from k2matrix.schemas import records_to_arrow


@pytest.mark.k2(component="writer", case="arrow_conversion")
def test_convert(k2_cell, benchmark, k2_rounds):
    assert os.environ.get("K2_TEST_FAIL") != k2_cell.id, "injected failure"
    records = generate_records(WorkloadSpec.from_cell(k2_cell, rows=k2_cell.params["batch_size"]))
    table = benchmark.pedantic(records_to_arrow, args=(records, k2_cell.schema),
                               rounds=k2_rounds(3), iterations=1)
    assert table.num_rows == len(records)
    benchmark.extra_info.update(items=len(records), unit="rows/s")
"""


@pytest.fixture
def project(pytester: pytest.Pytester) -> pytest.Pytester:
    pytester.makefile(".toml", matrix=MATRIX)
    pytester.makepyfile(test_suite=SUITE)
    return pytester




def _target(link: Path) -> str:
    return link.resolve().name


def test_latest_profile_points_at_the_last_full_run(project: pytest.Pytester) -> None:
    results = project.path / "results"
    run_sweep(project, "--k2-run-id=full1").assert_outcomes(passed=4)
    assert _target(results / "latest") == _target(results / "latest-smoke") == "full1"
    env = json.loads((results / "full1" / "meta.json").read_text())["environment"]
    assert env["recorded"] and env["backends"]["kafka"]["mode"] == "mock"
    assert env["load"]["start"] and env["load"]["end"]

    run_sweep(project, "--k2-run-id=some", "-k", "b10").assert_outcomes(passed=2, deselected=2)
    assert _target(results / "latest") == "some"
    assert _target(results / "latest-smoke") == "full1"  # a -k selection is partial
    assert build_verdict(results / "some") == "Incomplete"

    failing = "writer-arrow_conversion-v1-b10"
    run_sweep(project, "--k2-run-id=broken", env={"K2_TEST_FAIL": failing}).assert_outcomes(
        passed=3, failed=1)
    assert _target(results / "latest") == "broken"
    assert _target(results / "latest-smoke") == "full1"  # a failure is no full run

    run_sweep(project, "--k2-run-id=full2").assert_outcomes(passed=4)
    assert _target(results / "latest") == _target(results / "latest-smoke") == "full2"
    assert build_verdict(results / "latest-smoke") == "Good"


def build_verdict(run: Path) -> str:
    from k2matrix.summary import build_summary

    return build_summary(run).verdict.verdict


def test_merge_keeps_a_runs_trials(project: pytest.Pytester,
                                   capsys: pytest.CaptureFixture[str]) -> None:
    results = project.path / "results"
    first = run_sweep(project, "--k2-run-id=t3", "--k2-trials=3", "-k", "v1")
    assert first.ret == 0
    first.stderr.fnmatch_lines(["*run t3: 3 trial(s), 2 cells passed*"])
    assert {len(v) for v in trial_values(load_run(results / "t3")).values()} == {3}

    doc = merge_dirs([results / "t3"], results / "alone")  # merging it alone works
    assert len(doc["benchmarks"]) == 2
    assert {len(v) for v in trial_values(load_run(results / "alone")).values()} == {3}
    assert json.loads((results / "alone" / "meta.json").read_text())["trials"]["run"] == 3

    assert run_sweep(project, "--k2-run-id=t3b", "--k2-trials=3", "-k", "v2").ret == 0
    out = results / "both"
    assert k2matrix(["merge", str(results / "t3"), str(results / "t3b"), "--results",
                     str(out)]) == 0
    assert "each cell keeps its 3 trials" in capsys.readouterr().out
    merged = trial_values(load_run(out))
    assert len(merged) == 4 and {len(v) for v in merged.values()} == {3}
    # and a merged run merges again, trials and all
    again = merge_dirs([out], results / "again")
    assert len(again["benchmarks"]) == 4
    assert {len(v) for v in trial_values(load_run(results / "again")).values()} == {3}
