"""The one launcher of a sweep's processes (k2matrix.sweep.launch), with the progress files
it follows (k2matrix.results.progress). The launcher's tests start real short Python
processes."""

from __future__ import annotations

import json
import os
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import k2matrix
from k2matrix.results.progress import read_progress, write_progress
from k2matrix.sweep.launch import (
    LOG_FILE,
    TrialProcess,
    log_tail,
    run_attached,
    run_logged,
    run_together,
    run_trial,
)
from k2matrix.sweep.status import Plan

PY = sys.executable
SRC = str(Path(k2matrix.__file__).resolve().parents[1])  # this checkout's k2matrix


# ------------------------------------------------------------------ the launcher


def _env() -> dict[str, str]:
    return {**os.environ, "PYTHONPATH": SRC}


def _script(body: str) -> list[str]:
    return [PY, "-c", "import os, sys, time\nfrom pathlib import Path\n" + body]


def test_a_trial_process_reports_its_progress_and_its_exit_code(tmp_path: Path) -> None:
    trial = tmp_path / "trials" / "t01"
    seen = tmp_path / "seen"
    # the process says it is at cell c1 (1 done of 4), then waits until the launcher has
    # shown that (bounded, in case it never does), then fails with exit code 3
    cmd = _script(f"""
from k2matrix.results.progress import write_progress
print("hello from the trial", flush=True)
write_progress(Path({str(trial)!r}), "gw0", "c1", 1, 4)
for _ in range(600):
    if Path({str(seen)!r}).exists():
        break
    time.sleep(0.1)
sys.exit(3 if Path({str(seen)!r}).exists() else 9)
""")
    shown: list[dict[str, Any]] = []

    def show(progress: Mapping[str, Any], started: float) -> None:
        shown.append(dict(progress))
        if progress.get("cell") == "c1":
            seen.touch()

    assert run_trial(cmd, tmp_path, _env(), trial, show) == 3
    assert any(p["cell"] == "c1" and p["done"] == 1 and p["planned"] == 4 for p in shown)
    assert "hello from the trial" in (trial / LOG_FILE).read_text()
    assert log_tail(trial) == "hello from the trial"


def test_processes_run_together_each_on_its_cpus(tmp_path: Path) -> None:
    if not hasattr(os, "sched_getaffinity"):
        pytest.skip("no CPU affinity on this platform")
    cpu = min(os.sched_getaffinity(0))
    trials = [TrialProcess(_script(f"print(sorted(os.sched_getaffinity(0)))\nsys.exit({code})"),
                           tmp_path, None, tmp_path / name, cpus)
              for name, code, cpus in (("a", 0, [cpu]), ("b", 5, None))]
    ends = run_together(trials, lambda progress, started: None)
    assert [e.code for e in ends] == [0, 5]
    assert all(e.started <= e.ended for e in ends)
    assert (tmp_path / "a" / LOG_FILE).read_text().strip() == f"[{cpu}]"
    assert (tmp_path / "b" / LOG_FILE).read_text().strip() == \
        str(sorted(os.sched_getaffinity(0)))


def test_an_interrupt_stops_the_running_processes(tmp_path: Path) -> None:
    pid_file = tmp_path / "pid"
    cmd = _script(f"Path({str(pid_file)!r}).write_text(str(os.getpid()))\ntime.sleep(600)")

    def show(progress: Mapping[str, Any], started: float) -> None:
        if pid_file.exists() and pid_file.read_text():
            raise KeyboardInterrupt  # as Ctrl-C (or SIGTERM through the CLI) would

    with pytest.raises(KeyboardInterrupt):
        run_trial(cmd, tmp_path, None, tmp_path / "t01", show)
    with pytest.raises(ProcessLookupError):  # terminated and reaped
        os.kill(int(pid_file.read_text()), 0)


def test_a_logged_process_gives_its_code_or_none_when_cut_short(tmp_path: Path) -> None:
    with (tmp_path / "ok.log").open("w") as log:
        assert run_logged(_script("print('measured')\nsys.exit(1)"), tmp_path, None, log,
                          timeout_s=600) == 1
    assert (tmp_path / "ok.log").read_text() == "measured\n"
    with (tmp_path / "long.log").open("w") as log:
        assert run_logged(_script("time.sleep(600)"), tmp_path, None, log,
                          timeout_s=0.2) is None


def test_an_attached_process_shares_the_terminal(tmp_path: Path,
                                                 capfd: pytest.CaptureFixture[str]) -> None:
    code = run_attached(_script("print(os.environ['K2_PROBE'], Path.cwd().name)\nsys.exit(4)"),
                        tmp_path, {**os.environ, "K2_PROBE": "attached"})
    assert code == 4
    assert capfd.readouterr().out == f"attached {tmp_path.name}\n"


def test_a_log_tail_is_the_last_lines_or_nothing(tmp_path: Path) -> None:
    assert log_tail(tmp_path) == ""
    (tmp_path / LOG_FILE).write_text("".join(f"line {i}\n" for i in range(40)))
    assert log_tail(tmp_path).splitlines() == [f"line {i}" for i in range(15, 40)]
    assert log_tail(tmp_path, 2) == "line 38\nline 39"


# ------------------------------------------------------------------ progress, status


def test_progress_of_every_worker_is_merged(tmp_path: Path) -> None:
    assert read_progress(tmp_path) == {"done": 0, "planned": 0, "cell": None, "at": 0.0}
    (tmp_path / "progress-gw0.json").write_text(json.dumps(
        {"cell": "old", "done": 2, "planned": 10, "at": 100.0}))
    (tmp_path / "progress-gw1.json").write_text(json.dumps(
        {"cell": "new", "done": 3, "planned": 10, "at": 200.0}))
    (tmp_path / "progress-gw2.json").write_text("not json")
    assert read_progress(tmp_path) == {"done": 5, "planned": 10, "cell": "new", "at": 200.0}


def test_write_progress_makes_the_folder_and_replaces_the_workers_file(tmp_path: Path) -> None:
    run_dir = tmp_path / "run"
    write_progress(run_dir, "main", "a", 0, 3)
    write_progress(run_dir, "main", "b", 1, 3)
    assert [p.name for p in run_dir.iterdir()] == ["progress-main.json"]
    merged = read_progress(run_dir)
    assert (merged["cell"], merged["done"], merged["planned"]) == ("b", 1, 3)


def test_the_status_line_names_the_trial_and_the_cell() -> None:
    plan = Plan(total=2, started=time.time())
    line = plan.line("trial 1 of 2", {"done": 2, "planned": 10, "cell": "c3"}, time.time())
    assert line.startswith("trial 1 of 2: cell 3/10 c3 | elapsed ")
    assert plan.line("trial 1 of 2", {}, time.time()).startswith(
        "trial 1 of 2: cell ?/? starting | elapsed ")
