"""The noise floor: per cell, the smallest change a comparison can resolve on this machine,
measured by an A/A (``k2matrix noise``: two sides of identical code, trials interleaved).

From the A/A's paired trials each cell gets ``sigma``, the standard deviation of the log
ratio of paired trial medians; :meth:`NoiseModel.floor` turns it into the half-width of a
comparison's interval at any trial count and confidence. The models are kept in the noise
run's directory as ``noise.json`` and ``results/noise-latest`` points at the newest::

    {"format_version": 1, "kind": "k2matrix-noise", "run_id", "created", "confidence",
     "trials", "profile", "matrix_fingerprint", "machine_kind", "workers",
     "cells": {id: {"sigma", "trials", "noise_floor",
                    "relative": {"sigma", "trials", "noise_floor"}}}}

(``noise_floor`` at the run's own trial count and confidence; ``relative`` for the cells
with an in-run reference, the noise of ``--metric relative``).
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from k2matrix.compare.statistics import NoiseModel
from k2matrix.errors import ResultsError
from k2matrix.results.jsonfile import path_kind, read_json, write_json_atomic

NOISE_FILE = "noise.json"
NOISE_LATEST = "noise-latest"
NOISE_KIND = "k2matrix-noise"
NOISE_VERSION = 1
MATCHED_KEYS = ("matrix_fingerprint", "profile", "machine_kind")
RELATIVE_KEY = "@relative"  # the key suffix of a cell's relative-metric noise model


def measure(base: Sequence[float], cand: Sequence[float], source: str = "measured"
            ) -> NoiseModel | None:
    """A cell's noise model from paired A/A trial medians (None with fewer than 2 pairs)."""
    pairs = [(a, b) for a, b in zip(base, cand, strict=False) if a > 0 and b > 0]
    if len(pairs) < 2:
        return None
    logs = [math.log(b / a) for a, b in pairs]
    mean = math.fsum(logs) / len(logs)
    sigma = math.sqrt(math.fsum((x - mean) ** 2 for x in logs) / (len(logs) - 1))
    return NoiseModel(sigma=sigma, trials=len(pairs), source=source)


def write_noise(run_dir: Path, models: Mapping[str, NoiseModel], confidence: float,
                header: Mapping[str, Any]) -> Path:
    """Write ``noise.json`` into ``run_dir`` and point ``<results>/noise-latest`` at it."""
    trials = max((m.trials for m in models.values()), default=0)
    doc = {"format_version": NOISE_VERSION, "kind": NOISE_KIND, "run_id": run_dir.name,
           "created": time.time(), "confidence": confidence, "trials": trials,
           **{k: header.get(k) for k in (*MATCHED_KEYS, "workers")},
           "cells": _cells(models, confidence)}
    path = run_dir / NOISE_FILE
    write_json_atomic(path, doc)
    link = run_dir.parent / NOISE_LATEST
    try:
        if link.is_symlink():
            link.unlink()
        if not link.exists():
            link.symlink_to(run_dir.name, target_is_directory=True)
    except OSError:
        pass
    return path


def _cells(models: Mapping[str, NoiseModel], confidence: float) -> dict[str, Any]:
    def one(m: NoiseModel) -> dict[str, Any]:
        return {"sigma": m.sigma, "trials": m.trials,
                "noise_floor": m.floor(m.trials, confidence)}

    cells: dict[str, Any] = {cid: one(m) for cid, m in sorted(models.items())
                             if not cid.endswith(RELATIVE_KEY)}
    for key, m in sorted(models.items()):
        if key.endswith(RELATIVE_KEY):
            cells.setdefault(key.removesuffix(RELATIVE_KEY), {})["relative"] = one(m)
    return cells


def read_noise(path: Path) -> dict[str, Any]:
    """A noise document from a noise run's directory or its ``noise.json``."""
    file = path / NOISE_FILE if path.is_dir() else path
    if path_kind(file) == "missing":
        raise ResultsError(f"--noise {path}: no {NOISE_FILE} there; give the directory that "
                           "`k2matrix noise` wrote (results/noise-latest), or measure one "
                           "with `k2matrix noise --trials 5`")
    doc = read_json(file, f"measure it again with `k2matrix noise` (it rewrites {file})")
    if not isinstance(doc, dict) or doc.get("kind") != NOISE_KIND or not isinstance(
            doc.get("cells"), dict):
        raise ResultsError(f"{file}: not a k2matrix noise file (kind {NOISE_KIND!r} with "
                           "cells); measure one with `k2matrix noise`")
    if doc.get("format_version") != NOISE_VERSION:
        raise ResultsError(f"{file}: noise format_version {doc.get('format_version')!r} is "
                           f"not supported (this k2matrix reads {NOISE_VERSION}); measure "
                           "it again with `k2matrix noise`")
    return doc


def models(doc: Mapping[str, Any]) -> dict[str, NoiseModel]:
    """The cells' noise models of a noise document (``id`` for time, ``id@relative`` for
    the relative metric)."""
    source = f"noise run {doc.get('run_id')}"
    out = {}
    for cid, cell in doc["cells"].items():
        if not isinstance(cell, dict):
            continue
        for key, entry in ((str(cid), cell), (f"{cid}{RELATIVE_KEY}", cell.get("relative"))):
            if isinstance(entry, dict) and isinstance(entry.get("sigma"), int | float) and int(
                    entry.get("trials", 0)) >= 2:
                out[key] = NoiseModel(sigma=float(entry["sigma"]), trials=int(entry["trials"]),
                                      source=source)
    return out


def mismatch(doc: Mapping[str, Any], k2: Mapping[str, Any]) -> list[str]:
    """The keys on which a noise document and a run differ (those a noise floor needs to
    apply: the matrix, profile and kind of machine); keys either side lacks are skipped."""
    return [f"{key}: noise {doc.get(key)!r}, run {k2.get(key)!r}" for key in MATCHED_KEYS
            if doc.get(key) is not None and k2.get(key) is not None
            and doc.get(key) != k2.get(key)]


def find_noise(results: Path, k2: Mapping[str, Any]) -> tuple[dict[str, NoiseModel], str]:
    """The noise models of ``results/noise-latest`` when it matches the run, and a note
    saying what was used or why not (no models when none applies)."""
    link = results / NOISE_LATEST
    if not (link / NOISE_FILE).is_file():
        return {}, ("no measured noise floor (run `k2matrix noise` once on this machine); "
                    "floors come from each comparison's own trials")
    try:
        doc = read_noise(link)
    except ResultsError as exc:
        return {}, f"{link}: ignored: {exc}"
    differs = mismatch(doc, k2)
    if differs:
        return {}, f"{link} does not apply ({'; '.join(differs)}); not used"
    return models(doc), f"noise floors from {link.resolve().name} ({doc.get('trials')} trials)"
