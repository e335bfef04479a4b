"""Runs that differ in the implementations they measured: the implementation is what is
compared, not an incompatible matrix.

Two runs of one matrix that name other producers or writers (``[components.*] impl``) have
different ``matrix_fingerprint`` values but equal ``cells_fingerprint`` values (the
fingerprint without the implementations): :func:`compatible_headers` lets such runs compare
without ``--force`` and says which implementations changed; :func:`annotate` puts each
compared cell's two implementations on its row (``impl``) when they differ, from the
``impl`` each cell records.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from k2matrix.results.load import Run

__all__ = ["annotate", "cell_impls", "compatible_headers"]


def compatible_headers(baseline: Mapping[str, Any], candidate: Mapping[str, Any]
                       ) -> tuple[Mapping[str, Any], Mapping[str, Any], list[str]]:
    """The two run headers as the compatibility rule should see them, and notes: when they
    differ only in the implementations named, without ``matrix_fingerprint`` (and a note
    naming each changed implementation); else unchanged."""
    cells_a, cells_b = baseline.get("cells_fingerprint"), candidate.get("cells_fingerprint")
    if (not cells_a or cells_a != cells_b
            or baseline.get("matrix_fingerprint") == candidate.get("matrix_fingerprint")):
        return baseline, candidate, []
    impls_a = baseline.get("impls") or {}
    impls_b = candidate.get("impls") or {}
    changed = [f"{c}: {', '.join(impls_a.get(c) or ['?'])} -> {', '.join(impls_b.get(c) or ['?'])}"
               for c in sorted(set(impls_a) | set(impls_b)) if impls_a.get(c) != impls_b.get(c)]
    note = ("the runs differ only in the implementations named, which are what is compared: "
            + ("; ".join(changed) or "see each row's impl"))
    strip = {"matrix_fingerprint"}
    return ({k: v for k, v in baseline.items() if k not in strip},
            {k: v for k, v in candidate.items() if k not in strip}, [note])


def cell_impls(run: Run) -> dict[str, str]:
    """Each cell's recorded implementation (``extra_info["impl"]``), by cell id."""
    out: dict[str, str] = {}
    for cell_id, bench in zip(run.cell_ids(), run.benchmarks, strict=True):
        extra = bench.get("extra_info")
        impl = extra.get("impl") if isinstance(extra, dict) else None
        if isinstance(impl, str):
            out[cell_id] = impl
    return out


def annotate(rows: list[dict[str, Any]], baseline: Run, candidate: Run) -> None:
    """``row["impl"] = {"baseline", "candidate"}`` where a cell's implementations differ."""
    base, cand = cell_impls(baseline), cell_impls(candidate)
    for row in rows:
        a, b = base.get(row["id"]), cand.get(row["id"])
        if a is not None and b is not None and a != b:
            row["impl"] = {"baseline": a, "candidate": b}
