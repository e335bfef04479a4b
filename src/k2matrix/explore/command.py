"""``k2matrix explore PROPERTY [--budget N | --time SECONDS] [--seed S] [--matrix PATH]
[--format table|json] [--out DIR]``: search a property's workload space for a performance
counterexample, shrink it, confirm it over trials in fresh processes, write it as a
replayable cell.

Exit codes: 0 no confirmed counterexample, 1 a confirmed one (or every draw failed its
verification), 2 bad input (no traceback).
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2matrix.checks import did_you_mean
from k2matrix.errors import K2Error
from k2matrix.options import check_writable, count, seconds, trials

if TYPE_CHECKING:  # the search and its libraries load only when explore runs
    from k2matrix.cell import Cell
    from k2matrix.explore.relation import Confirmation
    from k2matrix.explore.search import Example
    from k2matrix.explore.space import CellFactory
    from k2matrix.matrix.properties import Property

__all__ = ["add_explore_parser", "run_explore"]


def add_explore_parser(subparsers: Any) -> None:
    parser = subparsers.add_parser(
        "explore", help="search a property's workload space for a performance counterexample",
        description="Hypothesis draws workloads from the property's space, runs each as a "
                    "real cell, steers toward violations, shrinks one to the simplest "
                    "workload and confirms it over trials. Exit 0: none confirmed, 1: a "
                    "confirmed counterexample, 2: bad input.")
    parser.add_argument("property", metavar="PROPERTY", help="a [properties.*] name")
    limit = parser.add_mutually_exclusive_group()
    limit.add_argument("--budget", type=count, default=None,
                       help="examples to measure, shrinking included (default 60)")
    limit.add_argument("--time", type=seconds, default=None, metavar="SECONDS",
                       help="seconds of search, shrinking included (confirmation is extra)")
    parser.add_argument("--seed", type=int, default=0, help="the search's seed (default 0)")
    parser.add_argument("--matrix", default="matrix.toml", help="matrix file (matrix.toml)")
    parser.add_argument("--format", choices=("table", "json"), default="table")
    parser.add_argument("--out", metavar="DIR", default=None,
                        help="results folder the run directory goes in (default: results/)")
    parser.add_argument("--tests", default=None,
                        help="benchmark suites (default: tests/performance beside the matrix)")
    parser.add_argument("--trials", type=trials, default=10,
                        help="fresh-process trials that confirm a violation (default 10: "
                             "with 5, between-trial noise of 30%% here hides a 2x violation "
                             "at 99%% confidence)")
    parser.set_defaults(func=run_explore)


def _property(matrix: Any, name: str) -> Property:
    props = matrix.properties
    if name not in props:
        known = ", ".join(props) or "none: add a [properties.NAME] table"
        raise K2Error(f"explore {name}: no such property{did_you_mean(name, props)} in "
                      f"{matrix.source}; properties: {known}")
    prop: Property = props[name]
    return prop


def _confirm(prop: Property, factory: CellFactory, example: Example, args: argparse.Namespace,
             matrix_path: Path, suites: Path, run_dir: Path, label: str
             ) -> tuple[Confirmation, list[Cell]]:
    from k2matrix.explore.relation import confirm
    from k2matrix.explore.runner import measure_cells

    cells = [factory.cell(p) for p in example.points]
    unique = list({c.id: c for c in cells}.values())
    print(f"\nk2matrix explore {prop.name}: confirming the {label} counterexample over "
          f"{args.trials} trials in fresh processes ...", file=sys.stderr, flush=True)
    measured = measure_cells(unique, matrix_path=matrix_path, suites=suites,
                          folder=run_dir / "confirm", run_id=label, trials=args.trials,
                          rounds=None, metric=prop.metric)
    xs = [p.get(prop.axis) for p in example.points] if prop.axis else []
    return confirm(prop, [measured[c.id] for c in cells], xs, cell_id=cells[-1].id), cells


def run_explore(args: argparse.Namespace) -> int:
    from k2matrix.explore import store
    from k2matrix.explore.picture import influence, write_picture
    from k2matrix.explore.render import (
        confirmation_view,
        example_view,
        limit_text,
        progress_line,
        render_table,
    )
    from k2matrix.explore.runner import CellRunner, suites_for
    from k2matrix.explore.search import Outcome, SearchResult, search
    from k2matrix.explore.space import CellFactory, points, simplest
    from k2matrix.matrix import load_matrix

    began = time.monotonic()
    matrix_path = Path(args.matrix)
    matrix = load_matrix(matrix_path)
    prop = _property(matrix, args.property)
    suites = suites_for(matrix_path, Path(args.tests) if args.tests else None)
    results = check_writable("--out", args.out, folder=True) if args.out else Path("results")
    budget = args.budget if args.budget or args.time else 60
    earlier = store.earlier_runs(results, prop.name)
    run_dir = store.new_run_dir(results, prop.name)
    database = store.open_database(run_dir, earlier)
    factory = CellFactory(matrix, prop)
    runner = CellRunner(matrix_path, suites, run_dir / "examples", prop.metric, prop.rounds)

    def measure(points: list[dict[str, Any]]) -> list[Outcome]:
        return runner.measure([factory.cell(p) for p in points])

    def progress(result: SearchResult, left: float | None) -> None:
        progress_line(prop, result, left, budget)

    # the first cells in this process pay first-use costs (imports, the catalog, caches):
    # a warm-up cell, discarded, so that the first example is not timed cold
    print(f"k2matrix explore {prop.name}: warming up ...", file=sys.stderr, flush=True)
    warm = {c.id: c for c in (factory.cell(p, tag="w") for p in points(prop, simplest(prop)))}
    runner.measure(list(warm.values()), "warmup")  # both variants of a relation
    result = search(prop, measure, budget=budget, seconds=args.time, seed=args.seed,
                    database=database, progress=progress)
    found, shrunk = result.first_violation, result.shrunk
    conf: Confirmation | None = None
    if shrunk is None and result.interrupted and found is not None:
        shrunk = found  # interrupted while shrinking: the violation as found
    chosen, cells_written, extra = shrunk, [], {}
    if shrunk is not None and not result.interrupted:
        conf, _ = _confirm(prop, factory, shrunk, args, matrix_path, suites, run_dir,
                           "shrunk")
        if not conf.confirmed and found is not None and found is not shrunk:
            conf_found, _ = _confirm(prop, factory, found, args, matrix_path, suites,
                                     run_dir, "found")
            if conf_found.confirmed:
                chosen, conf = found, conf_found
    if shrunk is not None:
        for role, example in (("found", found), ("shrunk", shrunk)):
            if example is None:
                continue
            for point_cell in [factory.cell(p) for p in example.points]:
                cells_written.append(point_cell)
                extra[point_cell.id] = {
                    "property": prop.name, "role": role, "metric": prop.metric,
                    "limit": limit_text(prop), "figure": example.evaluation.figure
                    if example.evaluation else None,
                    "confirmed": bool(conf and conf.confirmed and example is chosen)}
        store.write_counterexamples(run_dir, cells_written, extra)
    picture = write_picture(prop, result.examples, shrunk, run_dir / "explore.png")
    stopped = result.stopped
    if result.examples and result.failures == len(result.examples):
        first = next((o.error for e in result.examples for o in e.outcomes if o.error), "")
        stopped = (f"every draw failed its verification, so no performance figure exists "
                   f"(first error: {first})")
    report = {
        "property": prop.name, "description": prop.description, "case": prop.case,
        "kind": prop.kind, "metric": prop.metric, "must_hold": limit_text(prop),
        "bound": prop.bound, "direction": prop.direction, "seed": args.seed,
        "examples": len(result.examples), "failures": result.failures,
        "seconds": round(result.seconds, 2), "stopped": stopped,
        "counterexample": example_view(prop, chosen),
        "found": example_view(prop, found), "confirmed": bool(conf and conf.confirmed),
        "confirmation": confirmation_view(conf),
        "worst": example_view(prop, result.worst),
        "influence": [[k, round(v, 3)] for k, v in influence(prop, result.examples)],
        "picture": str(picture) if picture else None, "run_dir": str(run_dir),
        "earlier_runs": [str(p) for p in earlier],
        "all_examples": [e.to_dict() for e in result.examples],
    }
    report["total_seconds"] = round(time.monotonic() - began, 2)
    store.write_report(run_dir, report)
    print(file=sys.stderr)
    if args.format == "json":
        print(json.dumps({k: v for k, v in report.items() if k != "all_examples"}, indent=2,
                         default=str))
    else:
        print(render_table(prop, report))
    if result.interrupted:
        print("k2matrix: explore interrupted: what was measured is written in "
              f"{run_dir} (no confirmation ran)", file=sys.stderr)
        return 130
    every_failed = bool(result.examples) and result.failures == len(result.examples)
    return 1 if report["confirmed"] or every_failed else 0
