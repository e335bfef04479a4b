"""The order the cells run in.

- In a trial (``--k2-order-seed S``): shuffled by S, so that the machine's drift spreads
  over every cell; the same seed gives every xdist worker the same order.
- Under xdist otherwise (:func:`spread`): the exclusive cells first (both workers start
  free, so an exclusive cell never waits for a long cell to end), then the others shuffled
  by a seed of the run (the same in every worker). Measured on the smoke profile at -n 2:
  a longest-first order (:func:`balanced`, by the previous run's times) put the S3 cells,
  each worker with its own S3 server process, side by side at the start and took 157 s;
  shuffled runs of the same profile took 80-96 s.
- Without xdist: the matrix's order.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import TypeVar

from k2matrix.errors import ResultsError
from k2matrix.results.journal import read_run

T = TypeVar("T")


def shuffled(items: list[T], key: Callable[[T], str], seed: int) -> list[T]:
    """``items`` sorted by ``key``, then shuffled by ``seed``."""
    out = sorted(items, key=key)
    random.Random(seed).shuffle(out)
    return out


def previous_durations(results: Path) -> dict[str, float]:
    """Seconds each test took (setup to teardown) in ``results/latest``; empty when there is
    none or it cannot be read (an order is never worth failing a run for)."""
    latest = results / "latest"
    if not latest.is_dir():
        return {}
    try:
        return {r.nodeid: r.finished - r.started for r in read_run(latest)
                if r.finished > r.started}
    except (ResultsError, OSError):
        return {}


def balanced(items: Sequence[T], key: Callable[[T], str], exclusive: Callable[[T], bool],
             durations: Mapping[str, float], workers: int) -> list[T]:
    """``items`` in the balanced order described above, for ``workers`` workers."""
    longest = max(durations.values(), default=1.0)
    first = sorted((i for i in items if exclusive(i)), key=key)
    rest = sorted((i for i in items if not exclusive(i)),
                  key=lambda i: (-durations.get(key(i), longest), key(i)))
    shares: list[list[T]] = [[] for _ in range(max(1, workers))]
    for group in (first, rest):
        for n, item in enumerate(group):
            shares[n % len(shares)].append(item)
    return [item for share in shares for item in share]


def spread(items: Sequence[T], key: Callable[[T], str], exclusive: Callable[[T], bool],
           seed: int) -> list[T]:
    """The exclusive items first (sorted), then the others shuffled by ``seed``."""
    first = sorted((i for i in items if exclusive(i)), key=key)
    rest = shuffled([i for i in items if not exclusive(i)], key, seed)
    return [*first, *rest]
