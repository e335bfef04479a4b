"""Sweeps of real S3 cells (the writer suite) against a moto server out of process:

- secrets set in the environment and in the variables the matrix names (``*_env``) appear
  in no file of the run directory;
- the server killed mid-cell: that cell fails with a message naming the endpoint, within
  10 s; the local cell passes and the journal holds both.
"""

from __future__ import annotations

import os
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path

import pytest

from k2matrix.backends.moto_server import MotoServer
from k2matrix.results.journal import read_run

ROOT = Path(__file__).resolve().parents[2]
REAL = (ROOT / "matrix.toml").read_text(encoding="utf-8")
CELL = "writer-append-v2-b100-unpartitioned"
SECRETS = {"K2T_KEY": "AKIAK2SWEEPKEY7Q3Z", "K2T_SECRET": "sweep-Secret-7a6b5c4d3e",
           "K2T_PG": "pg-Secret-0o9i8u7y", "AWS_SECRET_ACCESS_KEY": "aws-Env-Secret-q1w2e3"}


@pytest.fixture
def s3() -> Iterator[MotoServer]:
    with MotoServer.start() as server:
        yield server


def _sweep(tmp: Path, endpoint: str, extra_env: dict[str, str]) -> tuple[int, str, Path]:
    matrix = REAL.rsplit("[backends.storage]", 1)[0] + (
        f'[backends.storage]\nkind = "s3"\nendpoint = "{endpoint}"\n'
        'access_key_id_env = "K2T_KEY"\nsecret_access_key_env = "K2T_SECRET"\n')
    matrix = matrix.replace('password_env = ""             # name of the env var holding the '
                            'catalog password', 'password_env = "K2T_PG"  #', 1)
    path = tmp / "matrix.toml"
    path.write_text(matrix)
    env = {k: v for k, v in os.environ.items() if not k.startswith(("K2_", "PYTEST_"))}
    env.update(SECRETS)
    env.update(extra_env)
    env["PYTHONPATH"] = str(Path(__file__).parent) + ":" + str(ROOT / "src")
    suite = str(ROOT / "tests/performance/test_writer_throughput.py")
    cmd = [sys.executable, "-m", "pytest", suite,
           "-p", "s3_kill", "-p", "no:randomly", "-q", "-k", CELL,
           f"--k2-matrix={path}", "--k2-profile=smoke", f"--k2-results={tmp / 'results'}",
           "--k2-run-id=r", f"--k2-workdir={tmp / 'work'}", "--benchmark-min-rounds=2"]
    done = subprocess.run(cmd, cwd=ROOT, env=env, capture_output=True, text=True, timeout=240)
    return done.returncode, done.stdout + done.stderr, tmp / "results" / "r"


def test_no_secret_in_any_file_of_the_run(s3: MotoServer, tmp_path: Path) -> None:
    rc, out, run = _sweep(tmp_path, s3.endpoint, {})
    assert rc == 0, out[-3000:]
    records = read_run(run)
    assert {r.status for r in records} == {"passed"} and len(records) == 2, out[-2000:]
    files = [p for p in run.rglob("*") if p.is_file()]
    assert files
    for file in files:
        text = file.read_bytes().decode("utf-8", errors="replace")
        for name, secret in SECRETS.items():
            assert secret not in text, f"{name}'s value appears in {file.name}"


def test_server_killed_mid_cell_fails_that_cell_only(s3: MotoServer, tmp_path: Path) -> None:
    rc, out, run = _sweep(tmp_path, s3.endpoint, {"K2T_KILL_PID": str(s3.pid)})
    assert rc == 1, out[-3000:]
    by_id = {r.cell.get("id") if r.cell else r.nodeid: r for r in read_run(run)}
    assert by_id[CELL].status == "passed"
    failed = by_id[f"{CELL}-s3"]
    assert failed.status == "failed"
    assert s3.endpoint.split("://", 1)[1] in (failed.error or ""), failed.error
    assert failed.finished - failed.started < 10 + 5  # the fault, plus the cell's set-up
