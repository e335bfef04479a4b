"""Measure how long `k2matrix doctor` and S3 cells take to fail on a silent or vanished S3
endpoint, and what they say (the unit tests assert the errors and the deadline
configuration, never wall-clock times; this script measures the times).

Scenarios (each with the matrix's deadline, [backends] deadline_s = 10 unless --deadline):

- silent:   the endpoint is a raw TCP server that accepts and never answers, from the start;
- hung:     a moto server (python -m k2matrix.backends.moto_server start), SIGSTOPped once
            the first S3 cell has finished: the cells after it start on a hung server;
- vanished: the same, SIGKILLed instead.

For each: `k2matrix doctor --profile P` (wall time, exit code, the failure line), then the
smoke profile's S3 cells (`-k s3`) run by pytest, each cell's time from its journal record
(setup to teardown), status and the first line of its error.

    PYTHONPATH=src python scripts/measure_faults.py [--scenarios silent,hung,vanished]
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PLUGIN = '''
import os, signal
import pytest

@pytest.hookimpl(trylast=True)
def pytest_runtest_logfinish(nodeid, location):
    pid = os.environ.get("K2T_FAULT_PID")
    if pid and nodeid.endswith("-s3]") and not os.environ.get("K2T_FAULT_DONE"):
        os.environ["K2T_FAULT_DONE"] = "1"
        os.kill(int(pid), getattr(signal, os.environ["K2T_FAULT_SIGNAL"]))
'''


def silent_server() -> str:
    listener = socket.socket()
    listener.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    listener.bind(("127.0.0.1", 0))
    listener.listen(512)
    held = []

    def accept() -> None:
        while True:
            held.append(listener.accept()[0])

    threading.Thread(target=accept, daemon=True).start()
    return f"http://127.0.0.1:{listener.getsockname()[1]}"


def matrix_for(endpoint: str, deadline: float, folder: Path) -> Path:
    real = (ROOT / "matrix.toml").read_text(encoding="utf-8")
    text = real.rsplit("[backends.storage]", 1)[0].replace(
        "deadline_s = 10 ", f"deadline_s = {deadline:g} ", 1)
    path = folder / "matrix.toml"
    path.write_text(text + f'[backends.storage]\nkind = "s3"\nendpoint = "{endpoint}"\n')
    return path


def env_for(extra: dict[str, str]) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K2_", "PYTEST_"))}
    env["PYTHONPATH"] = os.pathsep.join([str(ROOT / "src"), env.get("PYTHONPATH", "")])
    env.update(extra)
    return env


def doctor(matrix: Path, profile: str) -> dict[str, object]:
    cmd = [sys.executable, "-m", "k2matrix.cli", "doctor", "--matrix", str(matrix),
           "--profile", profile]
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env_for({}), capture_output=True, text=True,
                          timeout=300)
    seconds = time.perf_counter() - started
    return {"command": f"k2matrix doctor --matrix M --profile {profile}",
            "seconds": round(seconds, 2), "exit": done.returncode,
            "stderr": done.stderr.strip().splitlines()[:1]}


def cells(matrix: Path, folder: Path, extra_env: dict[str, str]) -> dict[str, object]:
    (folder / "k2t_fault.py").write_text(PLUGIN)
    results = folder / "results"
    cmd = [sys.executable, "-m", "pytest", "tests/performance/test_writer_throughput.py",
           "tests/performance/test_writer_sustained.py",
           "tests/performance/test_query_performance.py", "-p", "k2t_fault",
           "-p", "no:randomly", "-q", "-k", "s3", f"--k2-matrix={matrix}",
           "--k2-profile=smoke", f"--k2-results={results}", "--k2-run-id=r",
           f"--k2-workdir={folder / 'work'}", "--benchmark-min-rounds=2"]
    env = env_for({**extra_env, "PYTHONPATH": f"{folder}{os.pathsep}{ROOT / 'src'}"})
    started = time.perf_counter()
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=3600)
    total = time.perf_counter() - started
    sys.path.insert(0, str(ROOT / "src"))
    from k2matrix.results.journal import read_run

    rows = []
    for rec in sorted(read_run(results / "r"), key=lambda r: r.started):
        error = (rec.error or "").splitlines()
        rows.append({"cell": rec.cell.get("id") if rec.cell else rec.nodeid,
                     "status": rec.status, "seconds": round(rec.finished - rec.started, 2),
                     "error": error[0][:400] if error else ""})
    return {"pytest_exit": done.returncode, "total_seconds": round(total, 1), "cells": rows,
            "tail": done.stdout.strip().splitlines()[-1:] if done.stdout else []}


def start_moto(folder: Path) -> tuple[int, str]:
    pid_file = folder / "moto.pid"
    endpoint = subprocess.run(
        [sys.executable, "-m", "k2matrix.backends.moto_server", "start", "--pid-file",
         str(pid_file), "--log", str(folder / "moto.log")],
        cwd=ROOT, env=env_for({}), capture_output=True, text=True, check=True,
        timeout=120).stdout.strip()
    return int(pid_file.read_text().split()[0]), endpoint


def stop_moto(pid: int) -> None:
    for sig in (signal.SIGCONT, signal.SIGKILL):
        try:
            os.kill(pid, sig)
        except ProcessLookupError:
            return


def scenario(name: str, deadline: float) -> dict[str, object]:
    with tempfile.TemporaryDirectory(prefix=f"k2-faults-{name}-") as tmp:
        folder = Path(tmp)
        if name == "silent":
            endpoint = silent_server()
            matrix = matrix_for(endpoint, deadline, folder)
            out = {"endpoint": endpoint, "doctor": [doctor(matrix, "s3"),
                                                    doctor(matrix, "smoke")],
                   "sweep": cells(matrix, folder, {})}
            return out
        pid, endpoint = start_moto(folder)
        try:
            matrix = matrix_for(endpoint, deadline, folder)
            sig = "SIGSTOP" if name == "hung" else "SIGKILL"
            sweep = cells(matrix, folder, {"K2T_FAULT_PID": str(pid), "K2T_FAULT_SIGNAL": sig})
            after = [doctor(matrix, "s3")]  # the server is now stopped or gone
            return {"endpoint": endpoint, "signal after the first S3 cell": sig,
                    "sweep": sweep, "doctor": after}
        finally:
            stop_moto(pid)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--scenarios", default="silent,hung,vanished")
    parser.add_argument("--deadline", type=float, default=10.0)
    args = parser.parse_args()
    report = {name: scenario(name, args.deadline) for name in args.scenarios.split(",")}
    json.dump(report, sys.stdout, indent=2)
    print()
    return 0


if __name__ == "__main__":
    sys.exit(main())
