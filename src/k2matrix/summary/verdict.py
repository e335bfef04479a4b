"""The K2 verdict over a run's statuses, and the cells that decided it.

From best to worst (:data:`LEVELS`, the order ``summary --fail-on`` uses):

- ``Good``: every cell with a target meets it (the deciding cells: the three with the
  least headroom);
- ``Counted``: a counted run (``--clock instructions``): its figures are instruction
  counts, and no time target applies to a count; never ``Good`` for lack of a target;
- ``Acceptable``: 80% or more meet their target and none is below critical;
- ``Incomplete``: the run did not cover its profile (``Incomplete: N of M cells``: planned
  cells without a result, from a ``-k`` selection, skips or an interrupted run), whatever
  its measured cells say; never ``Good``;
- ``Needs Investigation``: under 80% meet their target, or any cell is below critical, or a
  cell failed its correctness check (a run whose cells all failed lists them), or no cell
  was measured at all;
- ``Blocking``: a cell under a sustained target is below critical.

The deciding cells come worst first: failed cells, then below critical, below target and
without the target's figure, each ordered by how far it is from its target; each with its
figure, target and critical values and the status in words (:mod:`.headroom`).
"""

from __future__ import annotations

import argparse
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import polars as pl

from k2matrix.summary.headroom import status_text
from k2matrix.summary.status import STATUSES

GOOD, COUNTED, ACCEPTABLE = "Good", "Counted", "Acceptable"
INCOMPLETE, INVESTIGATE, BLOCKING = "Incomplete", "Needs Investigation", "Blocking"
LEVELS = (GOOD, COUNTED, ACCEPTABLE, INCOMPLETE, INVESTIGATE, BLOCKING)  # best to worst
ACCEPTABLE_SHARE = 0.8
CLOSEST = 3  # passing cells shown for a Good verdict: the tightest ones
MISSING_SHOWN = 10  # missing cells among the deciding ones (the count says how many)
FAILING = ("below_critical", "below_target", "no_data")


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str
    counts: dict[str, int]
    deciding: list[dict[str, Any]] = field(default_factory=list)

    def at_or_worse(self, level: str) -> bool:
        """Whether this verdict is ``level`` or worse (:data:`LEVELS`)."""
        return LEVELS.index(self.verdict) >= LEVELS.index(level)


def level(text: str) -> str:
    """``--fail-on LEVEL``: a verdict level by name (case and spaces or dashes ignored)."""
    key = text.strip().lower().replace(" ", "-").replace("_", "-")
    names = {name.lower().replace(" ", "-"): name for name in LEVELS}
    names["investigate"] = INVESTIGATE
    if key not in names:
        raise argparse.ArgumentTypeError(
            f"{text!r} is not a verdict level; use one of "
            f"{', '.join(n.lower().replace(' ', '-') for n in LEVELS)}")
    return names[key]


def _finite(value: Any) -> Any:
    """A number JSON can carry (NaN and inf, e.g. the headroom of a 0 ms figure: None)."""
    return value if not isinstance(value, float) or math.isfinite(value) else None


def _entry(row: Mapping[str, Any]) -> dict[str, Any]:
    return {"id": row["id"], "status": row["status"], "target": row["target"],
            "metric": row["target_metric"], "figure": _finite(row["target_figure"]),
            "target_value": row["target_value"], "critical": row["target_critical"],
            "direction": row["target_direction"], "unit": row["target_unit"],
            "headroom": _finite(row["headroom"]), "text": status_text(row)}


def _failing(frame: pl.DataFrame, sustained_first: bool = False) -> list[dict[str, Any]]:
    """The cells that miss their target, worst first (then the tightest)."""
    if not frame.height:
        return []
    rank = pl.col("status").replace_strict(list(STATUSES), list(range(len(STATUSES))),
                                           return_dtype=pl.Int64)
    rows = (frame.filter(pl.col("status").is_in(list(FAILING)))
            .with_columns(_rank=rank)
            .sort(["sustained_critical", "_rank", "headroom"],
                  descending=[sustained_first, True, False], nulls_last=True))
    return [_entry(r) for r in rows.iter_rows(named=True)]


def _closest(frame: pl.DataFrame) -> list[dict[str, Any]]:
    if not frame.height:
        return []
    rows = frame.filter(pl.col("status") == "pass").sort("headroom", nulls_last=True)
    return [_entry(r) for r in rows.head(CLOSEST).iter_rows(named=True)]


def _failed_entry(cell: Mapping[str, Any]) -> dict[str, Any]:
    error = str(cell.get("error") or "").strip()
    first = error.splitlines()[0] if error else "no error text"
    return {"id": str(cell.get("id")), "status": str(cell.get("status") or "failed"),
            "text": f"{cell.get('status') or 'failed'}: {first}"}


def decide(frame: pl.DataFrame, failed: int | Sequence[Mapping[str, Any]] = 0, *,
           missing: Sequence[str] = (), planned: int | None = None,
           counted: bool = False) -> Verdict:
    """The verdict for a frame with the columns of :func:`.status.apply_targets`.

    ``failed``: the failed cells (``{"id", "status", "error"}``) or their number;
    ``missing``: planned cells without a result (failed ones excluded); ``planned``: how
    many cells the run planned (None: unknown, then measured + failed + missing);
    ``counted``: a run of the instructions clock."""
    failed_cells = [] if isinstance(failed, int) else [dict(f) for f in failed]
    n_failed = failed if isinstance(failed, int) else len(failed_cells)
    counts = {s: 0 for s in ("pass", "below_target", "below_critical", "no_data", "no_target")}
    if frame.height:
        for status, n in frame.group_by("status").len().iter_rows():
            counts[str(status)] = int(n)
    blocking = int(frame["sustained_critical"].sum()) if frame.height else 0
    targeted = counts["pass"] + counts["below_target"] + counts["below_critical"] + \
        counts["no_data"]
    total = planned if planned else frame.height + n_failed + len(missing)
    counts.update(cells=frame.height, with_target=targeted, failed=n_failed,
                  sustained_below_critical=blocking, missing=len(missing), planned=total)
    share = counts["pass"] / targeted if targeted else 1.0
    met = f"{counts['pass']} of {targeted} cells with a target meet it ({share:.0%})"
    if counts["no_data"]:
        met += f"; {counts['no_data']} did not record their target's metric"
    failures = [_failed_entry(f) for f in failed_cells]
    if blocking:
        return Verdict(BLOCKING, f"{blocking} cell(s) under a sustained target are below "
                                 f"critical; {met}", counts,
                       [*_failing(frame, sustained_first=True), *failures])
    problems = []
    if counts["below_critical"]:
        problems.append(f"{counts['below_critical']} cell(s) below critical")
    if n_failed:
        problems.append(f"{n_failed} cell(s) failed")
    if share < ACCEPTABLE_SHARE:
        problems.append(f"under {ACCEPTABLE_SHARE:.0%} meet their target")
    if problems:
        return Verdict(INVESTIGATE, f"{'; '.join(problems)}; {met}", counts,
                       [*failures, *_failing(frame)])
    if not frame.height:  # the loader refuses such a file; never Good for nothing measured
        return Verdict(INVESTIGATE, "no cell was measured", counts)
    if counted:
        reason = (f"{frame.height} cells, no time target applies (their figures are "
                  "instruction counts: compare them with k2matrix compare or ab)")
        if missing:
            reason += (f"; {len(missing)} of {total} planned cells have no count (skipped as "
                       "not countable, deselected or not run)")
        return Verdict(COUNTED, reason, counts)
    if missing:
        shown = [{"id": c, "status": "missing", "text": "missing: no result (skipped, "
                  "deselected or not run)"} for c in missing[:MISSING_SHOWN]]
        return Verdict(INCOMPLETE, f"{total - len(missing)} of {total} cells; {len(missing)} "
                                   f"have no result (skipped, deselected or not run); {met}",
                       counts, [*_failing(frame), *shown])
    if not targeted:
        return Verdict(GOOD, "no cell has a target (none in the results file applies)",
                       counts)
    if counts["pass"] == targeted:
        return Verdict(GOOD, met, counts, _closest(frame))
    return Verdict(ACCEPTABLE, f"{met}; none below critical", counts, _failing(frame))
