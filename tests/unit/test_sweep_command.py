"""The one builder of a sweep's pytest command (k2matrix.sweep.command) and the one launcher
of its processes (k2matrix.sweep.launch), with the progress files they follow
(k2matrix.results.progress).

The argv below are what each call site produced before the builder existed (the same
options and values; since then in one order: the suites or the session, what is measured,
the fixed flags, the results and the trial, how it is measured, the selection and the
workers, what the user passed through). The launcher's tests start real short Python
processes."""

from __future__ import annotations

import json
import os
import shutil
import sys
import time
from collections.abc import Mapping
from pathlib import Path
from typing import Any

import pytest

import k2matrix
from k2matrix.ab.run import Job, side_command
from k2matrix.ab.spec import Side
from k2matrix.counting.callgrind import DIR_VARIABLE
from k2matrix.counting.launch import PINNED
from k2matrix.explore.runner import example_command
from k2matrix.results.progress import read_progress, write_progress
from k2matrix.sweep.command import SweepCommand, child_args
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

FIXED = ["--benchmark-only", "-p", "no:cacheprovider",
         "-W", "ignore::pytest.PytestAssertRewriteWarning"]
PY = sys.executable
SRC = str(Path(k2matrix.__file__).resolve().parents[1])  # this checkout's k2matrix


# ------------------------------------------------------------------ k2matrix run


def test_run_plain_is_the_suites_matrix_profile_and_the_fixed_flags() -> None:
    cmd = SweepCommand(suites=Path("/p/tests/performance"), matrix=Path("matrix.toml"),
                       profile="smoke", clock="wall")
    assert cmd.main_args() == ["/p/tests/performance", "--k2-matrix=matrix.toml",
                               "--k2-profile=smoke", *FIXED]


def test_run_with_every_option_keeps_the_users_arguments_last() -> None:
    cmd = SweepCommand(suites=Path("/p/tests/performance"), matrix=Path("/p/matrix.toml"),
                       profile="smoke", results=Path("/p/res"),
                       cells=Path(".k2matrix/replay/x.cells.json"), trials=3, clock="cpu",
                       workers="2", pytest_args=("-k", "x", "--benchmark-min-rounds=2"))
    assert cmd.main_args() == [
        "/p/tests/performance", "--k2-matrix=/p/matrix.toml", "--k2-profile=smoke",
        "--k2-cells=.k2matrix/replay/x.cells.json", *FIXED, "--k2-results=/p/res",
        "--k2-trials=3", "--k2-clock=cpu", "-n", "2", "--dist", "worksteal",
        "-k", "x", "--benchmark-min-rounds=2"]


@pytest.mark.parametrize("dist", [("--dist=load",), ("--dist", "load")])
def test_a_dist_of_the_users_replaces_worksteal(dist: tuple[str, ...]) -> None:
    cmd = SweepCommand(suites=Path("/p/tests"), matrix=Path("/p/matrix.toml"),
                       profile="smoke", clock="instructions", workers="auto",
                       pytest_args=dist)
    assert cmd.main_args() == ["/p/tests", "--k2-matrix=/p/matrix.toml", "--k2-profile=smoke",
                               *FIXED, "--k2-clock=instructions", "-n", "auto", *dist]


def test_wall_and_no_trials_add_nothing_and_the_in_process_args_have_no_interpreter() -> None:
    cmd = SweepCommand(suites=Path("/s"), matrix=Path("/m.toml"), profile="p", clock="wall",
                       python="/opt/python")
    assert "--k2-clock" not in " ".join(cmd.main_args())
    assert "--k2-trials" not in " ".join(cmd.main_args())
    assert cmd.argv() == ["/opt/python", "-m", "pytest", *cmd.main_args()]


# ------------------------------------------------------------------ k2matrix explore


def test_an_example_in_process() -> None:
    cmd = example_command(Path("/p/tests/performance"), Path("/p/matrix.toml"),
                          Path("/r/ex/e0001.cells.json"), Path("/r/ex"), "e0001", 4)
    assert cmd.main_args() == [
        "/p/tests/performance", "--k2-matrix=/p/matrix.toml",
        "--k2-cells=/r/ex/e0001.cells.json", *FIXED, "-q", "--k2-results=/r/ex",
        "--k2-run-id=e0001", "--benchmark-min-rounds=4", "--no-header",
        "--benchmark-disable-gc"]


@pytest.mark.parametrize(("trials", "rounds", "measured"), [
    (10, None, ["--k2-trials=10"]),
    (1, 3, ["--k2-trials=1", "--benchmark-min-rounds=3"]),
])
def test_an_examples_confirming_trials(trials: int, rounds: int | None,
                                       measured: list[str]) -> None:
    cmd = example_command(Path("/p/tests/performance"), Path("/p/matrix.toml"),
                          Path("/r/confirm/shrunk.cells.json"), Path("/r/confirm"), "shrunk",
                          rounds, trials)
    assert cmd.argv() == [
        PY, "-m", "pytest", "/p/tests/performance", "--k2-matrix=/p/matrix.toml",
        "--k2-cells=/r/confirm/shrunk.cells.json", *FIXED, "-q", "--k2-results=/r/confirm",
        "--k2-run-id=shrunk", *measured, "--no-header", "--benchmark-disable-gc"]


# ------------------------------------------------------------------ k2matrix ab


def _job(tmp: Path, **kw: Any) -> tuple[Job, Side, Side]:
    baseline = Side(name="baseline", spec="python:/usr/bin/python3", python="/usr/bin/python3",
                    project=tmp, matrix=tmp / "matrix.toml")
    candidate = Side(name="candidate", spec="env:X=1", python="/opt/py", project=tmp / "p2",
                     matrix=tmp / "p2" / "m.toml", workdir=tmp / "wd")
    return Job(sides=(baseline, candidate), **kw), baseline, candidate


def test_an_ab_sides_trial() -> None:
    tmp = Path("/w")
    job, baseline, _ = _job(tmp, run_dir=tmp / "results" / "ab-1", trials=5, profile="smoke")
    assert side_command(job, baseline, 1) == [
        "/usr/bin/python3", "-m", "pytest", "/w/tests/performance", "--k2-matrix=/w/matrix.toml",
        "--k2-profile=smoke", *FIXED, "-q", "--k2-results=/w/results/ab-1/baseline/trials",
        "--k2-run-id=t01", "--k2-trial=1/5", "--k2-order-seed=3082724986"]


def test_an_ab_sides_trial_with_every_option() -> None:
    tmp = Path("/w")
    job, _, candidate = _job(tmp, run_dir=tmp / "results" / "ab-2", trials=3, profile="full",
                             keyword="convert", workers="2", pytest_args=["--k2-clock=cpu"])
    assert side_command(job, candidate, 3) == [
        "/opt/py", "-m", "pytest", "/w/p2/tests/performance", "--k2-matrix=/w/p2/m.toml",
        "--k2-profile=full", *FIXED, "-q", "--k2-results=/w/results/ab-2/candidate/trials",
        "--k2-run-id=t03", "--k2-trial=3/3", "--k2-order-seed=1906710912",
        "--k2-workdir=/w/wd", "-k", "convert", "-n", "2", "--dist", "worksteal",
        "--k2-clock=cpu"]


def test_both_sides_of_an_ab_trial_share_the_order() -> None:
    tmp = Path("/w")
    job, baseline, candidate = _job(tmp, run_dir=tmp / "results" / "ab-1", trials=5,
                                    profile="smoke")
    seeds = {next(a for a in side_command(job, side, 2) if a.startswith("--k2-order-seed="))
             for side in (baseline, candidate)}
    assert len(seeds) == 1


# ------------------------------------------------------------------ --k2-trials, counted


def test_a_trial_is_the_session_without_what_each_trial_is_given_anew() -> None:
    invocation = ["tests/performance", "--k2-trials", "2", "--k2-run-id=rid",
                  "--k2-results", "/r", "-q", "--k2-order-seed=4", "-n", "2",
                  "--k2-trial=1/9"]
    session = child_args(invocation)
    assert session == ["tests/performance", "-q", "-n", "2"]
    base = SweepCommand(session=tuple(session))
    assert [base.for_trial(Path("/r/rid"), k, 2, seed_key="rid").argv() for k in (1, 2)] == [
        [PY, "-m", "pytest", "tests/performance", "-q", "-n", "2",
         "--k2-results=/r/rid/trials", "--k2-run-id=t01", "--k2-trial=1/2",
         "--k2-order-seed=1783178941"],
        [PY, "-m", "pytest", "tests/performance", "-q", "-n", "2",
         "--k2-results=/r/rid/trials", "--k2-run-id=t02", "--k2-trial=2/2",
         "--k2-order-seed=3204086957"]]
    # the seed key is the run's name unless told otherwise
    assert base.for_trial(Path("/r/rid"), 1, 2).argv() == \
        base.for_trial(Path("/r/rid"), 1, 2, seed_key="rid").argv()


@pytest.mark.skipif(shutil.which("valgrind") is None, reason="needs valgrind")
def test_the_counted_session_runs_again_under_callgrind_with_the_pinned_environment(
        tmp_path: Path) -> None:
    cmd = SweepCommand(session=("tests", "--k2-clock=instructions", "-q"),
                       callgrind_dir=tmp_path)
    assert cmd.argv() == [
        shutil.which("valgrind"), "--tool=callgrind", "--instr-atstart=no",
        "--trace-children=yes",
        "--trace-children-skip=*/git,*/sh,*/bash,*/dash,*/uname,*/lscpu,*/pg_isready",
        f"--callgrind-out-file={tmp_path}/cg.%p", f"--log-file={tmp_path}/valgrind.%p.log",
        "--dump-instr=no", PY, "-m", "pytest", "tests", "--k2-clock=instructions", "-q"]
    env = cmd.environment({"HOME": "/h", "PYTHONHASHSEED": "7"})
    assert env == {"HOME": "/h", **PINNED, DIR_VARIABLE: str(tmp_path)}
    assert env["PYTHONHASHSEED"] == "0"
    plain = SweepCommand(session=("tests",))
    assert plain.environment({"HOME": "/h"}) == {"HOME": "/h"}
    assert plain.argv() == [PY, "-m", "pytest", "tests"]


@pytest.mark.parametrize("kwargs", [
    {},
    {"suites": Path("/s")},
    {"session": ("tests",), "profile": "smoke"},
    {"session": ("tests",), "quiet": True},
    {"suites": Path("/s"), "matrix": Path("/m"), "trials": 0},
])
def test_an_incomplete_or_contradictory_command_is_refused(kwargs: dict[str, Any]) -> None:
    with pytest.raises(ValueError):
        SweepCommand(**kwargs)


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


def test_workers_on_other_hosts_steal_work_too() -> None:
    tx = ("--px", "id=h1//ssh=h1//python=/v/bin/python", "--tx", "2*popen//via=h1")
    cmd = SweepCommand(suites=Path("/p/t"), matrix=Path("/p/m.toml"), pytest_args=tx)
    assert cmd.main_args()[-6:] == ["--dist", "worksteal", *tx]
