"""One exploration of a property, from plain values to its report: the budget split up front
(:mod:`.budget`), a warm-up cell, the search and the shrinking (:mod:`.search`) over real
cells (:mod:`.runner`), the confirmation of the shrunk (else the found) violation over
trials, one fresh process each, with progress (:mod:`.relation`), the counterexamples, the
picture and ``explore.json`` written in a new run directory (:mod:`.store`).
``ExploreSession(...).run()`` returns an :class:`ExploreResult`; the ``explore`` command
(:mod:`k2matrix.commands.explore`) only renders it."""

from __future__ import annotations

import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import TYPE_CHECKING, Any

from k2matrix.checks import did_you_mean
from k2matrix.errors import K2Error

if TYPE_CHECKING:  # the search and its libraries load only when explore runs
    from k2matrix.cell import Cell
    from k2matrix.explore.budget import Plan
    from k2matrix.explore.relation import Confirmation
    from k2matrix.explore.search import Example, SearchResult
    from k2matrix.explore.space import CellFactory
    from k2matrix.matrix import Matrix
    from k2matrix.matrix.properties import Property

DEFAULT_BUDGET = 60  # measurements, when neither a budget nor a time is given


@dataclass
class ExploreResult:
    """What an exploration found: the report (as written to ``explore.json``), whether the
    search was interrupted, and whether every draw failed its verification."""

    prop: Property
    report: dict[str, Any]
    interrupted: bool = False
    every_failed: bool = False

    @property
    def run_dir(self) -> Path:
        return Path(self.report["run_dir"])

    @property
    def confirmed(self) -> bool:
        return bool(self.report["confirmed"])


@dataclass
class ExploreSession:
    """An exploration of ``property_name`` in the matrix at ``matrix_path``: at most
    ``budget`` measurements (then ``trials`` confirming trials) or ``seconds`` in all
    (neither: 60 measurements), the search seeded by ``seed``; the run directory goes in
    ``results``."""

    matrix_path: Path
    property_name: str
    results: Path
    seed: int
    trials: int
    budget: int | None = None
    seconds: float | None = None
    tests: Path | None = None
    # set as the run begins
    prop: Property = field(init=False)
    factory: CellFactory = field(init=False)
    suites: Path = field(init=False)
    run_dir: Path = field(init=False)

    def run(self) -> ExploreResult:
        from k2matrix.explore import store
        from k2matrix.explore.budget import plan
        from k2matrix.explore.runner import CellRunner, suites_for
        from k2matrix.explore.space import CellFactory
        from k2matrix.matrix import load_matrix

        began = time.monotonic()
        matrix = load_matrix(self.matrix_path)
        prop = find_property(matrix, self.property_name)
        self.suites = suites_for(self.matrix_path, self.tests)
        budget = self.budget if self.budget or self.seconds else DEFAULT_BUDGET
        the_plan = plan(budget, None if budget else self.seconds, self.trials)
        earlier = store.earlier_runs(self.results, prop.name)
        self.run_dir = store.new_run_dir(self.results, prop.name)
        database = store.open_database(self.run_dir, earlier)
        self.prop, self.factory = prop, CellFactory(matrix, prop)
        runner = CellRunner(self.matrix_path, self.suites, self.run_dir / "examples",
                            prop.metric, prop.rounds)
        print(f"k2matrix explore {prop.name}: {the_plan.describe()}", file=sys.stderr,
              flush=True)
        result = self._search(runner, the_plan, database, began)
        found, shrunk = result.shrink_from, result.shrunk
        deadline = began + the_plan.seconds if the_plan.seconds is not None else None
        chosen, conf = shrunk, None
        if shrunk is not None and not result.interrupted:
            chosen, conf = self._confirm_either(found, shrunk, deadline)
        if shrunk is not None:
            self._write_counterexamples(found, shrunk, chosen, conf)
        report = self._report(result, earlier, found, shrunk, chosen, conf)
        report["total_seconds"] = round(time.monotonic() - began, 2)
        store.write_report(self.run_dir, report)
        print(file=sys.stderr)  # ends the progress line
        every_failed = bool(result.examples) and result.failures == len(result.examples)
        return ExploreResult(prop, report, interrupted=result.interrupted,
                             every_failed=every_failed)

    def _search(self, runner: Any, the_plan: Plan, database: Any, began: float
                ) -> SearchResult:
        from k2matrix.explore.render import progress_line
        from k2matrix.explore.search import Outcome, search
        from k2matrix.explore.space import points, simplest

        prop, factory = self.prop, self.factory

        def measure(drawn: list[dict[str, Any]]) -> list[Outcome]:
            outcomes: list[Outcome] = runner.measure([factory.cell(p) for p in drawn])
            return outcomes

        def progress(result: SearchResult, phase: str, left: float | int) -> None:
            progress_line(prop, result, phase, left, the_plan)

        # the first cells in this process pay first-use costs (imports, the catalog,
        # caches): a warm-up cell, discarded, so that the first example is not timed cold
        print(f"k2matrix explore {prop.name}: warming up ...", file=sys.stderr, flush=True)
        warm = {c.id: c for c in (factory.cell(p, tag="w")
                                  for p in points(prop, simplest(prop)))}
        runner.measure(list(warm.values()), "warmup")  # both variants of a relation
        return search(prop, measure, seed=self.seed, database=database, progress=progress,
                      budget_plan=the_plan, start=began)

    def _confirm_either(self, found: Example | None, shrunk: Example,
                        deadline: float | None) -> tuple[Example, Confirmation]:
        """The shrunk violation confirmed, or else the found one when that confirms (and
        the time allows)."""
        conf = self._confirm(shrunk, "shrunk", deadline)
        if not conf.confirmed and found is not None and found is not shrunk and (
                deadline is None or time.monotonic() < deadline):
            conf_found = self._confirm(found, "found", deadline)
            if conf_found.confirmed:
                return found, conf_found
        return shrunk, conf

    def _confirm(self, example: Example, label: str, deadline: float | None
                 ) -> Confirmation:
        from dataclasses import replace

        from k2matrix.explore.relation import confirm
        from k2matrix.explore.runner import measure_trial
        from k2matrix.sweep.command import order_seed

        prop = self.prop
        cells = [self.factory.cell(p) for p in example.points]
        unique = list({c.id: c for c in cells}.values())
        trials: dict[str, list[float | None]] = {c.id: [] for c in unique}
        ran = 0
        failed: list[str] = []  # trials whose cells did not give the metric, and why
        for k in range(1, self.trials + 1):
            left = None if deadline is None else deadline - time.monotonic()
            if left is not None and left <= 0:
                break
            print(f"\rk2matrix explore {prop.name}: confirming the {label} counterexample, "
                  f"trial {k} of {self.trials} (a fresh process){_so_far(trials)}".ljust(110),
                  end="", file=sys.stderr, flush=True)
            measured = measure_trial(unique, matrix_path=self.matrix_path, suites=self.suites,
                                     folder=self.run_dir / "confirm", run_id=f"{label}-t{k}",
                                     order_seed=order_seed(f"{label}-{example.number}", k),
                                     metric=prop.metric,
                                     timeout_s=1800 if left is None else left)
            if measured is None:
                break
            ran += 1
            for cell, outcome in zip(unique, measured, strict=True):
                trials[cell.id].append(outcome.value)
            lost = [o for o in measured if o.value is None]
            if lost:
                failed.append(f"trial {k}: {lost[0].status}"
                              + (f" ({lost[0].error.splitlines()[0][:160]})"
                                 if lost[0].error else ""))
        xs = [p.get(prop.axis) for p in example.points] if prop.axis else []
        per_point = [[v for v in trials[c.id] if v is not None] for c in cells]
        conf = confirm(prop, per_point, xs, cell_id=cells[-1].id)
        if ran < self.trials:
            conf = replace(conf, reason=f"{conf.reason}; the time ran out after {ran} of "
                                        f"{self.trials} trials")
        if failed:  # never a silent confirmation from fewer trials than asked
            conf = replace(conf, reason=f"{conf.reason}; {len(failed)} of {ran} trials gave no "
                                        f"figure and are left out: " + "; ".join(failed))
        return conf

    def _write_counterexamples(self, found: Example | None, shrunk: Example,
                               chosen: Example | None, conf: Confirmation | None) -> None:
        from k2matrix.explore import store
        from k2matrix.explore.render import limit_text

        prop = self.prop
        cells: list[Cell] = []
        extra: dict[str, dict[str, Any]] = {}
        for role, example in (("found", found), ("shrunk", shrunk)):
            if example is None:
                continue
            for point_cell in [self.factory.cell(p) for p in example.points]:
                cells.append(point_cell)
                extra[point_cell.id] = {
                    "property": prop.name, "role": role, "metric": prop.metric,
                    "limit": limit_text(prop), "figure": example.evaluation.figure
                    if example.evaluation else None,
                    "confirmed": bool(conf and conf.confirmed and example is chosen)}
        store.write_counterexamples(self.run_dir, cells, extra)

    def _report(self, result: SearchResult, earlier: list[Path], found: Example | None,
                shrunk: Example | None, chosen: Example | None,
                conf: Confirmation | None) -> dict[str, Any]:
        from k2matrix.explore.picture import influence, write_picture
        from k2matrix.explore.render import confirmation_view, example_view, limit_text

        prop = self.prop
        picture = write_picture(prop, result.examples, shrunk, self.run_dir / "explore.png")
        stopped = result.stopped
        if result.examples and result.failures == len(result.examples):
            first = next((o.error for e in result.examples for o in e.outcomes if o.error),
                         "")
            stopped = (f"every draw failed its verification, so no performance figure "
                       f"exists (first error: {first})")
        region = result.region
        return {
            "property": prop.name, "description": prop.description, "case": prop.case,
            "kind": prop.kind, "metric": prop.metric, "must_hold": limit_text(prop),
            "bound": prop.bound, "direction": prop.direction, "seed": self.seed,
            "budget": result.plan.to_dict() if result.plan else None,
            "examples": len(result.examples), "failures": result.failures,
            "measurements": result.measurements,
            "search_measurements": result.search_measurements,
            "shrink_measurements": result.shrink_measurements,
            "seconds": round(result.seconds, 2), "stopped": stopped,
            "search_stopped": result.search_stopped,
            "shrinking": {"stopped": result.shrink_stopped, "steps": result.shrink_steps,
                          "complete": result.shrink_complete,
                          "from": found.number if found else None,
                          "resumed_search": result.resumed},
            "counterexample": example_view(prop, chosen),
            "found": example_view(prop, found),
            "first_violation": example_view(prop, result.first_violation),
            "confirmed": bool(conf and conf.confirmed),
            "confirmation": confirmation_view(conf),
            "worst": example_view(prop, result.worst),
            "region": [example_view(prop, e) for e in region],
            "noise": [example_view(prop, e) for e in result.noise],
            "influence": [[k, round(v, 3)] for k, v in influence(prop, result.examples)],
            "picture": str(picture) if picture else None, "run_dir": str(self.run_dir),
            "earlier_runs": [str(p) for p in earlier],
            "all_examples": [e.to_dict() for e in result.examples],
        }


def _so_far(trials: dict[str, list[float | None]]) -> str:
    figures = next(iter(trials.values()), [])
    shown = ", ".join(f"{v:.4g}" for v in figures if v is not None)
    return f"; so far {shown}" if shown else ""


def find_property(matrix: Matrix, name: str) -> Property:
    """The matrix's ``[properties.NAME]``; a K2Error naming the known ones."""
    props = matrix.properties
    if name not in props:
        known = ", ".join(props) or "none: add a [properties.NAME] table"
        raise K2Error(f"explore {name}: no such property{did_you_mean(name, props)} in "
                      f"{matrix.source}; properties: {known}")
    prop: Property = props[name]
    return prop
