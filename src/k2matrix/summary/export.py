"""Export for github-action-benchmark's ``customSmallerIsBetter`` tool: a JSON list of
``{"name", "unit", "value", "extra"}``, one entry per cell (median seconds) plus one for its
latency tail (ms): ``<id> p99 latency`` where the cell's samples resolve a p99 (100 or
more), else ``<id> max latency``, the largest of its N samples (no entry when it recorded
no maximum). ``extra`` says what the latency measures and over how many samples."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from k2matrix.errors import ResultsError
from k2matrix.summary.build import Summary
from k2matrix.summary.latency import KINDS, resolves


def gab_entries(summary: Summary) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rows = summary.frame.select("id", "median_s", "iqr_s", "rounds", "throughput", "unit",
                                "p99_ms", "latency_max_ms", "latency_kind", "latency_samples",
                                "status").to_dicts()
    for r in rows:
        extra = [f"status: {r['status']}"]
        if r["iqr_s"] is not None:
            extra.append(f"iqr: {r['iqr_s']:.6g} s")
        if r["rounds"] is not None:
            extra.append(f"rounds: {r['rounds']}")
        if r["throughput"] is not None and math.isfinite(r["throughput"]):
            extra.append(f"throughput: {r['throughput']:.6g} {r['unit']}")
        out.append({"name": r["id"], "unit": "s", "value": r["median_s"],
                    "extra": "\n".join(extra)})
        tail = _tail(r)
        if tail is not None:
            out.append(tail)
    return out


def _tail(r: dict[str, Any]) -> dict[str, Any] | None:
    n = r["latency_samples"]
    what = (f"{KINDS[r['latency_kind']].split(':')[0]} over {n} samples"
            if r["latency_kind"] and n else "latency, sample count unknown")
    extra = f"status: {r['status']}\n{what}"
    if resolves(n, 0.99) and r["p99_ms"] is not None and math.isfinite(r["p99_ms"]):
        return {"name": f"{r['id']} p99 latency", "unit": "ms", "value": r["p99_ms"],
                "extra": extra}
    top = r["latency_max_ms"]
    if top is None or not math.isfinite(top):
        return None
    return {"name": f"{r['id']} max latency", "unit": "ms", "value": top,
            "extra": f"{extra} (a p99 needs 100)"}


def write_gab(summary: Summary, path: str | Path) -> Path:
    target = Path(path)
    try:
        if target.parent != Path():
            target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(json.dumps(gab_entries(summary), indent=1) + "\n",
                          encoding="utf-8")
    except OSError as exc:
        raise ResultsError(f"--export-gab {target}: cannot write: {exc.strerror or exc}"
                           ) from None
    return target
