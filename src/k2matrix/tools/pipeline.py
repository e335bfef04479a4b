"""Run the pipeline from the command line: one run, or the sustainable-rate search.

    python -m k2matrix.tools.pipeline --rate 100000 --seconds 60 --workers 2
    python -m k2matrix.tools.pipeline --rate 100000 --seconds 60 --restart-at-s 30
    python -m k2matrix.tools.pipeline --search --repeat 3 --seconds 20

Brokers: the embedded mock cluster, or ``--bootstrap HOST:PORT`` (any Kafka-protocol
brokers, e.g. ``python -m k2matrix.backends.tansu start``); load processes: a Dask
LocalCluster of ``--workers`` processes, or ``--scheduler tcp://HOST:8786``. Prints the
figures as JSON (``--series`` keeps the lag and commit-latency series). Exit 0 when every
run verified exactly once, 1 when one did not, 2 on bad input or an unreachable service.
"""

from __future__ import annotations

import argparse
import json
import sys
from dataclasses import replace
from typing import Any

from k2matrix.backends.config import Backends, CatalogConfig
from k2matrix.errors import K2Error
from k2matrix.pipeline.bench import PipelineSystem, extra_info
from k2matrix.pipeline.run import PipelineConfig, run_pipeline
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
    p.add_argument("--bootstrap", default=None, help="Kafka bootstrap servers")
    p.add_argument("--warehouse", default=".k2matrix/pipeline-warehouse")
    p.add_argument("--search", action="store_true", help="search the sustainable rate")
    p.add_argument("--repeat", type=int, default=1, help="searches to run (with --search)")
    p.add_argument("--max-p99-ms", type=float, default=2_000.0)
    p.add_argument("--series", action="store_true")
    return p


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    env = {"K2_KAFKA_BOOTSTRAP": args.bootstrap} if args.bootstrap else {}
    backends = replace(Backends(), catalog=CatalogConfig(warehouse=args.warehouse)
                       ).with_environment(env)
    try:
        config = PipelineConfig(schema=args.schema, rate=args.rate, seconds=args.seconds,
                                workers=args.workers,
                                commit_interval_ms=args.commit_interval_ms,
                                commit_rows=args.commit_rows, restart_at_s=args.restart_at_s,
                                scheduler=args.scheduler)
        out: dict[str, Any]
        ok = True
        if args.search:
            bounds = SearchConfig(start_rate=min(5_000.0, args.rate), max_rate=args.rate * 4,
                                  step_s=min(8.0, args.seconds), hold_s=args.seconds,
                                  max_p99_ms=args.max_p99_ms, max_backlog=5 * args.rate)
            searches = [search(PipelineSystem(config, backends), bounds).to_dict()
                        for _ in range(max(1, args.repeat))]
            rates = [s["rate"] for s in searches]
            out = {"rates": rates, "spread": (max(rates) / min(rates) - 1) if min(rates) else
                   None, "searches": searches}
        else:
            result = run_pipeline(config, backends)
            out = extra_info(result)
            ok = result.verified.ok
            if not args.series:
                out.pop("series")
    except (K2Error, ValueError) as exc:
        print(f"k2matrix: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
