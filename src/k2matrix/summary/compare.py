"""The summary's view of a comparison with a baseline. The comparison itself is
:func:`k2matrix.compare.runs.compare_runs`, the same code as ``k2matrix compare`` and ``ab``
(statistics over trials, noise floors, verdicts); this module only says how the run moved
as a whole."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k2matrix.stats import median


def run_shift(comparison: Mapping[str, Any]) -> dict[str, float | int | None]:
    """How the run moved as a whole: the median change over the compared cells and the
    shares of cells slower and faster. Most cells moving together points at the machine
    (load, other processes, CPU frequency) at least as much as at the code."""
    changes = [float(r["change"]) for r in comparison["comparisons"]
               if isinstance(r.get("change"), int | float)]
    if not changes:
        return {"cells": 0, "median_change": None, "slower_share": None,
                "faster_share": None}
    return {"cells": len(changes), "median_change": median(changes),
            "slower_share": sum(c > 0 for c in changes) / len(changes),
            "faster_share": sum(c < 0 for c in changes) / len(changes)}
