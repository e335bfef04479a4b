"""The order the cells run in.

Cells are shuffled in groups: the modules in a seeded order, and the cells of each module in
a seeded order, so that the machine's drift spreads over every cell while a module's
fixtures (a mock cluster, a catalog, an S3 server) are set up once and not once per switch
(an order that interleaved modules made the unit suite, whose module fixtures start
processes, take 1107 s at -n 2 against 260 s).

- In a trial (``--k2-order-seed S``): shuffled by S; the same seed gives every xdist worker
  the same order.
- Under xdist otherwise (:func:`spread`): the exclusive cells first (both workers start
  free, so an exclusive cell never waits for a long cell to end), then the others shuffled
  by a seed of the run (the same in every worker). A longest-first order put the S3 cells,
  each worker with its own S3 server process, side by side at the start and took 157 s on
  the smoke profile at -n 2; shuffled runs took 80-96 s.
- Without xdist: the matrix's order.
- Tests that are not cells keep their order, ahead of the cells.
"""

from __future__ import annotations

import random
from collections.abc import Callable, Sequence
from typing import TypeVar

T = TypeVar("T")


def shuffled(items: Sequence[T], key: Callable[[T], str], group: Callable[[T], str],
             seed: int) -> list[T]:
    """``items`` grouped by ``group``; the groups, and the items of each group (sorted by
    ``key`` first, so the input order does not matter), shuffled by ``seed``."""
    rng = random.Random(seed)
    groups: dict[str, list[T]] = {}
    for item in sorted(items, key=key):
        groups.setdefault(group(item), []).append(item)
    names = sorted(groups)
    rng.shuffle(names)
    out: list[T] = []
    for name in names:
        members = groups[name]
        rng.shuffle(members)
        out.extend(members)
    return out


def spread(items: Sequence[T], key: Callable[[T], str], group: Callable[[T], str],
           exclusive: Callable[[T], bool], seed: int) -> list[T]:
    """The exclusive items first (sorted), then the others shuffled by ``seed``."""
    first = sorted((i for i in items if exclusive(i)), key=key)
    rest = shuffled([i for i in items if not exclusive(i)], key, group, seed)
    return [*first, *rest]
