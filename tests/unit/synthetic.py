"""Synthetic results documents in the k2 results format: inputs for the summary's tests,
its timing on 10K cells, and demonstrations. Times follow ``fixed + per_item * size`` with
seeded noise; nothing here stands in for a system under test."""

from __future__ import annotations

import json
from collections.abc import Iterable, Mapping, Sequence
from itertools import product
from pathlib import Path
from typing import Any

import numpy as np

from k2matrix.cell import format_param


def cell_dict(component: str, case: str, **params: Any) -> dict[str, Any]:
    """A cell as the plugin records it (``Cell.to_dict()``), with a readable id."""
    parts = [component, case, *(format_param(k, v) for k, v in params.items())]
    out: dict[str, Any] = {"id": "-".join(parts), "component": component, "case": case,
                           "schema": str(params.get("schema", ""))}
    out.update(params)
    out.update(seed=0, slow=False, settings={})
    return out


def stats_table(data: np.ndarray[Any, Any], save_data: bool = True) -> list[dict[str, Any]]:
    """pytest-benchmark's stats for each row of per-round times (seconds), vectorized."""
    arr = np.atleast_2d(np.asarray(data, dtype=float))
    q1, median, q3 = np.quantile(arr, [0.25, 0.5, 0.75], axis=1)
    mean, lo, hi, total = arr.mean(axis=1), arr.min(axis=1), arr.max(axis=1), arr.sum(axis=1)
    std = arr.std(axis=1, ddof=1) if arr.shape[1] > 1 else np.zeros(arr.shape[0])
    rounds = arr.shape[1]
    out = []
    for i in range(arr.shape[0]):
        row: dict[str, Any] = {
            "min": float(lo[i]), "max": float(hi[i]), "mean": float(mean[i]),
            "stddev": float(std[i]), "rounds": rounds, "median": float(median[i]),
            "iqr": float(q3[i] - q1[i]), "q1": float(q1[i]), "q3": float(q3[i]),
            "iqr_outliers": 0, "stddev_outliers": 0, "outliers": "0;0",
            "ld15iqr": float(lo[i]), "hd15iqr": float(hi[i]),
            "ops": 1.0 / float(mean[i]) if mean[i] else 0.0, "total": float(total[i]),
            "iterations": 1,
        }
        if save_data:
            row["data"] = arr[i].tolist()
        out.append(row)
    return out


def stats_of(data: Sequence[float], save_data: bool = True) -> dict[str, Any]:
    """pytest-benchmark's stats for one cell's per-round times (seconds)."""
    return stats_table(np.asarray([data], dtype=float), save_data)[0]


def benchmark(cell: Mapping[str, Any], data: Sequence[float],
              extra: Mapping[str, Any] | None = None, save_data: bool = True,
              stats: dict[str, Any] | None = None) -> dict[str, Any]:
    """One pytest-benchmark entry for a k2 cell (``stats`` if already computed)."""
    name = f"test_{cell['case']}[{cell['id']}]"
    info: dict[str, Any] = dict(extra or {})
    items = info.get("items")
    stats = stats if stats is not None else stats_of(data, save_data)
    median = stats["median"]
    if items is not None and "throughput" not in info and median > 0:
        info["throughput"] = items / median
    info["k2"] = {"cell": dict(cell), "worker": "main", "workers": 1, "concurrent": False,
                  "affinity": []}
    return {"group": None, "name": name,
            "fullname": f"tests/performance/test_{cell['component']}.py::{name}",
            "params": {"k2_cell": cell["id"]}, "param": cell["id"], "extra_info": info,
            "options": {}, "stats": stats}


def document(benchmarks: Iterable[dict[str, Any]],
             targets: Sequence[Mapping[str, Any]] = (), fingerprint: str = "0" * 16,
             run_id: str = "synthetic", failed: Sequence[str] = ()) -> dict[str, Any]:
    """A whole results document (benchmarks.json)."""
    benches = list(benchmarks)
    return {
        "machine_info": {"node": "synthetic", "cpu": {"count": 2}},
        "commit_info": {}, "datetime": "2026-11-26T00:00:00", "version": "5.3.1",
        "benchmarks": benches,
        "k2": {"format_version": 1, "run_id": run_id, "profile": "synthetic",
               "matrix": "matrix.toml", "matrix_fingerprint": fingerprint,
               "targets": [dict(t) for t in targets], "versions": {}, "backends": {},
               "workers": 1, "cells_planned": [b["extra_info"]["k2"]["cell"]["id"]
                                               for b in benches] + list(failed),
               "failed": [{"nodeid": f"tests/performance/test_x.py::test[{f}]", "cell": f,
                           "status": "failed", "error": "E   AssertionError: checksum"}
                          for f in failed],
               "cells_missing": list(failed)},
    }


def with_trials(bench: dict[str, Any], trial_rounds: Sequence[Sequence[float]]
                ) -> dict[str, Any]:
    """``bench`` as a run of several trials folds it: pooled stats and ``k2.trials``."""
    pooled = [float(v) for rounds in trial_rounds for v in rounds]
    bench["stats"] = stats_of(pooled)
    bench["extra_info"]["k2"]["trials"] = [
        {"trial": i + 1, "median": float(np.median(rounds)), "rounds": [float(v) for v in rounds]}
        for i, rounds in enumerate(trial_rounds)]
    return bench


def trials_document(n_cells: int, trials: int, rounds: int = 5, slowdown: float = 1.0,
                    between: float = 0.03, within: float = 0.02, seed: int = 0,
                    fingerprint: str = "0" * 16) -> dict[str, Any]:
    """``n_cells`` writer cells measured in ``trials`` trials: each trial's speed is off by
    a lognormal factor (sd ``between``, the machine's drift from process to process), each
    round by ``within``; time = 0.01 * (1 + cell / 10) * slowdown."""
    rng = np.random.default_rng(seed)
    benches = []
    for i in range(n_cells):
        base = 0.01 * (1 + i / 10) * slowdown
        per_trial = [base * rng.lognormal(0.0, between) * rng.lognormal(0.0, within, rounds)
                     for _ in range(trials)]
        cell = cell_dict("writer", "throughput", batch_size=100 * (i + 1))
        benches.append(with_trials(benchmark(cell, per_trial[0], {"items": 100 * (i + 1),
                                                                   "unit": "rows/s"}),
                                   per_trial))
    return document(benches, fingerprint=fingerprint)


def synthetic_document(n_cells: int, rounds: int = 5, slowdown: float = 1.0, seed: int = 0,
                       save_data: bool = True) -> dict[str, Any]:
    """``n_cells`` query-latency cells over shapes, engines, layouts, schemas, sizes and a
    ``variant`` axis, time = (0.002 + 2e-8 * size) * slowdown with 2% noise."""
    rng = np.random.default_rng(seed)
    shapes = ("simple_scan", "filtered", "aggregation", "time_range")
    engines = ("duckdb_iceberg_scan", "duckdb_parquet", "polars")
    layouts = ("unpartitioned", "day_symbol", "day_bucket", "sorted")
    schemas = ("v1", "v2")
    sizes = (100_000, 300_000, 1_000_000, 3_000_000, 10_000_000)
    combos = list(product(shapes, engines, layouts, schemas, sizes))
    noise = rng.normal(1.0, 0.02, size=(n_cells, rounds))
    picked = [combos[i % len(combos)] for i in range(n_cells)]
    base = np.array([(0.002 + 2e-8 * size) * (1.3 if schema == "v2" else 1.0)
                     for _, _, _, schema, size in picked]) * slowdown
    stats = stats_table(base[:, None] * noise, save_data)
    out = []
    for i, (shape, engine, layout, schema, size) in enumerate(picked):
        cell = cell_dict("query", "latency", query_shape=shape, engine=engine, layout=layout,
                         schema=schema, dataset_size=size, variant=i // len(combos))
        out.append(benchmark(cell, (), {"items": 1, "unit": "queries/s"}, save_data,
                             stats=stats[i]))
    targets = [{"name": "simple_scan", "metric": "median_ms", "direction": "lower",
                "target": 100, "critical": 500, "applies_to": ["query.latency"],
                "where": {"query_shapes": ["simple_scan"]}, "unit": "", "sustained": False}]
    return document(out, targets)


def journal_line(cell: Mapping[str, Any], data: Sequence[float] = (0.01, 0.011, 0.012),
                 status: str = "passed", worker: str = "gw0", started: float = 0.0,
                 finished: float = 1.0, error: str | None = None) -> dict[str, Any]:
    """One journal line (``CellRecord.to_json()``) for a k2 cell; a benchmark only when it
    passed."""
    bench = benchmark(cell, data) if status == "passed" else None
    return {"format_version": 1, "nodeid": bench["fullname"] if bench else
            f"tests/performance/test_{cell['component']}.py::test_{cell['case']}[{cell['id']}]",
            "cell": dict(cell), "status": status, "error": error, "worker": worker,
            "pid": 4242, "started": started, "finished": finished, "benchmark": bench,
            "overhead_s": 0.0005}


def run_meta(cells_planned: Sequence[str], fingerprint: str = "0" * 16,
             profile: str = "synthetic", cpu_count: int = 2) -> dict[str, Any]:
    """A run's ``meta.json``."""
    return {"format_version": 1, "run_id": "synthetic", "profile": profile,
            "matrix": "matrix.toml", "matrix_fingerprint": fingerprint, "targets": [],
            "versions": {}, "backends": {},
            "machine_kind": {"system": "Linux", "machine": "x86_64", "cpu_count": cpu_count,
                             "python": "3.11.7"},
            "machine_info": {}, "commit_info": {}, "workers": 1, "shard": None,
            "cells_planned": list(cells_planned)}


def write_run_dir(run_dir: Path, lines: Sequence[Mapping[str, Any]],
                  meta: Mapping[str, Any] | None = None, worker: str = "gw0") -> Path:
    """A run directory as an interrupted sweep leaves it: ``meta.json`` and one journal."""
    run_dir.mkdir(parents=True, exist_ok=True)
    planned = [str(line["cell"]["id"]) for line in lines if line.get("cell")]
    (run_dir / "meta.json").write_text(json.dumps(dict(meta or run_meta(planned))))
    (run_dir / f"journal-{worker}.jsonl").write_text(
        "".join(json.dumps(dict(line)) + "\n" for line in lines))
    return run_dir


def drifting_document(n_cells: int, trials: int, rounds: int = 9, cell_slowdown: float = 1.0,
                      reference_slowdown: float = 1.0, seed: int = 0) -> dict[str, Any]:
    """Cells with a paired in-run reference on a machine whose speed halves at random from
    one second to the next (as measured here: another tenant on the core's sibling): each
    round's speed factor is 1 or 2, shared by the round and the reference round before it;
    3% of independent noise on each. Each trial records its ``efficiency`` (the median over
    rounds of reference / cell), as the suites do."""
    rng = np.random.default_rng(seed)
    benches = []
    for i in range(n_cells):
        cell_s, ref_s = 0.01 * (1 + i / 10), 0.004 * (1 + i / 10)
        per_trial, efficiency = [], []
        for _ in range(trials):
            speed = rng.choice([1.0, 2.0], size=rounds)
            times = cell_s * cell_slowdown * speed * rng.lognormal(0.0, 0.03, rounds)
            refs = ref_s * reference_slowdown * speed * rng.lognormal(0.0, 0.03, rounds)
            per_trial.append(times)
            efficiency.append(float(np.median(refs / times)))
        cell = cell_dict("writer", "throughput", batch_size=100 * (i + 1))
        bench = with_trials(benchmark(cell, per_trial[0], {"items": 100, "unit": "rows/s"}),
                            per_trial)
        for entry, eff in zip(bench["extra_info"]["k2"]["trials"], efficiency, strict=True):
            entry["efficiency"] = eff
        benches.append(bench)
    return document(benches)
