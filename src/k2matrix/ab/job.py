"""An A/B (or the A/A of ``k2matrix noise``) from plain values: checked before any work and
its two sides made ready (:func:`prepare_job`), the sides' trials compared in pairs
(:func:`compare_sides`, written to ``comparison.json``), and the floors an A/A measured
(:func:`measure_floors`, written to ``noise.json`` and ``noise-latest``). The trials
themselves run in :mod:`.run`; the commands are in :mod:`k2matrix.commands`."""

from __future__ import annotations

import os
import tempfile
import time
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from k2matrix.ab.run import Job
from k2matrix.ab.spec import Side, check_matrix, prepare, write_matrix
from k2matrix.errors import K2Error
from k2matrix.options import check_clock
from k2matrix.results.environment import backends_record
from k2matrix.results.merge import check_backends

COMPARISON_FILE = "comparison.json"


@dataclass(frozen=True)
class JobRequest:
    """What an ``ab`` or ``noise`` command line asks for, as plain values."""

    kind: str  # "ab" or "noise": part of the default run id
    specs: tuple[str, str]  # the baseline's and the candidate's SPEC
    matrix: Path
    profile: str
    trials: int
    results: Path
    seed: int
    clock: str = "wall"
    keyword: str | None = None
    workers: str | None = None
    run_id: str | None = None
    duet: bool = False
    force: bool = False  # compare even when the sides' backends run in different modes
    tests: Path | None = None  # the suites (--tests); relative: in each side's project


def prepare_job(req: JobRequest) -> Job:
    """The job ``req`` asks for, its sides ready and their matrices written; a K2Error
    naming the option and the fix before any trial runs."""
    from k2matrix.matrix import load_matrix

    if req.duet and req.workers is not None:
        raise K2Error(f"--duet with -n {req.workers}: a duet runs each side in one "
                      "process on its half of the CPUs; leave out -n or --duet")
    if req.duet and req.clock == "instructions":
        raise K2Error("--duet with --clock instructions: a count does not depend on what "
                      "runs beside it; leave out --duet")
    check_clock(req.clock)
    load_matrix(req.matrix).cells(req.profile)  # a bad matrix or profile: before any work
    project = req.matrix.resolve().parent
    suites = req.tests or Path("tests") / "performance"
    if not (project / suites).exists():
        if req.tests is not None:
            raise K2Error(f"--tests {req.tests}: no such file or directory in {project}; "
                          "pass the folder or file of the benchmark suites")
        raise K2Error(f"--matrix {req.matrix}: no tests/performance beside it; run from the "
                      "project folder, pass its matrix.toml, or pass --tests PATH")
    run_id = req.run_id or time.strftime("%Y%m%d-%H%M%S") + f"-{req.kind}-{req.profile}"
    run_dir = req.results.resolve() / run_id  # absolute: a git side runs in its own worktree
    if run_dir.exists():
        raise K2Error(f"--run-id {run_id}: {run_dir} exists; choose another run id")
    cache = project / ".k2matrix" / "ab"
    sides = tuple(prepare(name, spec, project, req.matrix.resolve(), cache)
                  for name, spec in zip(("baseline", "candidate"), req.specs, strict=True))
    for side in sides:
        check_matrix(side)
    check_backends([(f"the {side.name} {side.spec}", _backends_header(side)) for side in sides],
                   req.force, action="compare")
    for side in sides:
        write_matrix(side, run_dir / side.name)
    return Job(run_dir=run_dir, sides=(sides[0], sides[1]), trials=req.trials,
               profile=req.profile, keyword=req.keyword, workers=req.workers,
               seed=req.seed, duet=req.duet, suites=suites,
               # wall is the default: an older side (git:REF) may not know --k2-clock
               pytest_args=[] if req.clock == "wall" else [f"--k2-clock={req.clock}"])


def _backends_header(side: Side) -> dict[str, Any]:
    """The backends a side will measure against (its matrix with its ``set:`` overrides,
    under its ``env:`` variables), as a run header's environment; none (unknown, not
    checked) when this k2matrix cannot read the side's matrix (a ``git:`` side's older
    format)."""
    from k2matrix.matrix import load_matrix

    try:
        if side.matrix_text is None:
            backends = load_matrix(side.matrix).backends
        else:
            with tempfile.TemporaryDirectory(prefix="k2-ab-matrix-") as scratch:
                path = Path(scratch) / "matrix.toml"
                path.write_text(side.matrix_text, encoding="utf-8")
                backends = load_matrix(path).backends
    except K2Error:
        return {}
    env = backends.with_environment({**os.environ, **side.env})
    return {"environment": {"backends": backends_record(env)}}


def compare_sides(job: Job, *, threshold: float, confidence: float, metric: str,
                  noise: str | None, floors: Mapping[str, float] | None = None,
                  notes: tuple[str, ...] = (), force: bool = False) -> dict[str, Any]:
    """The sides' trials compared in pairs (``noise``: a noise run, ``"none"``, or None for
    ``noise-latest`` when it applies; ``floors``: measured floors only reported, see
    :func:`k2matrix.compare.runs.compare_runs`), written to ``comparison.json``. The sides'
    matrices may differ (that is an A/B); their backends' modes only with ``force``."""
    from k2matrix.compare.noise import noise_for
    from k2matrix.compare.runs import compare_runs
    from k2matrix.results.jsonfile import write_json_atomic
    from k2matrix.results.load import load_run

    base, cand = (load_run(job.run_dir / s.name) for s in job.sides)
    models, found = noise_for(noise, job.run_dir.parent, cand.k2)
    order = f"the sides ran in the order --seed {job.seed} draws (pass it to repeat it)"
    doc = compare_runs(base, cand, threshold=threshold, confidence=confidence,
                       paired=True, noise=models, force=True, force_backends=force,
                       notes=[*found, *notes, order], metric=metric, floors=floors)
    doc["run_dir"] = str(job.run_dir)
    doc["specs"] = {s.name: s.spec for s in job.sides}
    doc["seed"] = job.seed
    write_json_atomic(job.run_dir / COMPARISON_FILE, doc)
    return doc


def measure_floors(job: Job, confidence: float) -> tuple[dict[str, float], Path]:
    """An A/A's noise models from its paired trials, written to ``noise.json`` (and
    ``noise-latest``); each model's floor at the A/A's own trials and ``confidence``, and
    the file written."""
    from k2matrix.compare import noise
    from k2matrix.compare.trial_figures import trial_values
    from k2matrix.results.load import load_run

    runs = [load_run(job.run_dir / s.name) for s in job.sides]
    models = {}
    for metric, suffix in (("time", ""), ("relative", noise.RELATIVE_KEY)):
        base, cand = (trial_values(run, metric) for run in runs)
        models.update({cid + suffix: m for cid in cand if cid in base
                       if (m := noise.measure(base[cid], cand[cid], "measured")) is not None})
    path = noise.write_noise(job.run_dir, models, confidence, runs[-1].k2)
    return {cid: m.floor(m.trials, confidence) for cid, m in models.items()}, path
