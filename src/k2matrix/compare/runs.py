"""Compare a candidate run with a baseline run, cell by cell (matched by id), over their
trials (:mod:`.statistics`, :mod:`.counts`). ``k2matrix compare``, ``summary --baseline``
and ``k2matrix ab`` all come through :func:`compare_runs`; whether two runs compare at all
is the results store's one rule (:func:`k2matrix.results.merge.check_compatible`, and
:func:`~k2matrix.results.merge.check_backends` for the backends' modes), and two runs
measured with different clocks never compare.

The result (the JSON that ``compare --format json`` prints)::

    {"comparisons": [{"id", "change", "ci_low", "ci_high", "noise_floor", "verdict",
                      "baseline_median_s", "candidate_median_s", "trials_baseline",
                      "trials_candidate", "paired", "noise_floor_source", "reason",
                      "metric", "spread", "threshold",
                      ["baseline_relative", "candidate_relative"],
                      ["baseline_value", "candidate_value"]}, ...],
     "verdict": "regression" | "improvement" | "unchanged" | "inconclusive",
     "counts": {verdict: cells}, "threshold", "confidence", "paired", "metric", "clock",
     "counter_comparisons": [{"id", "metric", "baseline", "candidate", "change", "spread",
                              "spread_source", "exact", "threshold", "verdict", "reason",
                              "trials_baseline", "trials_candidate", "text"}, ...],
     "counter_verdict", "counter_counts": {verdict: rows},
     "exact_counters": {"cells": {id: [names]}, "everywhere": [names],
                        "noisy": {name: cells}},
     "baseline": {"source", "run_id", "trials"}, "candidate": {...},
     "only_baseline": [ids], "only_candidate": [ids], "notes": [...]}

``metric`` (:mod:`.trials`): ``time`` compares trial medians of round times; ``relative``
compares each cell's time relative to its in-run reference where both sides have one (the
row's ``metric`` says which was used; ``*_median_s`` stay times), and times elsewhere.
A cell whose ``extra_info`` names a ``compare_on`` figure (the paced-latency cells:
``latency_p99_ms``, since the pace fixes their round time) is compared on that figure per
trial; its row's ``metric`` names it and ``*_value`` hold it. Runs of the instructions
clock are compared on instruction counts whatever ``metric`` asks (``metric``
``instructions``, :mod:`.counted`): ``*_value`` hold the counts, ``spread`` (also in
``noise_floor``) the spread the verdict used; ``spread`` is None on the timed rows. Noise
models are keyed by cell id for ``time``, ``id@relative`` for ``relative``,
``id@instructions`` and ``id@counter:NAME`` for counted figures.

``counter_comparisons`` hold every cell's counters (:mod:`.counted`), apart from
``comparisons`` so that tools reading those keep their meaning; ``exact_counters`` lists
the counters equal in every trial of both sides. :func:`exit_code` is 1 on a regression in
either list.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k2matrix.compare.counted import counter_rows, counter_summary, instruction_row
from k2matrix.compare.impls import annotate, compatible_headers
from k2matrix.compare.statistics import (
    DEFAULT_CONFIDENCE,
    DEFAULT_THRESHOLD,
    REGRESSION,
    VERDICTS,
    NoiseModel,
    compare_trials,
    overall,
)
from k2matrix.compare.trial_figures import (
    INSTRUCTIONS,
    RELATIVE,
    TIME,
    run_clock,
    run_figures,
    run_relative,
    run_times,
    trial_count,
    trial_values,
)
from k2matrix.errors import ResultsError
from k2matrix.results.load import Run
from k2matrix.results.merge import check_backends, check_compatible
from k2matrix.stats import median

COMPARE_FIX = ("compare runs of the same matrix, profile and kind of machine, or pass --force "
               "to compare the cells with equal ids anyway")


def compare_runs(baseline: Run, candidate: Run, *, threshold: float = DEFAULT_THRESHOLD,
                 confidence: float = DEFAULT_CONFIDENCE, paired: bool = False,
                 noise: Mapping[str, NoiseModel] | None = None, force: bool = False,
                 notes: list[str] | None = None, metric: str = TIME,
                 floors: Mapping[str, float] | None = None,
                 force_backends: bool | None = None) -> dict[str, Any]:
    """The comparison document (see the module docstring); ResultsError when the runs do
    not compare (``force`` overrides a differing matrix, profile or machine, never a
    differing clock; ``force_backends``, by default ``force``, overrides backends that ran
    in different modes, :func:`k2matrix.results.merge.check_backends`).

    ``noise`` models take part in the verdicts. ``floors`` (keyed as the models are) are
    only reported: the timed rows' ``noise_floor`` is the floor given for the row's key
    (``noise_floor_source`` ``measured``) or, for a key without one, the row's own (source
    None); the verdicts stay those of the trials (``k2matrix noise``: the floors its own
    A/A measured, shown beside the A/A judged on its trials)."""
    head_a, head_b, impl_notes = compatible_headers(baseline.k2, candidate.k2)
    sides = [(f"the baseline {baseline.source}", head_a),
             (f"the candidate {candidate.source}", head_b)]
    overridden = check_compatible(sides, force, action="compare", key_prefix="k2.",
                                  fix=COMPARE_FIX)
    backends = check_backends(sides, force if force_backends is None else force_backends,
                              action="compare")
    out_notes = [*(notes or []), *impl_notes, *backends,
                 *(f"--force: {m}" for m in overridden)]
    clock = _clock(baseline, candidate)
    base, cand = trial_values(baseline), trial_values(candidate)
    shared = [cid for cid in cand if cid in base]
    models = noise or {}
    if clock == INSTRUCTIONS:
        rows = [instruction_row(cid, base[cid], cand[cid], threshold=threshold,
                                paired=paired, models=models) for cid in shared]
        if metric != TIME:
            out_notes.append(f"--metric {metric}: runs of the instructions clock are "
                             "compared on instruction counts")
        metric = INSTRUCTIONS
    else:
        rows = _timed_rows(baseline, candidate, shared, base, cand, paired=paired,
                           confidence=confidence, threshold=threshold, models=models,
                           metric=metric)
        if floors is not None:
            _report_floors(rows, floors)
    annotate(rows, baseline, candidate)
    verdicts = [r["verdict"] for r in rows]
    if not shared:
        out_notes.append("no cell id is in both runs")
    if metric == RELATIVE:
        timed = sum(r["metric"] == TIME for r in rows)
        if timed:
            out_notes.append(f"--metric relative: {timed} cell(s) have no in-run reference on "
                             "both sides and are compared by time")
    one = [r["id"] for r in rows if min(r["trials_baseline"], r["trials_candidate"]) < 2]
    if one:
        out_notes.append(f"{len(one)} cell(s) have one trial on a side: without a measured "
                         "noise floor they are inconclusive; run with --trials 3 or more")
    counters = counter_rows(baseline, candidate, threshold=threshold, models=models)
    return {
        "comparisons": rows,
        "verdict": overall(verdicts),
        "counts": {v: verdicts.count(v) for v in VERDICTS},
        "threshold": threshold, "confidence": confidence, "paired": paired, "metric": metric,
        "clock": clock, "counter_comparisons": counters,
        **counter_summary(counters, baseline, candidate),
        "baseline": _side(baseline, base), "candidate": _side(candidate, cand),
        "only_baseline": [cid for cid in base if cid not in cand],
        "only_candidate": [cid for cid in cand if cid not in base],
        "notes": out_notes,
    }


def _clock(baseline: Run, candidate: Run) -> str:
    """The clock both runs were measured with; ResultsError when they differ."""
    clocks = run_clock(baseline), run_clock(candidate)
    if clocks[0] != clocks[1]:
        raise ResultsError(
            f"the baseline {baseline.source} was measured with --clock {clocks[0]} and the "
            f"candidate {candidate.source} with --clock {clocks[1]}: their figures are in "
            "different units; compare runs of one clock (measure the baseline again with "
            f"--clock {clocks[1]})")
    return clocks[0]


def _timed_rows(baseline: Run, candidate: Run, shared: list[str],
                base: Mapping[str, list[float]], cand: Mapping[str, list[float]], *,
                paired: bool, confidence: float, threshold: float,
                models: Mapping[str, NoiseModel], metric: str) -> list[dict[str, Any]]:
    """The rows of the timed metrics: ``time``, ``relative``, a ``compare_on`` figure."""
    base_rel, cand_rel = ((run_relative(baseline), run_relative(candidate))
                          if metric == RELATIVE else ({}, {}))
    figures = run_figures(candidate)
    base_time, cand_time = run_times(baseline), run_times(candidate)
    rows = []
    for cid in shared:
        b_rel, c_rel = base_rel.get(cid), cand_rel.get(cid)
        if b_rel and c_rel:
            row = compare_trials(cid, b_rel, c_rel, paired=paired, confidence=confidence,
                                 threshold=threshold,
                                 noise=models.get(f"{cid}@{RELATIVE}")).to_dict()
            row.update(metric=RELATIVE, baseline_relative=row["baseline_median_s"],
                       candidate_relative=row["candidate_median_s"],
                       baseline_median_s=_median_or_none(base[cid]),
                       candidate_median_s=_median_or_none(cand[cid]))
        else:
            row = compare_trials(cid, base[cid], cand[cid], paired=paired,
                                 confidence=confidence, threshold=threshold,
                                 noise=models.get(cid)).to_dict()
            figure = figures.get(cid)
            row["metric"] = figure or TIME
            if figure:  # a paced cell: its tail latency, not its round time
                row.update(baseline_value=row["baseline_median_s"],
                           candidate_value=row["candidate_median_s"],
                           baseline_median_s=_median_or_none(base_time.get(cid, [])),
                           candidate_median_s=_median_or_none(cand_time.get(cid, [])))
        row.update(spread=None, threshold=threshold)
        rows.append(row)
    return rows


def _report_floors(rows: list[dict[str, Any]], floors: Mapping[str, float]) -> None:
    for row in rows:
        key = row["id"] + (f"@{RELATIVE}" if row["metric"] == RELATIVE else "")
        row["noise_floor"] = floors.get(key, row["noise_floor"])
        row["noise_floor_source"] = "measured" if key in floors else None


def _median_or_none(values: list[float]) -> float | None:
    return median(values) if values else None


def _side(run: Run, trials: Mapping[str, list[float]]) -> dict[str, Any]:
    return {"source": run.source, "run_id": run.k2.get("run_id"),
            "trials": trial_count(trials)}


def exit_code(doc: Mapping[str, Any]) -> int:
    """1 when any cell or any counter is a regression, else 0."""
    counters = doc.get("counter_counts") or {}
    return 1 if doc["counts"].get(REGRESSION) or counters.get(REGRESSION) else 0
