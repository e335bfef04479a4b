"""pytest-benchmark under xdist, honestly.

pytest-benchmark turns itself off when xdist is active ("Benchmarks are automatically
disabled because xdist plugin is active") and rejects ``--benchmark-only`` with ``-n``. Each
worker is a separate process timing its own cells, which is as real as a ``-n 0`` run (the
record says how many workers ran at the same time, because on 2 cores they contend). So:

- before pytest-benchmark configures, ``--benchmark-only`` is held back so it does not raise;
- once configured, the workers' sessions are switched back on and told not to write files
  (the controller writes the one merged file);
- the controller restores every worker's benchmark, with its raw rounds, as a real
  ``pytest_benchmark.stats.Metadata`` in its own session, so the results table,
  ``--benchmark-json``, ``--benchmark-save``, ``--benchmark-compare`` and
  ``--benchmark-compare-fail`` work exactly as without xdist.

The session is reached through ``config.pluginmanager.getplugin("pytest-benchmark")``, the
name pytest-benchmark registers it under.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from pytest_benchmark.stats import Metadata, Stats

BENCHMARK_PLUGIN = "pytest-benchmark"
HELD_ONLY = pytest.StashKey[bool]()


def benchmark_thinks_xdist(config: pytest.Config) -> bool:
    """pytest-benchmark's own test (``BenchmarkSession.__init__``): a ``--dist`` mode, or
    the PYTEST_XDIST_WORKER variable xdist sets in its workers."""
    return (config.getoption("dist", "no") != "no"
            or bool(os.environ.get("PYTEST_XDIST_WORKER")))


def hold_benchmark_only(config: pytest.Config) -> None:
    """Called before pytest-benchmark's pytest_configure: keep --benchmark-only from turning
    into a usage error under xdist (it is restored by :func:`enable_under_xdist`)."""
    if benchmark_thinks_xdist(config) and getattr(config.option, "benchmark_only", False):
        config.option.benchmark_only = False
        config.stash[HELD_ONLY] = True


def session(config: pytest.Config) -> Any:
    return config.pluginmanager.getplugin(BENCHMARK_PLUGIN)


def enable_under_xdist(config: pytest.Config, is_worker: bool) -> None:
    bs = session(config)
    if bs is None:
        return
    if config.stash.get(HELD_ONLY, False):
        config.option.benchmark_only = True
        bs.only = True
        if bs.skip:
            bs.skip = False
    if not benchmark_thinks_xdist(config):
        return
    if bs.xdist_warning:
        # Disabled only because of xdist (not by --benchmark-disable): switch back on.
        bs.disabled = False
        bs.xdist_warning = False
    if is_worker:
        bs.json = None
        bs.save = None
        bs.autosave = None


class _Restored:
    has_error = False


def restore(bench: dict[str, Any]) -> Metadata:
    """A worker's benchmark dict (with raw rounds) back as a pytest-benchmark Metadata."""
    stats_dict = bench.get("stats", {})
    data = stats_dict.get("data")
    if not data:
        raise ValueError(f"benchmark {bench.get('fullname')} has no raw rounds")
    meta = Metadata.__new__(Metadata)
    meta.name = bench["name"]
    meta.fullname = bench["fullname"]
    meta.group = bench.get("group")
    meta.param = bench.get("param")
    meta.params = bench.get("params")
    meta.extra_info = bench.get("extra_info", {})
    meta.cprofile_stats = None  # type: ignore[assignment]
    meta.iterations = stats_dict.get("iterations", 1)
    meta.options = bench.get("options", {})
    meta.fixture = _Restored()
    stats = Stats()  # type: ignore[no-untyped-call]
    for value in data:
        stats.update(value)  # type: ignore[no-untyped-call]
    meta.stats = stats
    return meta


def for_item(config: pytest.Config, nodeid: str) -> list[Any]:
    """The benchmarks this session recorded for one test (usually one)."""
    bs = session(config)
    if bs is None:
        return []
    return [b for b in bs.benchmarks if b.fullname == nodeid]


def drop(config: pytest.Config, benches: list[Any]) -> None:
    """Exclude benchmarks of a failed cell: an unverified time does not count."""
    bs = session(config)
    for b in benches:
        if b in bs.benchmarks:
            bs.benchmarks.remove(b)


def resolve_compare(config: pytest.Config) -> None:
    """``--benchmark-compare=NAME`` for a run saved with ``--benchmark-save=NAME``: the
    newest saved file of that name. pytest-benchmark matches what it is given against the
    start of the file names (``0001_NAME.json``), so a saved name alone matched nothing and
    ``--benchmark-compare-fail`` then refused to run. A run number, a glob that matches, or
    a file path is left as it is."""
    wanted = getattr(config.option, "benchmark_compare", None)
    storage = str(getattr(config.option, "benchmark_storage", "") or "")
    if not isinstance(wanted, str) or not wanted or wanted.isdigit() or "/" in wanted:
        return
    if "://" in storage and not storage.startswith("file://"):
        return  # another storage (elasticsearch): its own matching applies
    folder = Path(storage.removeprefix("file://") or ".benchmarks")
    if not folder.is_absolute():
        folder = Path(config.invocation_params.dir) / folder
    if any(folder.glob(f"*/{wanted}*.json")):
        return
    saved = sorted(folder.glob(f"*/[0-9][0-9][0-9][0-9]_{wanted}.json"),
                   key=lambda p: (p.name[:4], p.stat().st_mtime))
    if saved:
        config.option.benchmark_compare = str(saved[-1])
