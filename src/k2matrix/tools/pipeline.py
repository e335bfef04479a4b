"""Run the pipeline from the command line: one run, the producers alone beside it, or the
sustainable-rate search.

    python -m k2matrix.tools.pipeline --rate 100000 --seconds 60 --workers 2
    python -m k2matrix.tools.pipeline --rate 100000 --seconds 60 --restart-at-s 30
    python -m k2matrix.tools.pipeline --tansu --workers 2 --rate 120000 --seconds 60 \\
        --baseline-pairs 2
    python -m k2matrix.tools.pipeline --search --repeat 3 --seconds 30 --out searches.jsonl

Brokers: the embedded mock cluster, ``--bootstrap HOST:PORT`` (any Kafka-protocol brokers),
or ``--tansu`` (a Tansu broker started on loopback for this command); load processes: a
Dask LocalCluster of ``--workers`` processes, or ``--scheduler tcp://HOST:8786`` (whose
workers must reach the brokers: the embedded or a loopback broker is refused).
``--repeat N`` searches run interleaved, one step of each in turn, so that the machine's
slow changes fall on all of them alike (``--sequential``: one after another).
``--baseline-pairs N`` runs N pairs of (the pipeline, the same producers with no sink),
each pair in a random order, and reports the ratio of each pair. Prints the figures as
JSON (``--series`` keeps the lag and commit-latency series). A search prints each step to
standard error as it is measured (each step a fresh run of this command:
:mod:`k2matrix.tools.pipeline_step`) and, with ``--out FILE``, appends it to FILE as a JSON
line (then each search's result, then the whole output): a search runs for many minutes, and one
that is stopped (SIGTERM, SIGINT: the brokers and workers this command started are stopped
too) keeps every step it measured. With ``--tansu``, every run and search step
also gives the broker's CPU over the run (``broker_process``: CPU seconds, the share of one
core, and that share in each quarter of the run). Exit 0 when every run verified
exactly once (a sink that fell behind its broker's retention is a measured outcome), 1
when a row was lost or duplicated, 2 on bad input or a run that could not finish (an
unreachable service, a producer share that failed: its error is printed), 128 + the
signal's number when stopped.
"""

from __future__ import annotations

import argparse
import contextlib
import functools
import json
import random
import signal
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from types import FrameType
from typing import IO, Any

from k2matrix.backends.config import Backends, CatalogConfig
from k2matrix.errors import K2Error
from k2matrix.pipeline.bench import extra_info, freshness_bound_ms
from k2matrix.pipeline.processcpu import ProcessCpu, add_broker_cpu
from k2matrix.pipeline.run import PipelineConfig, PipelineResult, run_pipeline
from k2matrix.ratesearch import LoadSystem, SearchConfig, Step, interleaved, search, step_dict
from k2matrix.tools.pipeline_step import ProcessSystem


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
    p.add_argument("--sequential", action="store_true",
                   help="run the searches one after another (default: interleaved, a step "
                        "of each in turn)")
    p.add_argument("--step-s", type=float, default=20.0, help="seconds of a search step")
    p.add_argument("--max-p99-ms", type=float, default=None,
                   help="the search's freshness bound (default: commit interval + "
                        "the margin of k2matrix.pipeline.bench)")
    p.add_argument("--out", type=Path, default=None,
                   help="append each search step and result to this file as JSON lines")
    p.add_argument("--series", action="store_true")
    return p


class Stopped(Exception):
    """SIGTERM or SIGINT: unwind so that the brokers and workers started here stop."""

    def __init__(self, signum: int) -> None:
        super().__init__(signal.Signals(signum).name)
        self.signum = signum


def _stop(signum: int, frame: FrameType | None) -> None:
    # a second signal (``timeout`` forwards its own SIGTERM after a pkill's) must not cut
    # the unwinding short: the broker, the workers and the sink's threads stop in it
    for sig in (signal.SIGTERM, signal.SIGINT):
        signal.signal(sig, signal.SIG_IGN)
    raise Stopped(signum)


def _loadavg() -> str:
    try:
        return " / ".join(Path("/proc/loadavg").read_text().split()[:3])
    except OSError:
        return "unknown"


class Journal:
    """Each search step as it is measured: a line on standard error, and a JSON line in
    ``path`` when given (flushed at once)."""

    def __init__(self, path: Path | None) -> None:
        self.file: IO[str] | None = path.open("a", encoding="utf-8") if path else None

    def write(self, record: dict[str, Any]) -> None:
        if self.file is not None:
            self.file.write(json.dumps(record, default=str) + "\n")
            self.file.flush()

    def step(self, search: int, phase: str, step: Step, held: bool) -> None:
        verdict = "held" if held else f"failed ({step.failed})" if step.failed else "failed"
        load = _loadavg()
        print(f"search {search + 1}: {phase} {step.rate:,.0f} rows/s for "
              f"{step.seconds:g} s: {verdict}; achieved {step.achieved:,.0f}, backlog "
              f"{step.backlog:,.0f}, freshness p99 {step.p99_ms:,.0f} ms (load {load})",
              file=sys.stderr, flush=True)
        self.write({"search": search, "at": time.time(), "loadavg": load,
                    **step_dict(phase, step, held)})

    def result(self, search: int, found: dict[str, Any]) -> None:
        self.write({"search": search, "result": found["rate"], "p99_ms": found["p99_ms"],
                    "achieved": found["achieved"], "at": time.time()})
        print(f"search {search + 1}: {found['rate']:,.0f} rows/s", file=sys.stderr,
              flush=True)

    def __enter__(self) -> Journal:
        return self

    def __exit__(self, *exc: object) -> None:
        if self.file is not None:
            self.file.close()


@contextlib.contextmanager
def _brokers(args: argparse.Namespace) -> Iterator[tuple[dict[str, str], ProcessCpu | None]]:
    """The brokers' environment, and the CPU meter of a broker this command started."""
    if not args.tansu:
        yield ({"K2_KAFKA_BOOTSTRAP": args.bootstrap} if args.bootstrap else {}), None
        return
    from k2matrix.backends.tansu import TansuBroker

    with TansuBroker.start() as broker, ProcessCpu(broker.pid) as meter:
        yield {"K2_KAFKA_BOOTSTRAP": broker.bootstrap_servers}, meter


def _figures(result: PipelineResult, series: bool, meter: ProcessCpu | None = None
             ) -> dict[str, Any]:
    from k2matrix.results.environment import tansu_at

    out = extra_info(result)
    add_broker_cpu(out, meter)
    mode, _, servers = str(out.get("broker", "")).partition(" ")
    if mode == "bootstrap" and tansu_at(servers):  # say which broker the figure came from
        out["broker"] = f"tansu {servers}"
    if not series:
        out.pop("series")
    return out


def _pairs(config: PipelineConfig, backends: Backends, pairs: int, series: bool,
           meter: ProcessCpu | None) -> tuple[dict[str, Any], bool]:
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
            pair["pipeline" if with_sink else "producers_alone"] = _figures(result, series, meter)
        pipe, alone = pair["pipeline"]["throughput"], pair["producers_alone"]["throughput"]
        pair["ratio"] = round(pipe / alone, 4) if alone else None
        runs.append(pair)
    ratios = [p["ratio"] for p in runs if p["ratio"] is not None]
    return {"ratios": ratios, "pairs": runs}, ok


def _searches(system: LoadSystem, bounds: SearchConfig, repeat: int, journal: Journal,
              sequential: bool) -> dict[str, Any]:
    found: list[dict[str, Any]] = []
    if sequential or repeat == 1:
        for i in range(repeat):
            found.append(search(system, bounds, on_step=functools.partial(journal.step, i)
                                ).to_dict())
            journal.result(i, found[-1])
    else:
        found = [f.to_dict() for f in interleaved(system, bounds, repeat,
                                                  on_step=journal.step)]
        for i, one in enumerate(found):
            journal.result(i, one)
    rates = [s["rate"] for s in found]
    out = {"max_p99_ms": bounds.max_p99_ms, "step_s": bounds.step_s,
           "interleaved": not sequential and repeat > 1, "rates": rates,
           "spread": (max(rates) / min(rates) - 1) if min(rates) else None,
           "searches": found}
    journal.write({"output": out})
    return out


def main(argv: list[str] | None = None) -> int:
    args = _parser().parse_args(argv)
    main_thread = threading.current_thread() is threading.main_thread()
    previous = ({sig: signal.signal(sig, _stop) for sig in (signal.SIGTERM, signal.SIGINT)}
                if main_thread else {})  # signal handlers belong to the main thread
    try:
        return _main(args)
    except Stopped as exc:
        print(f"k2matrix: stopped by {exc}; the brokers and workers this command started "
              "are stopped" + (f", the steps measured are in {args.out}" if args.out else ""),
              file=sys.stderr)
        return 128 + exc.signum
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)


def _main(args: argparse.Namespace) -> int:
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
        try:
            journal = Journal(args.out if args.search else None)
        except OSError as exc:
            raise ValueError(f"--out {args.out}: cannot write there ({exc.strerror}): give "
                             "a file in a folder that exists and is writable") from None
        with journal, _brokers(args) as (env, meter):
            backends = replace(Backends(), catalog=CatalogConfig(warehouse=args.warehouse)
                               ).with_environment(env)
            if args.search:
                bound = args.max_p99_ms or freshness_bound_ms(args.commit_interval_ms)
                bounds = SearchConfig(start_rate=min(5_000.0, args.rate),
                                      max_rate=args.rate * 4, step_s=args.step_s,
                                      hold_s=args.seconds, max_p99_ms=bound,
                                      max_backlog=5 * args.rate)
                system = ProcessSystem(config, args.warehouse,
                                       env.get("K2_KAFKA_BOOTSTRAP"), meter)
                out = _searches(system, bounds, args.repeat, journal, args.sequential)
            elif args.baseline_pairs:
                out, ok = _pairs(config, backends, args.baseline_pairs, args.series, meter)
            else:
                result = run_pipeline(config, backends)
                out = _figures(result, args.series, meter)
                ok = result.verified is None or result.verified.ok
    except (K2Error, ValueError) as exc:
        print(f"k2matrix: {exc}", file=sys.stderr)
        return 2
    print(json.dumps(out, indent=2, default=str))
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
