"""The noise floor: per cell, the smallest change a comparison can resolve on this machine,
measured by an A/A (``k2matrix noise``: two sides of identical code, trials interleaved).

From the A/A's paired trials each cell gets ``sigma``, the standard deviation of the log
ratio of paired trial medians; :meth:`NoiseModel.floor` turns it into the half-width of a
comparison's interval at any trial count and confidence. Counted figures get their
*spread* instead (:mod:`.spreads`): the instruction count under the instructions clock,
and every counter. The models are kept in the noise run's directory as ``noise.json`` and
``results/noise-latest`` points at the newest::

    {"format_version": 2, "kind": "k2matrix-noise", "run_id", "created", "confidence",
     "trials", "profile", "matrix_fingerprint", "machine_kind", "workers", "clock",
     "cells": {id: {"sigma", "trials", "noise_floor",
                    "relative": {"sigma", "trials", "noise_floor"},
                    "instructions": {"spread", "trials"},
                    "counters": {name: {"spread", "trials", "exact"}}}},
     "exact_counters": {"cells": {id: [names]}, "everywhere": [names],
                        "noisy": {name: cells}}}

(``noise_floor`` at the run's own trial count and confidence; ``relative`` for the cells
with an in-run reference, the noise of ``--metric relative``; ``instructions`` only under
the instructions clock; ``counters`` for the cells that recorded counters.) Version 1
files (no clock: ``wall``; no spreads) still read. A noise file applies to a run of the
same matrix, profile, kind of machine and clock.
"""

from __future__ import annotations

import math
import time
from collections.abc import Mapping, Sequence
from pathlib import Path
from typing import Any

from k2matrix import figures
from k2matrix.compare.spreads import (
    COUNTER_KEY,
    INSTRUCTIONS_KEY,
    counter_key,
    exact_counters,
    measure_spreads,
)
from k2matrix.compare.statistics import NoiseModel
from k2matrix.compare.trial_figures import run_clock
from k2matrix.errors import ResultsError
from k2matrix.results.jsonfile import path_kind, read_json, write_json_atomic
from k2matrix.results.load import Run, load_run

NOISE_FILE = "noise.json"
NOISE_LATEST = "noise-latest"
NOISE_KIND = "k2matrix-noise"
NOISE_VERSION = 2
READ_VERSIONS = (1, 2)
SIDES = ("baseline", "candidate")  # the A/A's run directories inside the noise run's
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
                header: Mapping[str, Any], *, sides: Sequence[Run] | None = None) -> Path:
    """Write ``noise.json`` into ``run_dir`` and point ``<results>/noise-latest`` at it.
    ``sides`` are the A/A's two runs, whose counted spreads it adds (default: the
    ``baseline`` and ``candidate`` run directories in ``run_dir``, as ``k2matrix noise``
    lays them out, when both are there)."""
    runs = list(sides) if sides is not None else _sides(run_dir)
    every = {**measure_spreads(runs), **models}
    time_models = [m for m in every.values() if m.spread is None]
    trials = max((m.trials for m in time_models), default=0)
    clock = header.get("clock") or (run_clock(runs[-1]) if runs else None)
    doc = {"format_version": NOISE_VERSION, "kind": NOISE_KIND, "run_id": run_dir.name,
           "created": time.time(), "confidence": confidence, "trials": trials,
           **{k: header.get(k) for k in (*MATCHED_KEYS, "workers")},
           "clock": figures.check_clock(clock, "the noise run"),
           "cells": _cells(every, confidence),
           "exact_counters": exact_counters({k: m.spread for k, m in every.items()
                                             if COUNTER_KEY in k})}
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


def _sides(run_dir: Path) -> list[Run]:
    """The A/A's two runs in a noise run's directory; none when they are not both there."""
    try:
        return [load_run(run_dir / name) for name in SIDES]
    except ResultsError:
        return []


def _cells(models: Mapping[str, NoiseModel], confidence: float) -> dict[str, Any]:
    def one(m: NoiseModel) -> dict[str, Any]:
        return {"sigma": m.sigma, "trials": m.trials,
                "noise_floor": m.floor(m.trials, confidence)}

    cells: dict[str, Any] = {cid: one(m) for cid, m in sorted(models.items())
                             if "@" not in cid}
    for key, m in sorted(models.items()):
        if key.endswith(RELATIVE_KEY):
            cells.setdefault(key.removesuffix(RELATIVE_KEY), {})["relative"] = one(m)
        elif key.endswith(INSTRUCTIONS_KEY) and m.spread is not None:
            cells.setdefault(key.removesuffix(INSTRUCTIONS_KEY), {})["instructions"] = {
                "spread": m.spread, "trials": m.trials}
        elif COUNTER_KEY in key and m.spread is not None:
            cid, _, name = key.partition(COUNTER_KEY)
            cells.setdefault(cid, {}).setdefault("counters", {})[name] = {
                "spread": m.spread, "trials": m.trials, "exact": m.spread == 0.0}
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
    if doc.get("format_version") not in READ_VERSIONS:
        raise ResultsError(f"{file}: noise format_version {doc.get('format_version')!r} is "
                           "not supported (this k2matrix reads "
                           f"{' and '.join(map(str, READ_VERSIONS))}); measure it again with "
                           "`k2matrix noise`")
    return doc


def models(doc: Mapping[str, Any]) -> dict[str, NoiseModel]:
    """The cells' noise models of a noise document (``id`` for time, ``id@relative`` for
    the relative metric, ``id@instructions`` and ``id@counter:NAME`` for counted figures,
    whose model is a ``spread``)."""
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
        counters = cell.get("counters")
        spreads = [(f"{cid}{INSTRUCTIONS_KEY}", cell.get("instructions")),
                   *((counter_key(str(cid), str(name)), entry) for name, entry in
                     (counters.items() if isinstance(counters, dict) else ()))]
        for key, entry in spreads:
            found = figures.number(entry.get("spread")) if isinstance(entry, dict) else None
            if found is not None and found >= 0:
                out[key] = NoiseModel(sigma=0.0, trials=int(entry.get("trials", 0)),
                                      source=source, spread=found)
    return out


def mismatch(doc: Mapping[str, Any], k2: Mapping[str, Any]) -> list[str]:
    """The keys on which a noise document and a run differ (those a noise floor needs to
    apply: the matrix, profile, kind of machine and clock); keys either side lacks are
    skipped, but a missing clock is ``wall``."""
    out = [f"{key}: noise {doc.get(key)!r}, run {k2.get(key)!r}" for key in MATCHED_KEYS
           if doc.get(key) is not None and k2.get(key) is not None
           and doc.get(key) != k2.get(key)]
    noise_clock, run_clock = doc.get("clock") or figures.WALL, k2.get("clock") or figures.WALL
    if noise_clock != run_clock:
        out.append(f"clock: noise {noise_clock!r}, run {run_clock!r}")
    return out


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


def noise_for(option: str | None, results: Path, k2: Mapping[str, Any]
              ) -> tuple[dict[str, NoiseModel], list[str]]:
    """The noise models a comparison uses, and what to say about them: ``option`` is a
    ``k2matrix noise`` run, ``"none"`` for none, or None for ``results/noise-latest`` when
    it applies to the run ``k2``."""
    if option == "none":
        return {}, []
    if option:
        doc = read_noise(Path(option))
        differs = mismatch(doc, k2)
        notes = [f"--noise {option}: measured for another setting ({'; '.join(differs)})"
                 ] if differs else []
        return models(doc), [*notes, f"noise floors from {option}"]
    found, note = find_noise(results, k2)
    return found, [note]
