"""SIGTERM (a `timeout`, a CI runner's limit) takes Ctrl-C's way out of k2matrix: the running
trial is stopped, not left behind, and every finished trial is folded and kept."""

from __future__ import annotations

import json
import os
import signal
import subprocess
import sys
import time
from collections.abc import Callable
from pathlib import Path

import pytest
from tiny_project import make_project

from k2matrix.cli import terminate_as_interrupt
from k2matrix.plugin.threads import THREAD_VARIABLES


def test_sigterm_inside_is_an_interrupt_and_the_handler_comes_back() -> None:
    before = signal.getsignal(signal.SIGTERM)
    with pytest.raises(KeyboardInterrupt), terminate_as_interrupt():
        os.kill(os.getpid(), signal.SIGTERM)
        for _ in range(1000):  # the handler runs at the next bytecode; this never ends
            time.sleep(0.01)
    assert signal.getsignal(signal.SIGTERM) is before


def _alive(*markers: str) -> list[int]:
    """Processes whose command line contains every one of ``markers``."""
    found = []
    for proc in Path("/proc").iterdir():
        if not proc.name.isdigit():
            continue
        try:
            cmdline = (proc / "cmdline").read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if all(m in cmdline for m in markers):
            found.append(int(proc.name))
    return found


def _terminate_when(root: Path, args: list[str], ready: Callable[[], bool]
                    ) -> tuple[int, str]:
    """Start ``k2matrix ARGS`` in ``root``, SIGTERM it once ``ready()``; its exit code and
    stderr."""
    env = {k: v for k, v in os.environ.items()
           if k not in THREAD_VARIABLES and not k.startswith("PYTEST_")}
    script = Path(sys.executable).parent / "k2matrix"
    proc = subprocess.Popen([str(script), *args], cwd=root, env=env, stdout=subprocess.PIPE,
                            stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 240
        while not ready() and proc.poll() is None:
            assert time.monotonic() < deadline, "no trial finished within 240 s"
            time.sleep(0.2)
        assert proc.poll() is None, proc.communicate()
        proc.send_signal(signal.SIGTERM)
        _, err = proc.communicate(timeout=60)
    finally:
        if proc.poll() is None:
            proc.kill()
    return proc.returncode, err


needs_proc = pytest.mark.skipif(not Path("/proc").is_dir(),
                                reason="reads /proc for the trial processes")


@needs_proc
def test_a_terminated_ab_stops_its_trial_and_keeps_the_finished_ones(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    run = root / "results" / "term"
    # the candidate's cells do 20x the work, so its trials are still running when we stop it;
    # seed 0 runs the baseline first: its trial 1 has ended once the candidate's has begun
    code, err = _terminate_when(
        root, ["ab", "--baseline", "set:", "--candidate", "env:K2_TINY_SLOWDOWN=1",
               "--trials", "3", "-k", "convert", "--run-id", "term", "--seed", "0"],
        lambda: len(list(run.glob("*/trials/t01"))) == 2)
    assert code == 130, err
    assert "interrupted" in err and "Traceback" not in err
    assert _alive("--k2-trial=", "term/") == []  # no trial of this run left running
    ab = json.loads((run / "ab.json").read_text())
    finished = [r for r in ab["ran"] if r["exit"] == 0]
    assert finished, ab
    folded = json.loads((run / finished[0]["side"] / "benchmarks.json").read_text())
    assert folded["benchmarks"], "the finished trial was not folded"


@needs_proc
def test_a_terminated_run_with_trials_folds_the_finished_trials(tmp_path: Path) -> None:
    root = make_project(tmp_path)
    run = root / "results" / "termrun"
    code, err = _terminate_when(
        root, ["run", "--trials", "3", "-k", "convert", "--k2-run-id=termrun", "-q"],
        lambda: (run / "trials" / "t02").is_dir())
    assert code != 0 and "Traceback" not in err, err
    assert _alive("--k2-trial=", "termrun/") == []
    doc = json.loads((run / "benchmarks.json").read_text())
    assert doc["benchmarks"] and doc["k2"]["trials"]["run"] >= 1, doc["k2"]
