"""The counted rows of a comparison of two runs (:mod:`.counts` does the statistics):

- under the instructions clock, each cell's row of ``comparisons`` is decided on its
  trials' instruction counts (:func:`instruction_row`; the keys of a time row, with
  ``ci_low``/``ci_high`` and the ``*_median_s`` None, ``noise_floor`` the spread used);
- under every clock, each cell's counters are compared in ``counter_comparisons``
  (:func:`counter_rows`): one row per cell and counter, with the text that says what moved
  (``s3.put per round 12 → 14``).

Spreads come from the noise models (``id@instructions``, ``id@counter:NAME``: an A/A
measured with the same clock), else from each side's own trials.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from k2matrix.compare.counts import compare_counts, spread
from k2matrix.compare.spreads import INSTRUCTIONS_KEY, counter_key, exact_counters
from k2matrix.compare.statistics import VERDICTS, NoiseModel, overall
from k2matrix.compare.trial_figures import INSTRUCTIONS, run_counters
from k2matrix.results.load import Run


def _model(models: Mapping[str, NoiseModel], key: str) -> tuple[float | None, str | None]:
    found = models.get(key)
    if found is None or found.spread is None:
        return None, None
    return found.spread, found.source


def instruction_row(cell_id: str, base: Sequence[float], cand: Sequence[float], *,
                    threshold: float, paired: bool, models: Mapping[str, NoiseModel]
                    ) -> dict[str, Any]:
    """One cell's row of ``comparisons``, decided on its trials' instruction counts."""
    model, source = _model(models, cell_id + INSTRUCTIONS_KEY)
    c = compare_counts(cell_id, INSTRUCTIONS, base, cand, threshold=threshold, model=model,
                       model_source=source)
    return {"id": cell_id, "change": c.change, "ci_low": None, "ci_high": None,
            "noise_floor": c.spread, "verdict": c.verdict, "baseline_median_s": None,
            "candidate_median_s": None, "trials_baseline": c.trials_baseline,
            "trials_candidate": c.trials_candidate, "paired": paired,
            "noise_floor_source": c.spread_source, "reason": c.reason, "metric": INSTRUCTIONS,
            "spread": c.spread, "threshold": threshold, "baseline_value": c.baseline,
            "candidate_value": c.candidate}


def _amount(value: float | None) -> str:
    if value is None:
        return "-"
    return f"{value:,.0f}" if value == int(value) else f"{value:,.4g}"


def counter_rows(baseline: Run, candidate: Run, *, threshold: float,
                 models: Mapping[str, NoiseModel]) -> list[dict[str, Any]]:
    """Per cell in both runs and counter either recorded: its comparison (see the module
    docstring); a counter one side did not record counted 0 there."""
    base, cand = run_counters(baseline), run_counters(candidate)
    rows = []
    for cid in (c for c in cand if c in base):
        b_side, c_side = base[cid], cand[cid]
        for name in sorted({*b_side, *c_side}):
            b = b_side.get(name) or [0.0] * _trials(b_side)
            c = c_side.get(name) or [0.0] * _trials(c_side)
            model, source = _model(models, counter_key(cid, name))
            row = compare_counts(cid, name, b, c, threshold=threshold, model=model,
                                 model_source=source, exact_decides=True).to_dict()
            row["text"] = f"{name} per round {_amount(row['baseline'])} → " \
                          f"{_amount(row['candidate'])}"
            rows.append(row)
    return rows


def _trials(side: Mapping[str, list[float]]) -> int:
    return max((len(v) for v in side.values()), default=1)


def counter_summary(rows: Sequence[Mapping[str, Any]], baseline: Run, candidate: Run
                    ) -> dict[str, Any]:
    """``counter_verdict``, ``counter_counts`` and ``exact_counters`` (the counters equal in
    every trial of both sides, per cell and overall) of a comparison document."""
    verdicts = [str(r["verdict"]) for r in rows]
    both = [run_counters(baseline), run_counters(candidate)]
    spreads: dict[str, float | None] = {}
    for cid in {c for side in both for c in side}:
        names = {n for side in both for n in side.get(cid, {})}
        for name in names:
            values = [v for side in both if cid in side
                      for v in side[cid].get(name) or [0.0] * _trials(side[cid])]
            spreads[counter_key(cid, name)] = spread(values)
    return {"counter_verdict": overall(verdicts) if verdicts else None,
            "counter_counts": {v: verdicts.count(v) for v in VERDICTS},
            "exact_counters": exact_counters(spreads)}
