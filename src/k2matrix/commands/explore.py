"""``k2matrix explore PROPERTY [--budget N | --time SECONDS] [--seed S] [--matrix PATH]
[--tests PATH] [--format table|json] [--results DIR] [--trials N]``: search a property's
workload space for a performance counterexample, shrink it, confirm it over trials in
fresh processes, write it as a replayable cell (:class:`k2matrix.explore.session.
ExploreSession`); this command only renders what the session found. ``--out DIR``, the old
spelling of ``--results DIR``, still works for one release, with a note.

Exit codes: 0 no confirmed counterexample, 1 a confirmed one (or every draw failed its
verification), 2 bad input (no traceback), 130 interrupted (what was measured is kept).
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import TYPE_CHECKING

from k2matrix.commands.arguments import (
    PREFIX,
    RESULTS_DEFAULT,
    add_matrix,
    add_results,
    add_seed,
    add_tests,
    add_trials,
    given_folder,
    seed_value,
)
from k2matrix.commands.base import Command
from k2matrix.options import check_writable, count, seconds

if TYPE_CHECKING:  # the search and its libraries load only when explore runs
    from k2matrix.explore.session import ExploreResult, ExploreSession

EXPLORE_TRIALS = 10
INTERRUPTED = 130


class ExploreCommand(Command["ExploreSession", "ExploreResult"]):
    name = "explore"
    help = "search a property's workload space for a performance counterexample"
    description = ("Draws workloads from the property's space (log-uniformly over integer "
                   "ranges), runs each as a real cell, measures a violation again before it "
                   "counts, steers toward violations, shrinks one to the simplest workload "
                   "and confirms it over trials in fresh processes. Exit 0: none confirmed, "
                   "1: a confirmed counterexample, 2: bad input.")
    formats = ("table", "json")

    def add_arguments(self, parser: argparse.ArgumentParser) -> None:
        parser.add_argument("property", metavar="PROPERTY", help="a [properties.*] name")
        limit = parser.add_mutually_exclusive_group()
        limit.add_argument("--budget", type=count, default=None,
                           help="measurements (an example run once, or again to see its "
                                "violation repeat): 60%% for the search, the rest for "
                                "shrinking; the confirming trials come after (default 60)")
        limit.add_argument("--time", type=seconds, default=None, metavar="SECONDS",
                           help="seconds of the whole run: the search until 55%%, shrinking "
                                "until 80%%, the confirming trials in the rest")
        add_seed(parser)
        add_matrix(parser)
        add_results(parser, folder_alias=True)
        add_tests(parser)
        add_trials(parser, EXPLORE_TRIALS,
                   "trials that confirm a violation (with 5, between-trial noise of 30%% here "
                   "hides a 2x violation at 99%% confidence)")

    def values(self, args: argparse.Namespace) -> ExploreSession:
        from k2matrix.explore.session import ExploreSession

        given = given_folder(args)
        results = check_writable(*given, folder=True) if given else Path(RESULTS_DEFAULT)
        return ExploreSession(
            matrix_path=Path(args.matrix), property_name=args.property, results=results,
            seed=seed_value(args), trials=args.trials, budget=args.budget,
            seconds=args.time, tests=Path(args.tests) if args.tests else None)

    def run(self, values: ExploreSession) -> ExploreResult:
        return values.run()

    def render(self, result: ExploreResult, fmt: str) -> str:
        report = result.report
        if fmt == "json":
            return json.dumps({k: v for k, v in report.items() if k != "all_examples"},
                              indent=2, default=str) + "\n"
        from k2matrix.explore.render import render_table

        return render_table(result.prop, report) + "\n"

    def finish(self, result: ExploreResult, values: ExploreSession) -> int:
        if result.interrupted:
            print(f"{PREFIX}explore interrupted: what was measured is written in "
                  f"{result.run_dir} (no confirmation ran)", file=sys.stderr)
            return INTERRUPTED
        return 1 if result.confirmed or result.every_failed else 0
