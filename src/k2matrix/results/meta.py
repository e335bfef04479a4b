"""Run metadata: machine, library versions, CPU affinity, git commit."""

from __future__ import annotations

import os
import platform
import subprocess
from importlib import metadata
from typing import Any

LIBRARIES = ("confluent-kafka", "fastavro", "pyiceberg", "duckdb", "duckdb-extension-iceberg",
             "pyarrow", "polars", "numpy", "hypothesis", "pytest", "pytest-benchmark",
             "pytest-xdist", "k2matrix")


def library_versions() -> dict[str, str | None]:
    out: dict[str, str | None] = {"python": platform.python_version()}
    for name in LIBRARIES:
        try:
            out[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            out[name] = None
    from k2matrix.backends.kafka import librdkafka_version  # loads the Kafka client

    out["librdkafka"] = librdkafka_version()
    return out


def affinity() -> list[int]:
    try:
        return sorted(os.sched_getaffinity(0))
    except AttributeError:  # pragma: no cover - not Linux
        return list(range(os.cpu_count() or 1))


def machine_kind() -> dict[str, Any]:
    """What must match for two runs' timings to be comparable or mergeable."""
    return {
        "system": platform.system(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def load_average() -> list[float]:
    """1, 5 and 15-minute load averages (other work on the machine skews timings)."""
    try:
        return [round(x, 2) for x in os.getloadavg()]
    except OSError:  # pragma: no cover
        return []


def git_commit(cwd: str | None = None) -> dict[str, Any]:
    def run(*args: str) -> str:
        return subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True,
                              timeout=5, check=False).stdout.strip()
    try:
        commit = run("rev-parse", "HEAD")
        dirty = bool(run("status", "--porcelain", "--untracked-files=no"))
        branch = run("rev-parse", "--abbrev-ref", "HEAD")
    except (OSError, subprocess.SubprocessError):
        return {"id": None, "dirty": None, "branch": None}
    return {"id": commit or None, "dirty": dirty, "branch": branch or None}
