"""Sweeps across hosts, without root: real pytest-xdist proxy gateways (``--px``) on this
machine, each naming its host with ``K2_HOST`` and starting its worker in another folder,
exactly as ``--px id=h1//ssh=HOST//python=PY --tx popen//via=h1`` does on another machine
(CI runs that too, on network namespaces: .ci/run, docs/hosts.md)."""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
from pathlib import Path
from typing import Any

import execnet
import pytest
from tiny_project import CELLS, make_project

from k2matrix.plugin.gateways import check_gateway
from k2matrix.plugin.threads import THREAD_VARIABLES
from k2matrix.results.journal import read_run
from k2matrix.results.merge import merge_dirs


def _pytest(root: Path, *args: str, timeout: float = 240) -> subprocess.CompletedProcess[str]:
    """``python -m pytest ARGS`` in ``root`` as a user runs it (no outer xdist state)."""
    env = {k: v for k, v in os.environ.items()
           if k not in THREAD_VARIABLES and not k.startswith("PYTEST_") and k != "K2_HOST"}
    return subprocess.run([sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
                          cwd=root, capture_output=True, text=True, timeout=timeout,
                          env=env, check=False)


def _two_hosts(elsewhere: Path) -> list[str]:
    """Two proxies, each a host of its own name, whose interpreter starts in ``elsewhere``
    (as an ssh login starts in the home folder)."""
    python = elsewhere / "python-elsewhere"
    python.write_text(f"#!/bin/sh\ncd {elsewhere} && exec {sys.executable} \"$@\"\n")
    python.chmod(0o755)
    out = ["--dist=load"]
    for name in ("host-a", "host-b"):
        out += ["--px", f"id={name}//popen//python={python}//env:K2_HOST={name}",
                "--tx", f"popen//via={name}"]
    return out


@pytest.fixture(scope="module")
def cross_host_run(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    """The tiny project swept on two hosts, the matrix given relative to the controller's
    folder while the workers start in another one."""
    root = make_project(tmp_path_factory.mktemp("hosts") / "project")
    elsewhere = tmp_path_factory.mktemp("elsewhere")
    result = _pytest(root, "tests/performance", "--k2-matrix=matrix.toml",
                     "--k2-profile=smoke", "--k2-run-id=x", "--benchmark-only",
                     *_two_hosts(elsewhere))
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-2000:]
    return root, root / "results" / "x"


def _benchmarks(run_dir: Path) -> list[dict[str, Any]]:
    doc = json.loads((run_dir / "benchmarks.json").read_text())
    benches: list[dict[str, Any]] = doc["benchmarks"]
    return benches


def test_every_record_is_journaled_by_the_controller_naming_its_host(
        cross_host_run: tuple[Path, Path]) -> None:
    _, run_dir = cross_host_run
    records = read_run(run_dir)
    assert {r.cell_id for r in records} == CELLS
    assert {r.host for r in records} == {"host-a", "host-b"}
    # the lines are the controller's: one journal per worker, each with its worker's cells
    for path in run_dir.glob("journal-*.jsonl"):
        lines = [json.loads(line) for line in path.read_text().splitlines()]
        assert {line["worker"] for line in lines} == {path.stem.removeprefix("journal-")}
    by_host = {b["extra_info"]["k2"]["host"] for b in _benchmarks(run_dir)}
    assert by_host == {"host-a", "host-b"}


def test_cells_on_other_hosts_are_not_concurrent_and_budgets_are_per_host(
        cross_host_run: tuple[Path, Path]) -> None:
    _, run_dir = cross_host_run
    for bench in _benchmarks(run_dir):
        k2 = bench["extra_info"]["k2"]
        # one worker per host: nothing ran beside it on its host, whatever the other did
        assert k2["concurrent"] is False and k2["overlap"] == 0.0, k2
        assert k2["workers"] == 2 and k2["host_workers"] == 1
        assert k2["threads"] is None  # alone on its host: the libraries keep every core
    meta = json.loads((run_dir / "meta.json").read_text())
    assert {"host-a", "host-b"} <= set(meta["hosts"])
    assert meta["hosts"]["host-a"]["machine_kind"]["cpu_count"] == os.cpu_count()
    doc = json.loads((run_dir / "benchmarks.json").read_text())
    assert doc["k2"]["hosts"]["host-a"]["cells"] + doc["k2"]["hosts"]["host-b"]["cells"] \
        == len(CELLS)


def test_merge_and_resume_work_on_the_cross_host_run(cross_host_run: tuple[Path, Path],
                                                     tmp_path: Path) -> None:
    root, run_dir = cross_host_run
    doc = merge_dirs([run_dir], tmp_path / "merged")
    assert doc["k2"]["cells_passed"] == len(CELLS)
    assert {b["extra_info"]["k2"]["host"] for b in doc["benchmarks"]} == {"host-a", "host-b"}
    # a copy of the run that lost one cell's line: resuming runs that cell only
    copy = root / "results" / "x-resumed"
    shutil.copytree(run_dir, copy)
    lost = "writer-arrow_conversion-v2-b400"
    for path in copy.glob("journal-*.jsonl"):
        path.write_text("".join(line + "\n" for line in path.read_text().splitlines()
                                if json.loads(line)["cell"]["id"] != lost))
    result = _pytest(root, "tests/performance", "--k2-matrix=matrix.toml",
                     "--k2-profile=smoke", f"--k2-resume={copy}", "--benchmark-only",
                     *_two_hosts(tmp_path))
    assert result.returncode == 0, result.stdout[-2000:]
    assert "1 passed" in result.stdout
    resumed = read_run(copy)
    assert {r.cell_id for r in resumed} == CELLS
    assert next(r.host for r in resumed if r.cell_id == lost) in {"host-a", "host-b"}


def test_a_missing_matrix_on_a_host_is_named_with_the_fix(tmp_path: Path) -> None:
    gateway = execnet.makegateway("popen//env:K2_HOST=far-away")
    try:
        with pytest.raises(pytest.UsageError) as caught:
            check_gateway(gateway, tmp_path / "matrix.toml", [tmp_path])
    finally:
        gateway.exit()
    message = str(caught.value)
    assert "host far-away" in message and f"no matrix file at {tmp_path}/matrix.toml" in message
    assert "same paths on every host" in message and "docs/hosts.md" in message


def test_the_probe_reports_the_host_and_its_machine(tmp_path: Path) -> None:
    (tmp_path / "matrix.toml").write_text("")
    gateway = execnet.makegateway("popen//env:K2_HOST=probe-host")
    try:
        facts = check_gateway(gateway, tmp_path / "matrix.toml", [tmp_path])
    finally:
        gateway.exit()
    assert facts["host"] == "probe-host"
    assert facts["usable_cores"] == len(os.sched_getaffinity(0))
    assert facts["machine_kind"]["python"] == ".".join(map(str, sys.version_info[:3]))


@pytest.mark.parametrize(("args", "expected"), [
    (["--dist=load", "--tx", "ssh=nobody@nowhere//python=python3"],
     "k2matrix runs remote workers through a proxy gateway"),
    (["--dist=load", "--tx", "popen//via=nope"], "no proxy gateway has the id 'nope'"),
    (["--tx", "popen"], "without a --dist mode: xdist would run every cell in this process"),
])
def test_gateways_k2matrix_cannot_use_are_refused(tmp_path: Path, args: list[str],
                                                  expected: str) -> None:
    root = make_project(tmp_path / "project")
    result = _pytest(root, "tests/performance", "--k2-profile=smoke", *args, timeout=60)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout[-2000:]
    assert expected in result.stderr
    assert not (root / "results").exists()


def test_workers_that_cannot_start_are_not_replaced_without_end(tmp_path: Path) -> None:
    root = make_project(tmp_path / "project")
    # every worker dies as it starts, the way a configuration mistake kills it
    (root / "conftest.py").write_text(
        "import os\n\ndef pytest_configure(config):\n"
        "    if os.environ.get('PYTEST_XDIST_WORKER'):\n        os._exit(3)\n")
    result = _pytest(root, "tests/performance", "--k2-profile=smoke", "-p", "xdist",
                     *_two_hosts(tmp_path), timeout=120)
    assert result.returncode != 0
    assert "maximum crashed workers reached: 2" in result.stdout, result.stdout[-2000:]
    assert result.stdout.count("replacing crashed worker") <= 2


@pytest.mark.parametrize("proxy", [
    "id=x//popen//python=/nonexistent/bin/python",
    pytest.param("id=x//ssh=nosuchhost.invalid//python=python3",
                 marks=pytest.mark.skipif(shutil.which("ssh") is None, reason="no ssh client")),
])
def test_a_proxy_that_cannot_start_is_a_usage_error_naming_the_fix(tmp_path: Path,
                                                                    proxy: str) -> None:
    root = make_project(tmp_path / "project")
    result = _pytest(root, "tests/performance", "--k2-profile=smoke", "--dist=load",
                     "--px", proxy, "--tx", "popen//via=x", timeout=120)
    assert result.returncode == pytest.ExitCode.USAGE_ERROR, result.stdout[-2000:]
    assert "a gateway could not start" in result.stderr
    assert "INTERNALERROR" not in result.stdout + result.stderr
