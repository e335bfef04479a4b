"""A pytest plugin for test_s3_sweep: kills the S3 server (pid in K2T_KILL_PID) as an S3
cell's test body starts, i.e. mid-cell, after its fixtures reached the server."""

from __future__ import annotations

import os
import signal

import pytest


@pytest.hookimpl(tryfirst=True)
def pytest_runtest_call(item: pytest.Item) -> None:
    pid = os.environ.get("K2T_KILL_PID")
    if pid and item.nodeid.endswith("-s3]"):
        os.kill(int(pid), signal.SIGKILL)
