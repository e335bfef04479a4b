"""Run the pipeline from the command line: one run, the producers alone beside it, or the
sustainable-rate search.

    python -m k2matrix.tools.pipeline --rate 100000 --seconds 60 --workers 2
    python -m k2matrix.tools.pipeline --rate 100000 --seconds 60 --restart-at-s 30
    python -m k2matrix.tools.pipeline --tansu --workers 2 --rate 120000 --seconds 60 \\
        --baseline-pairs 2
    python -m k2matrix.tools.pipeline --search --repeat 3 --seconds 30

Brokers: the embedded mock cluster, ``--bootstrap HOST:PORT`` (any Kafka-protocol brokers),
or ``--tansu`` (a Tansu broker started on loopback for this command); load processes: a
Dask LocalCluster of ``--workers`` processes, or ``--scheduler tcp://HOST:8786`` (whose
workers must reach the brokers: the embedded or a loopback broker is refused).
``--baseline-pairs N`` runs N pairs of (the pipeline, the same producers with no sink),
each pair in a random order, and reports the ratio of each pair. Prints the figures as
JSON (``--series`` keeps the lag and commit-latency series). Exit 0 when every run verified
exactly once (a sink that fell behind its broker's retention is a measured outcome), 1
when a row was lost or duplicated, 2 on bad input or a run that could not finish (an
unreachable service, a producer share that failed: its error is printed).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import random
import sys
from collections.abc import Iterator
from dataclasses import replace
from typing import Any

from k2matrix.backends.config import Backends, CatalogConfig
from k2matrix.errors import K2Error
from k2matrix.pipeline.bench import PipelineSystem, extra_info, freshness_bound_ms
from k2matrix.pipeline.run import PipelineConfig, PipelineResult, run_pipeline
from k2matrix.ratesearch import SearchConfig, search


def _parser() -> argparse.ArgumentParser:
    p = argparse.ArgumentParser(prog="python -m k2matrix.tools.pipeline",
                                description=__doc__.split("\n\n")[0])
    p.add_argument("--rate", type=float, default=20_000, help="offered rows/s (all workers)")
    p.add_argument("--seconds", type=float, default=10.0)
    p.add_argument("--workers", type=int, default=1)
    p.add_argument("--schema", default="v2", choices=["v2"],
                   help="v2 (exactly-once is checked by message_id, which V1 lacks)")
    p.add_argument("--commit-interval-ms", type=int, default=1000)
    p.add_argument("--commit-rows", type=int, default=100_000)
    p.add_argument("--restart-at-s", type=float, default=None,
                   help="kill the consumer this many seconds in and start a new one")
    p.add_argument("--scheduler", default=None, help="a Dask scheduler address")
    broker = p.add_mutually_exclusive_group()
    broker.add_argument("--bootstrap", default=None, help="Kafka bootstrap servers")
    broker.add_argument("--tansu", action="store_true",
                        help="start a Tansu broker on loopback for this command")
    p.add_argument("--warehouse", default=".k2matrix/pipeline-warehouse")
    p.add_argument("--baseline-pairs", type=int, default=0,
                   help="pairs of (pipeline, producers alone), each pair in random order")
    p.add_argument("--search", action="store_true", help="search the sustainable rate")
    p.add_argument("--repeat", type=int, default=1, help="searches to run (with --search)")
    p.add_argument("--step-s", type=float, default=20.0, help="seconds of a search step")
    p.add_argument("--max-p99-ms", type=float, default=None,
                   help="the search's freshness bound (default: commit interval + "
                        "the margin of k2matrix.pipeline.bench)")
    p.add_argument("--series", action="store_true")
    return p


@contextlib.contextmanager
def _brokers(args: argparse.Namespace) -> Iterator[dict[str, str]]:
    if not args.tansu:
        yield {"K2_KAFKA_BOOTSTRAP": args.bootstrap} if args.bootstrap else {}
        return
    from k2matrix.backends.tansu import TansuBroker

    with TansuBroker.start() as broker:
        yield {"K2_KAFKA_BOOTSTRAP": broker.bootstrap_servers}


def _figures(result: PipelineResult, series: bool) -> dict[str, Any]:
    from k2matrix.results.environment import tansu_at

    out = extra_info(result)
    mode, _, servers = str(out.get("broker", "")).partition(" ")
    if mode == "bootstrap" and tansu_at(servers):  # say which broker the figure came from
        out["broker"] = f"tansu {servers}"
    if not series:
        out.pop("series")
    return out


def _pairs(config: PipelineConfig, backends: Backends, pairs: int, series: bool
           ) -> tuple[dict[str, Any], bool]:
    """Pairs of (pipeline, producers alone) in random order within each pair."""
    rng = random.Random()
    runs: list[dict[str, Any]] = []
    ok = True
    for i in range(pairs):
        order = [True, False]
        rng.shuffle(order)
        pair: dict[str, Any] = {"pair": i, "order": ["pipeline" if s else "producers alone"
                                                     for s in order]}
        for with_sink in order:
            result = run_pipeline(replace(config, sink=with_sink), backends)
            ok = ok and (result.verified is None or result.verified.ok)
            pair["pipeline" if with_sink else "producers_alone"] = _figures(result, series)
        pipe, alone = pair["pipeline"]["throughput"], pair["producers_alone"]["throughput"]
        pair["ratio"] = round(pipe / alone, 4) if alone else None
        runs.append(pair)
    ratios = [p["ratio"] for p in runs if p["ratio"] is not None]
    return {"ratios": ratios, "pairs": runs}, ok


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    try:
        config = PipelineConfig(schema=args.schema, rate=args.rate, seconds=args.seconds,
                                workers=args.workers,
                                commit_interval_ms=args.commit_interval_ms,
                                commit_rows=args.commit_rows, restart_at_s=args.restart_at_s,
                                scheduler=args.scheduler)
        if args.baseline_pairs < 0 or args.repeat < 1 or args.step_s <= 0:
            raise ValueError(f"--baseline-pairs {args.baseline_pairs}, --repeat "
                             f"{args.repeat}, --step-s {args.step_s}: give pairs >= 0, "
                             "repeat >= 1 and a positive step")
        out: dict[str, Any]
        ok = True
        with _brokers(args) as env:
            backends = replace(Backends(), catalog=CatalogConfig(warehouse=args.warehouse)
                               ).with_environment(env)
            if args.search:
                bound = args.max_p99_ms or freshness_bound_ms(args.commit_interval_ms)
                bounds = SearchConfig(start_rate=min(5_000.0, args.rate),
                                      max_rate=args.rate * 4, step_s=args.step_s,
                                      hold_s=args.seconds, max_p99_ms=bound,
                                      max_backlog=5 * args.rate)
                searches = [search(PipelineSystem(config, backends), bounds).to_dict()
                            for _ in range(args.repeat)]
                rates = [s["rate"] for s in searches]
                out = {"max_p99_ms": bound, "step_s": args.step_s, "rates": rates,
                       "spread": (max(rates) / min(rates) - 1) if min(rates) else None,
                       "searches": searches}
            elif args.baseline_pairs:
                out, ok = _pairs(config, backends, args.baseline_pairs, args.series)
            else:
                result = run_pipeline(config, backends)
                out = _figures(result, args.series)
                ok = result.verified is None or result.verified.ok
    except (K2Error, ValueError) as exc:
        print(f"k2matrix: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
