"""The exploration report as data (``explore.json``, ``--format json``) and as a table, and
the progress line while it runs."""

from __future__ import annotations

import sys
from typing import Any

from k2matrix.explore.budget import Plan
from k2matrix.explore.relation import Confirmation
from k2matrix.explore.search import Example, SearchResult
from k2matrix.matrix.properties import Property

__all__ = ["example_view", "progress_line", "render_table"]


def _figure_name(prop: Property) -> str:
    if prop.kind == "bound":
        return prop.metric
    if prop.kind == "scaling":
        return f"log-log exponent of {prop.metric} over {prop.axis}"
    if prop.kind == "monotonic":
        return f"cost ratio of {prop.metric} (higher {prop.axis} / lower)"
    return f"cost ratio of {prop.metric} ({prop.axis} {prop.variants[1] if prop.variants else ''}" \
           f" / {prop.variants[0] if prop.variants else ''})"


def limit_text(prop: Property) -> str:
    if prop.kind == "bound":
        op = ">=" if prop.direction == "higher" else "<="
        source = f" (target {prop.target})" if prop.target else ""
        return f"{prop.metric} {op} {prop.bound:g}{source}"
    if prop.kind == "scaling":
        return f"exponent <= {prop.max_exponent:g}"
    if prop.kind == "monotonic":
        return f"cost ratio <= {1 + prop.tolerance:g} (tolerance {prop.tolerance:g})"
    return f"cost ratio <= {prop.bound:g}"


def example_view(prop: Property, example: Example | None) -> dict[str, Any] | None:
    if example is None:
        return None
    ev = example.evaluation
    return {"number": example.number, "params": example.params,
            "cells": [o.cell_id for o in example.outcomes],
            "metric": ev.figure if ev else None, "values": [o.value for o in example.outcomes],
            "measurements": example.measurements, "status": example.status,
            "phase": example.phase, "limit": ev.limit if ev else None,
            "violated": example.violated, "figure": _figure_name(prop)}


def _fmt(value: Any) -> str:
    if isinstance(value, float):
        return f"{value:.4g}"
    return str(value)


def _params(params: dict[str, Any]) -> str:
    return ", ".join(f"{k}={_fmt(v)}" for k, v in params.items())


def _measured(view: dict[str, Any]) -> str:
    runs = view.get("measurements") or []
    return " then ".join("/".join(_fmt(v) for v in run) for run in runs)


def _listed(views: list[dict[str, Any]], most: int) -> list[str]:
    lines = [f"    #{v['number']} {_fmt(v['metric'])} at {_params(v['params'])}"
             for v in views[:most]]
    if len(views) > most:
        lines.append(f"    ... and {len(views) - most} more (explore.json)")
    return lines


def render_table(prop: Property, report: dict[str, Any]) -> str:
    budget = report.get("budget") or {}
    lines = [f"property {prop.name}: {prop.description or prop.case}",
             f"  case {prop.case}, must hold: {limit_text(prop)}"
             + (f"; seed {report['seed']} (--seed to repeat)" if "seed" in report else "")]
    if budget.get("split"):
        lines.append(f"  {budget['split']}")
    lines.append(f"  examples run: {report['examples']} ({report.get('measurements', 0)} "
                 f"measurements; {report['failures']} failed their verification) in "
                 f"{report['seconds']:.1f} s of search and shrinking, "
                 f"{report['total_seconds']:.1f} s in all; "
                 f"{report.get('search_stopped') or report['stopped']}")
    noise = report.get("noise") or []
    if noise:
        lines.append(f"  noise: {len(noise)} examples violated once and not when measured "
                     f"again (the search went on):")
        lines += [f"    #{v['number']} {_measured(v)} at {_params(v['params'])}"
                  for v in noise[:3]]
    worst = report.get("worst")
    if worst:
        lines.append(f"  worst seen: {_fmt(worst['metric'])} ({worst['figure']}) at "
                     f"{_params(worst['params'])}")
    region = report.get("region") or []
    if region:
        lines.append(f"  violating region: {len(region)} examples whose violation repeated:")
        lines += _listed(region, 8)
    found, ce = report.get("found"), report.get("counterexample")
    shrinking = report.get("shrinking") or {}
    if ce is None:
        lines.append("  counterexample: none found")
    else:
        if found is not None:
            lines.append(f"  violation before shrinking (#{found['number']}): "
                         f"{_fmt(found['metric'])} at {_params(found['params'])}")
        if shrinking.get("stopped"):
            lines.append(f"  shrinking: {shrinking['stopped']}")
        label = ("after shrinking" if shrinking.get("complete", True) else
                 "where shrinking stopped (not the simplest)")
        lines.append(f"  {label}: {_fmt(ce['metric'])} at {_params(ce['params'])}")
        conf = report.get("confirmation") or {}
        state = "CONFIRMED" if report["confirmed"] else "NOT CONFIRMED (unconfirmed violation)"
        by = f" ({conf['criterion']})" if conf.get("criterion") else ""
        lines.append(f"  {state}{by} over {len((conf.get('trials') or [[]])[0])} trials: "
                     f"{conf.get('reason', '')}")
        if conf.get("change") is not None:
            lines.append(f"    beyond the limit by {conf['change']:+.1%} (interval "
                         f"{_fmt(conf.get('ci_low'))} .. {_fmt(conf.get('ci_high'))})")
        lines.append(f"  replay: k2matrix run --cell {ce['cells'][-1]}")
    if report.get("influence"):
        moved = ", ".join(f"{k} {v:.0%}" for k, v in report["influence"][:3])
        lines.append(f"  moved the figure most: {moved}")
    else:
        lines.append("  which dimension moved the figure: too few examples vary one to tell")
    if report.get("picture"):
        lines.append(f"  picture: {report['picture']}")
    lines.append(f"  results: {report['run_dir']}")
    return "\n".join(lines)


def progress_line(prop: Property, result: SearchResult, phase: str, left: float | int,
                  the_plan: Plan) -> None:
    worst = result.worst
    best = (f"best violation {worst.evaluation.figure:.4g} vs {limit_text(prop)}"
            if worst and worst.violated and worst.evaluation else "no violation yet")
    rest = (f"{left:.0f} s left" if the_plan.seconds is not None
            else f"{left} measurements left")
    noise = f", {len(result.noise)} noise" if result.noise else ""
    print(f"\rk2matrix explore {prop.name} ({phase}): {len(result.examples)} examples, "
          f"{best}{noise}, {rest}".ljust(110), end="", file=sys.stderr, flush=True)


def confirmation_view(conf: Confirmation | None) -> dict[str, Any] | None:
    return conf.to_dict() if conf is not None else None
