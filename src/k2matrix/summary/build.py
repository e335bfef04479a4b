"""Put the pieces together: a run (and a baseline) in, one :class:`Summary` out: its cells
with their status in words, the verdict and the cells that decided it, the environment the
run measured in (``summary.environment``, with ``summary.warnings`` such as a high load),
scaling, drift, storage costs and, with a baseline, the comparison."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import polars as pl

from k2matrix.compare.noise import find_noise
from k2matrix.compare.runs import compare_runs
from k2matrix.compare.statistics import DEFAULT_CONFIDENCE, DEFAULT_THRESHOLD
from k2matrix.errors import ResultsError
from k2matrix.results.environment import read_environment
from k2matrix.results.load import Run, load_run
from k2matrix.summary.compare import run_shift
from k2matrix.summary.draws import draw_spread
from k2matrix.summary.drift import drift
from k2matrix.summary.environment import environment_warnings
from k2matrix.summary.headroom import status_texts
from k2matrix.summary.noise import noise_floors
from k2matrix.summary.pipeline import pipeline_stages
from k2matrix.summary.rows import Cells, build_cells
from k2matrix.summary.scaling import fit_scaling, schema_ratios
from k2matrix.summary.status import apply_targets
from k2matrix.summary.storage import storage_costs
from k2matrix.summary.verdict import BLOCKING, Verdict, decide

SUMMARY_VERSION = 1
CELL_FIELDS = ("median_s", "iqr_s", "rounds", "trials", "throughput", "unit", "p99_ms",
               "efficiency", "noise_floor", "status", "target", "concurrent", "status_text",
               "target_figure", "target_value", "target_critical", "headroom")
SCALING_FIELDS = ("component", "case", "schema", "size_axis", "points", "size_min",
                  "size_max", "exponent", "r2_loglog", "fixed_s", "per_item_s", "r2",
                  "bend_at", "v2_v1_ratio")


@dataclass
class Summary:
    run: Run
    cells: Cells
    verdict: Verdict
    scaling: pl.DataFrame
    ratios: pl.DataFrame
    drift: pl.DataFrame
    baseline: Run | None = None
    comparison: dict[str, Any] | None = None
    notes: list[str] = field(default_factory=list)
    storage: pl.DataFrame = field(default_factory=pl.DataFrame)  # summary/storage.py
    draws: pl.DataFrame = field(default_factory=pl.DataFrame)  # summary/draws.py
    stages: pl.DataFrame = field(default_factory=pl.DataFrame)  # summary/pipeline.py
    # results/environment.py's record (or its unknown stand-in) and what it warns of
    environment: dict[str, Any] = field(default_factory=dict)
    warnings: list[str] = field(default_factory=list)
    fail_on: str = BLOCKING  # exit 1 at this verdict or a worse one (summary --fail-on)

    @property
    def frame(self) -> pl.DataFrame:
        return self.cells.frame

    @property
    def regressions(self) -> int:
        if self.comparison is None:
            return 0
        return int(self.comparison["counts"].get("regression", 0))

    @property
    def exit_code(self) -> int:
        """1 on a regression or a verdict at ``fail_on`` or worse (Blocking unless
        ``--fail-on`` says otherwise), else 0."""
        return 1 if self.regressions or self.verdict.at_or_worse(self.fail_on) else 0

    def scaling_axes(self) -> list[str]:
        """The axis columns a scaling row carries besides component, case and schema."""
        return [a for a in self.cells.axes if a in self.scaling.columns]

    def to_dict(self) -> dict[str, Any]:
        k2 = self.run.k2
        out: dict[str, Any] = {
            "summary_version": SUMMARY_VERSION,
            "run": {"source": self.run.source, "run_id": k2.get("run_id"),
                    "profile": k2.get("profile"),
                    "matrix_fingerprint": k2.get("matrix_fingerprint")},
            "verdict": self.verdict.verdict,
            "verdict_reason": self.verdict.reason,
            "deciding_cells": self.verdict.deciding,
            "fail_on": self.fail_on,
            "counts": self.verdict.counts,
            "environment": self.environment,
            "warnings": self.warnings,
            "cells": self._cells(),
            "failed": self.cells.failed,
            "scaling": _records(self.scaling, [*SCALING_FIELDS[:3], *self.scaling_axes(),
                                               *SCALING_FIELDS[3:]]),
            "schema_ratios": _records(self.ratios, self.ratios.columns),
            "drift": _records(self.drift, self.drift.columns),
            "notes": self.notes,
            "storage_costs": _records(self.storage, self.storage.columns),
            "draws": _records(self.draws, self.draws.columns),
            "pipeline_stages": _records(self.stages, self.stages.columns),
        }
        if self.comparison is not None and self.baseline is not None:
            doc = self.comparison
            out["baseline"] = {"source": self.baseline.source,
                               "run_id": self.baseline.k2.get("run_id"),
                               "threshold": doc["threshold"],
                               "confidence": doc["confidence"],
                               "verdict": doc["verdict"], "counts": doc["counts"],
                               "shift": run_shift(doc)}
            out["comparisons"] = doc["comparisons"]
            out["regressions"] = self.regressions
        return out

    def _cells(self) -> list[dict[str, Any]]:
        axes = self.cells.axes
        rows = _records(self.frame, ["id", "component", "case", "schema", *axes,
                                     *CELL_FIELDS])
        if axes:
            for row in rows:
                for axis in axes:
                    if row[axis] is None:
                        del row[axis]
        return rows


def _records(frame: pl.DataFrame, columns: list[str] | tuple[str, ...]) -> list[dict[str, Any]]:
    """Rows as dicts, NaN/inf as None (JSON has no NaN)."""
    cols = [c for c in columns if c in frame.columns]
    if not cols or not frame.height:
        return []
    floats = [c for c in cols if frame.schema[c] in (pl.Float64, pl.Float32)]
    sel = frame.select(cols)
    if floats:
        sel = sel.with_columns(
            [pl.when(pl.col(c).is_finite()).then(pl.col(c)).alias(c) for c in floats])
    return sel.to_dicts()


def analyse(run: Run, confidence: float = DEFAULT_CONFIDENCE) -> Summary:
    cells = build_cells(run)
    cells.axes = sorted(cells.axes)  # one order for group labels, whatever ran first
    models, _ = find_noise(results_folder(run), run.k2)
    cells.frame = noise_floors(cells.frame, run, models, confidence)
    counted = run.k2.get("clock") == "instructions"
    # the targets are times: a count is never judged against one
    frame = apply_targets(cells.frame, [] if counted else run.targets)
    frame = frame.with_columns(pl.Series("status_text", status_texts(frame), dtype=pl.String))
    cells.frame = frame
    failed_ids = {f["id"] for f in cells.failed}
    outside = run.not_applicable  # never in the verdict: neither failed nor passed
    missing = [c for c in run.missing if c not in failed_ids]
    planned = run.k2.get("cells_planned")
    judged = frame.filter(pl.col("status") != "not_judged") if frame.height else frame
    verdict = decide(judged, cells.failed, missing=missing, counted=counted,
                     planned=len(planned) - len(outside)
                     if isinstance(planned, list) and planned else None)
    environment = read_environment(run.k2)
    hosts = run.k2.get("hosts")
    if isinstance(hosts, dict) and hosts:  # where the workers ran (docs/hosts.md)
        environment = {**environment, "hosts": hosts}
    notes = list(run.notes)
    notes.extend(str(n) for n in run.k2.get("merge_notes") or [])
    if counted:
        notes.append("a counted run (--clock instructions): each median is an instruction "
                     "count, not a time; the time targets are not judged (compare counts "
                     "with k2matrix compare or ab)")
    concurrent = int(frame["concurrent"].sum()) if frame.height else 0
    if concurrent:
        notes.append(f"{concurrent} cell(s) were timed while another worker ran a cell "
                     "(pytest-xdist); on few cores their times include contention")
    if outside:
        notes.append(f"{len(outside)} cell(s) not_applicable (outside what the implementation "
                     "declares it supports; not in the verdict): " + "; ".join(
                         f"{o['cell']}: {o['reason']}" for o in outside[:3])
                     + (" …" if len(outside) > 3 else ""))
    unjudged = frame.filter(pl.col("status") == "not_judged") if frame.height else frame
    if unjudged.height:
        notes.append(f"{unjudged.height} cell(s) not_judged (measured without a capability "
                     "their case needs; not in the verdict): " + ", ".join(
                         unjudged["id"].to_list()[:5]))
    if missing:
        notes.append(f"{len(missing)} planned cell(s) have no result (skipped or not run): "
                     + ", ".join(missing[:5]) + (" …" if len(missing) > 5 else ""))
    return Summary(
        run=run, cells=cells, verdict=verdict,
        scaling=fit_scaling(frame, cells.axes), ratios=schema_ratios(frame, cells.axes),
        drift=drift(cells.series), notes=notes, storage=storage_costs(run),
        draws=draw_spread(frame), stages=pipeline_stages(run), environment=environment,
        warnings=environment_warnings(environment),
    )


def build_summary(run: Path | str | Run, baseline: Path | str | Run | None = None,
                  threshold: float = DEFAULT_THRESHOLD,
                  confidence: float = DEFAULT_CONFIDENCE, force: bool = False,
                  fail_on: str = BLOCKING) -> Summary:
    """Analyse ``run``; with ``baseline`` compare the two through
    :func:`k2matrix.compare.runs.compare_runs` (ResultsError if incompatible). The
    summary's exit code is 1 at a verdict of ``fail_on`` or worse."""
    if not 0 <= threshold < 10:
        raise ResultsError(f"--threshold = {threshold}: use a fraction such as 0.05 (5%)")
    if not 0.5 <= confidence < 1:
        raise ResultsError(f"--confidence = {confidence}: use a probability such as 0.99")
    current = run if isinstance(run, Run) else load_run(run)
    summary = analyse(current, confidence)
    summary.fail_on = fail_on
    if baseline is not None:
        if isinstance(baseline, Run):
            base = baseline
        elif not isinstance(run, Run) and Path(baseline).resolve() == Path(run).resolve():
            base = current  # comparing a run with itself: read it once
        else:
            base = load_run(baseline)
        models, note = find_noise(results_folder(current), current.k2)
        summary.baseline = base
        summary.comparison = compare_runs(base, current, threshold=threshold,
                                          confidence=confidence, noise=models, force=force,
                                          notes=[note] if models else [])
        summary.notes.extend(summary.comparison["notes"])
        median = run_shift(summary.comparison)["median_change"]
        if isinstance(median, float) and abs(median) > max(threshold, 0.10):
            summary.notes.append(
                f"the median cell changed by {median:+.0%} against the baseline: when most "
                "cells move together, check the machine (load, other processes, CPU "
                "frequency) before the code, and compare trials interleaved on one machine "
                "(k2matrix ab)")
    return summary


def results_folder(run: Run) -> Path:
    """The results folder a run directory sits in (where ``noise-latest`` is looked for)."""
    source = Path(run.source)
    folder = source.parent if source.name == "benchmarks.json" else source
    return folder.parent
