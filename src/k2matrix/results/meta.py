"""Run metadata (``meta.json``): the matrix, profile, machine, library versions, CPU
affinity, git commit and the environment record (:mod:`k2matrix.results.environment`) of a
run, assembled from plain arguments (the plugin passes what only pytest knows:
pytest-benchmark's machine_info and commit_info), and read back with every problem as a
:class:`ResultsError` that names the file and the fix."""

from __future__ import annotations

import os
import platform
from collections.abc import Mapping, Sequence
from importlib import metadata
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2matrix.errors import ResultsError
from k2matrix.results import FORMAT_VERSION
from k2matrix.results.environment import (
    affinity,
    environment,
    git_commit,
    load_average,
    redact_all,
)
from k2matrix.results.hosts import host_name
from k2matrix.results.jsonfile import path_kind, read_json
from k2matrix.results.record import check_version

if TYPE_CHECKING:
    from k2matrix.matrix import Matrix

__all__ = ["META_FILE", "affinity", "check_run_dir", "git_commit", "library_versions",
           "load_average", "machine_kind", "read_meta", "run_meta", "this_host"]

META_FILE = "meta.json"

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


def machine_kind() -> dict[str, Any]:
    """What must match for two runs' timings to be comparable or mergeable."""
    return {
        "system": platform.system(),
        "machine": platform.machine(),
        "cpu_count": os.cpu_count(),
        "python": platform.python_version(),
    }


def this_host() -> dict[str, Any]:
    """This host's machine, as a run's ``hosts`` records it."""
    return {"machine_kind": machine_kind(), "usable_cores": len(affinity())}


def run_meta(*, matrix: Matrix, matrix_path: Path, run_id: str, profile: str,
             cells_planned: Sequence[str], workers: int, shard: tuple[int, int] | None,
             include_slow: bool | None, started: float, repo_dir: str | None = None,
             machine_info: dict[str, Any] | None = None,
             commit_info: dict[str, Any] | None = None, clock: str = "wall",
             cells_file: Path | None = None,
             hosts: Mapping[str, Any] | None = None) -> dict[str, Any]:
    """The run's metadata (``meta.json``, and the ``k2`` object of ``benchmarks.json``
    without machine_info and commit_info). ``cells_file``: the run measured the cells
    listed there (``--k2-cells``) instead of its profile's. ``hosts``: the machine of each
    host the run's workers ran on, by host name (the controller's host alone by default)."""
    versions = library_versions()
    git = git_commit(repo_dir)
    backends = matrix.backends.with_environment()
    return {
        "format_version": FORMAT_VERSION,
        "run_id": run_id,
        "profile": profile,
        "matrix": str(matrix_path),
        "matrix_name": matrix.name,
        "matrix_fingerprint": matrix.fingerprint(),
        # the same without the implementations named: runs that differ only in those compare
        "cells_fingerprint": matrix.fingerprint(without_impls=True),
        "impls": matrix.impl_record(),
        "targets": [t.to_dict() for t in matrix.targets.values()],
        "versions": versions,
        "backends": redact_all(backends.describe()),
        "machine_kind": machine_kind(),
        "machine_info": dict(machine_info or {}),
        "commit_info": dict(commit_info or {}),
        "git": git,
        "workers": workers,
        "shard": list(shard) if shard else None,
        "include_slow": include_slow,
        "cells_planned": list(cells_planned),
        "started": started,
        "loadavg": load_average(),
        "clock": clock,
        "cells_file": str(cells_file) if cells_file is not None else None,
        "hosts": dict(hosts) if hosts is not None else {host_name(): this_host()},
        "environment": environment(backends, versions, git),
    }


def check_run_dir(run_dir: Path) -> None:
    """Raise ResultsError unless ``run_dir`` is an existing directory."""
    found = path_kind(run_dir)
    if found == "missing":
        raise ResultsError(f"{run_dir}: no such run directory; pass a run directory that a "
                           "k2matrix sweep wrote (results/<run-id>)")
    if found == "file":
        raise ResultsError(f"{run_dir}: is a file, not a run directory; pass a "
                           "directory that a k2matrix sweep wrote (results/<run-id>)")


def read_meta(run_dir: Path) -> dict[str, Any]:
    """``<run_dir>/meta.json``, checked: an object of a format this k2matrix reads."""
    check_run_dir(run_dir)
    path = run_dir / META_FILE
    if path_kind(path) == "missing":
        raise ResultsError(f"{run_dir}: not a k2matrix run directory (no {META_FILE}); "
                           "give a directory made by a k2matrix sweep (results/<run-id>)")
    fix = (f"{META_FILE} is written by the sweep at its first finished cell and again at "
           "its end: start a new run, or restore the file from a copy")
    meta = read_json(path, fix)
    if not isinstance(meta, dict):
        raise ResultsError(f"{path}: must be a JSON object (the run's metadata), found "
                           f"{type(meta).__name__}; {fix}")
    check_version(meta.get("format_version"), str(path), "run metadata")
    for key, kind in (("cells_planned", list), ("machine_kind", dict), ("targets", list),
                      ("versions", dict), ("machine_info", dict), ("commit_info", dict)):
        if key in meta and not isinstance(meta[key], kind):
            noun = "list" if kind is list else "object"
            raise ResultsError(f"{path}: {key} must be a JSON {noun}, found "
                               f"{type(meta[key]).__name__}; {fix}")
    odd = [c for c in meta.get("cells_planned", []) if not isinstance(c, str)]
    if odd:
        raise ResultsError(f"{path}: cells_planned must list cell ids (strings), found "
                           f"{odd[0]!r}; {fix}")
    return meta
