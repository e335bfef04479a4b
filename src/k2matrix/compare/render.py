"""A comparison document as a table, Markdown or JSON (``compare``, ``ab``, ``noise``)."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

HEADER = ("cell", "verdict", "change", "interval", "noise floor", "trials", "baseline",
          "candidate")


def _pct(value: Any) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    return ">+1000%" if value > 10 else f"{value:+.1%}"


def _floor(value: Any) -> str:
    if not isinstance(value, int | float) or not math.isfinite(value):
        return "-"
    return ">±1000%" if value > 10 else f"±{value:.1%}"


def _time(value: Any) -> str:
    if not isinstance(value, int | float):
        return "-"
    for unit, scale in (("s", 1.0), ("ms", 1e-3), ("us", 1e-6)):
        if value >= scale:
            return f"{value / scale:.3g} {unit}"
    return f"{value * 1e9:.3g} ns"


def rows(doc: Mapping[str, Any]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for r in doc["comparisons"]:
        interval = (f"[{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]"
                    if r["ci_low"] is not None else "-")
        name = r["id"] + (" (relative)" if r.get("metric") == "relative" else "")
        out.append((name, r["verdict"], _pct(r["change"]), interval,
                    _floor(r["noise_floor"]), f"{r['trials_baseline']}/{r['trials_candidate']}",
                    _time(r["baseline_median_s"]), _time(r["candidate_median_s"])))
    return out


def _footer(doc: Mapping[str, Any]) -> list[str]:
    counts = ", ".join(f"{n} {v}" for v, n in doc["counts"].items() if n)
    lines = [f"verdict: {doc['verdict']} ({counts or 'no cell compared'}); threshold "
             f"{doc['threshold']:.1%}, confidence {doc['confidence']:.0%}, "
             f"{'paired trials' if doc['paired'] else 'unpaired trials'}"
             + (", time relative to the in-run reference" if doc.get("metric") == "relative"
                else "")]
    for key, what in (("only_baseline", "only in the baseline"),
                      ("only_candidate", "only in the candidate")):
        if doc.get(key):
            lines.append(f"{len(doc[key])} cell(s) {what}: {', '.join(doc[key][:5])}"
                         + (" …" if len(doc[key]) > 5 else ""))
    lines += [f"note: {n}" for n in doc.get("notes", [])]
    return lines


def table(doc: Mapping[str, Any]) -> str:
    body = rows(doc)
    widths = [max(len(str(x)) for x in col) for col in zip(HEADER, *body, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return "\n".join([line(HEADER), line(["-" * w for w in widths]),
                      *(line(r) for r in body), "", *_footer(doc)])


def markdown(doc: Mapping[str, Any]) -> str:
    body = rows(doc)
    lines = ["| " + " | ".join(HEADER) + " |", "|" + "---|" * len(HEADER)]
    lines += ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]
    return "\n".join([*lines, "", *(f"- {f}" for f in _footer(doc))])


def render(doc: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, indent=2, default=str)
    return markdown(doc) if fmt == "markdown" else table(doc)
