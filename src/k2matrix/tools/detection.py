"""How well k2matrix's comparison sees a known slowdown here: an A/B whose two sides run the
slowed built-ins (:mod:`k2matrix.tools.slowdown`) and whose candidate slows one component
by a known fraction; then, of the cells that component's calls are timed in, the share
called a regression, and of the others, how many were called a change at all::

    python -m k2matrix.tools.detection --component writer --fraction 0.10 --trials 10 \\
        [--profile smoke] [-k EXPR] [-n W | --duet] [--clock wall|cpu] [--threshold 5%] \\
        [--run-id ID]

Under ``--clock instructions`` one trial a side decides when an A/A of the same slowed
configuration gave each cell its spread first (``results/noise-latest``)::

    k2matrix noise --clock instructions --trials 3 --side "$(python -m \
        k2matrix.tools.detection --print-side)"

It runs ``k2matrix ab`` (its run directory and ``comparison.json`` stay under results/),
compares the same trials by both metrics (``time`` and ``relative``, side by side from one
run) and prints a table, or JSON with ``--format json``: ``{"component", "fraction",
"trials", "duet", "clock", "metrics": {"time" | "relative": {"affected": {"cells",
"regression", "share"}, "unaffected": {"cells", "flagged"}, "cells": [{"id", "affected",
"verdict", "change", "metric"}]}}, "run_dir"}``.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from k2matrix.options import CLOCKS, fraction, trials, workers

MODULE = "k2matrix.tools.slowdown"
# cases whose timed rounds do not go through the component's implementation (under
# --clock instructions the uncountable cells are skipped, so they are in no row)
UNAFFECTED = {"producer": {"serializer_cache", "paced_latency"},
              "writer": {"arrow_conversion"}, "query": set()}


def slowed_matrix(profile: str) -> str:
    """The ``set:`` SPEC that puts the slowed built-ins in every component."""
    engines = f'["{MODULE}:SlowIcebergScan","{MODULE}:SlowParquet"]'
    return (f"set:components.producer.impl={MODULE}:SlowProducer,"
            f"components.writer.impl={MODULE}:SlowWriter,profiles.{profile}.engines={engines}")


def affected(cell: dict[str, Any], component: str) -> bool:
    return bool(cell.get("component") == component
                and cell.get("case") not in UNAFFECTED[component])


def summarize(doc: dict[str, Any], cells: dict[str, dict[str, Any]], component: str
              ) -> dict[str, Any]:
    rows = []
    for c in doc["comparisons"]:
        rows.append({"id": c["id"], "affected": affected(cells.get(c["id"], {}), component),
                     "verdict": c["verdict"], "change": c["change"],
                     "metric": c.get("metric", "time")})
    hit = [r for r in rows if r["affected"]]
    rest = [r for r in rows if not r["affected"]]
    regressions = sum(r["verdict"] == "regression" for r in hit)
    return {"affected": {"cells": len(hit), "regression": regressions,
                         "share": regressions / len(hit) if hit else None},
            "unaffected": {"cells": len(rest), "flagged": sum(
                r["verdict"] in ("regression", "improvement") for r in rest)},
            "cells": rows}


def by_metric(run_dir: Path, component: str, threshold: float, clock: str = "wall"
              ) -> dict[str, Any]:
    """The A/B's trials compared by each metric (paired, as ``ab`` does, with the noise
    models ``ab`` found): ``time`` and ``relative`` for a timed A/B, ``instructions`` for a
    counted one."""
    from k2matrix.compare.noise import noise_for
    from k2matrix.compare.runs import compare_runs
    from k2matrix.results.load import load_run

    base, cand = load_run(run_dir / "baseline"), load_run(run_dir / "candidate")
    bench = json.loads((run_dir / "candidate" / "benchmarks.json").read_text())
    cells = {b["extra_info"]["k2"]["cell"]["id"]: b["extra_info"]["k2"]["cell"]
             for b in bench["benchmarks"]}
    models, _ = noise_for(None, run_dir.parent, cand.k2)
    metrics = ("instructions",) if clock == "instructions" else ("time", "relative")
    return {metric: summarize(compare_runs(
        base, cand, threshold=threshold, paired=True, force=True, noise=models,
        metric="time" if metric == "instructions" else metric), cells, component)
        for metric in metrics}


def main(argv: Sequence[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m k2matrix.tools.detection")
    if argv is None:
        argv = sys.argv[1:]
    if "--print-side" in argv:  # the SPEC of the slowed built-ins, for `k2matrix noise --side`
        profile = argv[argv.index("--profile") + 1] if "--profile" in argv else "smoke"
        print(slowed_matrix(profile))
        return 0
    parser.add_argument("--component", choices=tuple(UNAFFECTED), required=True)
    parser.add_argument("--fraction", type=fraction, required=True,
                        help="the injected slowdown, as 0.10 or 10%%")
    parser.add_argument("--trials", type=trials, default=10)
    parser.add_argument("--profile", default="smoke")
    parser.add_argument("-k", dest="keyword", default=None)
    parser.add_argument("-n", dest="workers", type=workers, default=None)
    parser.add_argument("--threshold", type=fraction, default=0.05)
    parser.add_argument("--run-id", default=None)
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--duet", action="store_true",
                        help="the A/B's sides at the same time (k2matrix ab --duet)")
    parser.add_argument("--clock", choices=CLOCKS, default="wall",
                        help="k2matrix ab --clock (instructions: compared by count, with the "
                             "A/A spreads of results/noise-latest)")
    args = parser.parse_args(argv)
    slow = slowed_matrix(args.profile)
    with tempfile.TemporaryDirectory() as scratch:
        out = Path(scratch) / "comparison.json"
        cmd = [sys.executable, "-m", "k2matrix.cli", "ab", "--baseline", slow,
               "--candidate", f"{slow}+env:K2_SLOWDOWN={args.component}={args.fraction}",
               "--trials", str(args.trials), "--profile", args.profile,
               "--threshold", str(args.threshold), "--format", "json", "--out", str(out)]
        for flag, value in (("-k", args.keyword), ("-n", args.workers),
                            ("--run-id", args.run_id)):
            if value is not None:
                cmd += [flag, value]
        if args.duet:
            cmd.append("--duet")
        cmd += ["--clock", args.clock]
        code = subprocess.call(cmd, stdout=subprocess.DEVNULL)
        if code not in (0, 1):
            print(f"detection: k2matrix ab failed (exit {code})", file=sys.stderr)
            return code
        doc = json.loads(out.read_text())
    run_dir = Path(doc["run_dir"])
    result = {"component": args.component, "fraction": args.fraction, "trials": args.trials,
              "duet": args.duet, "clock": args.clock,
              "metrics": by_metric(run_dir, args.component, args.threshold, args.clock),
              "run_dir": str(run_dir)}
    if args.format == "json":
        print(json.dumps(result, indent=2))
        return 0
    for metric, found in result["metrics"].items():
        print(f"--metric {metric}")
        for r in found["cells"]:
            change = "-" if r["change"] is None else f"{r['change']:+.1%}"
            print(f"  {r['id']:68s} {'affected' if r['affected'] else '        '} "
                  f"{r['verdict']:12s} {change} ({r['metric']})")
    for metric, found in result["metrics"].items():
        a, u = found["affected"], found["unaffected"]
        share = f"{a['share']:.0%}" if a["share"] is not None else "-"
        print(f"{metric:>8s}: {args.component} slowed by {args.fraction:.0%}, {args.trials} "
              f"trials a side: {a['regression']} of {a['cells']} affected cells called a "
              f"regression ({share}); {u['flagged']} of {u['cells']} unaffected cells called "
              "a change")
    print(f"run: {run_dir}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
