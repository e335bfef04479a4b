"""The K2 verdict over a run's statuses.

- ``Good``: every cell with a target meets it;
- ``Acceptable``: 80% or more meet their target and none is below critical;
- ``Needs Investigation``: under 80% meet their target, or any cell is below critical, or a
  cell failed its correctness check (a run whose cells all failed lists them), or no cell
  was measured at all;
- ``Blocking``: a cell under a sustained target is below critical.
"""

from __future__ import annotations

from dataclasses import dataclass

import polars as pl

GOOD, ACCEPTABLE, INVESTIGATE, BLOCKING = "Good", "Acceptable", "Needs Investigation", "Blocking"
ACCEPTABLE_SHARE = 0.8


@dataclass(frozen=True)
class Verdict:
    verdict: str
    reason: str
    counts: dict[str, int]


def decide(frame: pl.DataFrame, failed: int = 0) -> Verdict:
    """The verdict for a frame with ``status`` and ``sustained_critical`` columns."""
    counts = {s: 0 for s in ("pass", "below_target", "below_critical", "no_data", "no_target")}
    if frame.height:
        for status, n in frame.group_by("status").len().iter_rows():
            counts[str(status)] = int(n)
    blocking = int(frame["sustained_critical"].sum()) if frame.height else 0
    targeted = counts["pass"] + counts["below_target"] + counts["below_critical"] + \
        counts["no_data"]
    counts.update(cells=frame.height, with_target=targeted, failed=failed,
                  sustained_below_critical=blocking)
    share = counts["pass"] / targeted if targeted else 1.0
    met = f"{counts['pass']} of {targeted} cells with a target meet it ({share:.0%})"
    if counts["no_data"]:
        met += f"; {counts['no_data']} did not record their target's metric"
    if blocking:
        return Verdict(BLOCKING, f"{blocking} cell(s) under a sustained target are below "
                                 f"critical; {met}", counts)
    problems = []
    if counts["below_critical"]:
        problems.append(f"{counts['below_critical']} cell(s) below critical")
    if failed:
        problems.append(f"{failed} cell(s) failed")
    if share < ACCEPTABLE_SHARE:
        problems.append(f"under {ACCEPTABLE_SHARE:.0%} meet their target")
    if problems:
        return Verdict(INVESTIGATE, f"{'; '.join(problems)}; {met}", counts)
    if not frame.height:  # the loader refuses such a file; never Good for nothing measured
        return Verdict(INVESTIGATE, "no cell was measured", counts)
    if not targeted:
        return Verdict(GOOD, "no cell has a target (none in the results file applies)",
                       counts)
    if counts["pass"] == targeted:
        return Verdict(GOOD, met, counts)
    return Verdict(ACCEPTABLE, f"{met}; none below critical", counts)
