"""Export for github-action-benchmark's ``customSmallerIsBetter`` tool: a JSON list of
``{"name", "unit", "value", "extra"}``, one entry per cell (median seconds) plus one per
measured p99 latency (ms)."""

from __future__ import annotations

import json
import math
from pathlib import Path
from typing import Any

from k2matrix.errors import ResultsError
from k2matrix.summary.build import Summary


def gab_entries(summary: Summary) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = []
    rows = summary.frame.select("id", "median_s", "iqr_s", "rounds", "throughput", "unit",
                                "p99_ms", "status").to_dicts()
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
        if r["p99_ms"] is not None and math.isfinite(r["p99_ms"]):
            out.append({"name": f"{r['id']} p99 latency", "unit": "ms",
                        "value": r["p99_ms"], "extra": f"status: {r['status']}"})
    return out


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
