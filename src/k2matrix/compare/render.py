"""A comparison document as a table, Markdown or JSON (``compare``, ``ab``, ``noise``):
the cells' rows, then the counters that moved (``counter_comparisons`` with a verdict of
regression or improvement) and which counters were exact."""

from __future__ import annotations

import json
import math
from collections.abc import Mapping, Sequence
from typing import Any

HEADER = ("cell", "verdict", "change", "interval", "noise floor", "trials", "baseline",
          "candidate")
COUNTER_HEADER = ("cell", "counter", "verdict", "change", "spread", "what moved")
MOVED = ("regression", "improvement")


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


def _count(value: Any) -> str:
    if not isinstance(value, int | float):
        return "-"
    for unit, scale in (("G", 1e9), ("M", 1e6), ("K", 1e3)):
        if value >= scale:
            return f"{value / scale:.4g}{unit} instr"
    return f"{value:.4g} instr"


def _side_value(row: Mapping[str, Any], side: str) -> str:
    if row.get("metric") == "instructions":
        return _count(row.get(f"{side}_value"))
    return _time(row[f"{side}_median_s"])


def counter_rows(doc: Mapping[str, Any]) -> list[tuple[str, ...]]:
    """The counters that moved, one row each."""
    return [(r["id"], r["metric"], r["verdict"],
             _pct(r["change"]) if r["change"] is not None else "from 0",
             "exact" if r["exact"] else _floor(r["spread"]), r["text"])
            for r in doc.get("counter_comparisons") or [] if r["verdict"] in MOVED]


def rows(doc: Mapping[str, Any]) -> list[tuple[str, ...]]:
    out: list[tuple[str, ...]] = []
    for r in doc["comparisons"]:
        interval = (f"[{_pct(r['ci_low'])}, {_pct(r['ci_high'])}]"
                    if r["ci_low"] is not None else "-")
        name = r["id"] + (" (relative)" if r.get("metric") == "relative" else "")
        out.append((name, r["verdict"], _pct(r["change"]), interval,
                    _floor(r["noise_floor"]), f"{r['trials_baseline']}/{r['trials_candidate']}",
                    _side_value(r, "baseline"), _side_value(r, "candidate")))
    return out


def _footer(doc: Mapping[str, Any]) -> list[str]:
    counts = ", ".join(f"{n} {v}" for v, n in doc["counts"].items() if n)
    lines = [f"verdict: {doc['verdict']} ({counts or 'no cell compared'}); threshold "
             f"{doc['threshold']:.1%}, confidence {doc['confidence']:.0%}, "
             f"{'paired trials' if doc['paired'] else 'unpaired trials'}"
             + (", time relative to the in-run reference" if doc.get("metric") == "relative"
                else "")
             + (", instruction counts" if doc.get("metric") == "instructions" else "")]
    lines += _counter_footer(doc)
    for key, what in (("only_baseline", "only in the baseline"),
                      ("only_candidate", "only in the candidate")):
        if doc.get(key):
            lines.append(f"{len(doc[key])} cell(s) {what}: {', '.join(doc[key][:5])}"
                         + (" …" if len(doc[key]) > 5 else ""))
    lines += [f"note: {n}" for n in doc.get("notes", [])]
    return lines


def _counter_footer(doc: Mapping[str, Any]) -> list[str]:
    if not doc.get("counter_comparisons"):
        return []
    counts = ", ".join(f"{n} {v}" for v, n in (doc.get("counter_counts") or {}).items() if n)
    exact = doc.get("exact_counters") or {}
    noisy = exact.get("noisy") or {}
    lines = [f"counters: {counts} (cell and counter pairs)"]
    lines.append("exact counters (equal in every trial of every cell that records them): "
                 + (", ".join(exact.get("everywhere") or []) or "none"))
    if noisy:
        lines.append("counters that varied: " + ", ".join(
            f"{name} ({cells} cell{'s' if cells != 1 else ''})" for name, cells in noisy.items()))
    return lines


def _aligned(header: Sequence[str], body: list[tuple[str, ...]]) -> list[str]:
    widths = [max(len(str(x)) for x in col) for col in zip(header, *body, strict=False)]

    def line(cells: Sequence[str]) -> str:
        return "  ".join(str(c).ljust(w) for c, w in zip(cells, widths, strict=True)).rstrip()

    return [line(header), line(["-" * w for w in widths]), *(line(r) for r in body)]


def table(doc: Mapping[str, Any]) -> str:
    moved = counter_rows(doc)
    counters = ["", *_aligned(COUNTER_HEADER, moved)] if moved else []
    return "\n".join([*_aligned(HEADER, rows(doc)), *counters, "", *_footer(doc)])


def _markdown_table(header: Sequence[str], body: list[tuple[str, ...]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    return lines + ["| " + " | ".join(c.replace("|", "\\|") for c in r) + " |" for r in body]


def markdown(doc: Mapping[str, Any]) -> str:
    moved = counter_rows(doc)
    counters = ["", *_markdown_table(COUNTER_HEADER, moved)] if moved else []
    return "\n".join([*_markdown_table(HEADER, rows(doc)), *counters, "",
                      *(f"- {f}" for f in _footer(doc))])


def render(doc: Mapping[str, Any], fmt: str) -> str:
    if fmt == "json":
        return json.dumps(doc, indent=2, default=str)
    return markdown(doc) if fmt == "markdown" else table(doc)
