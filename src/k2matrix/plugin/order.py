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

import pytest

from k2matrix.cell import derive_seed
from k2matrix.plugin.cells import cell_of, is_k2_cell
from k2matrix.plugin.identity import RunIdentity

T = TypeVar("T")


def run_order(identity: RunIdentity, items: list[pytest.Item]) -> list[pytest.Item]:
    """The session's items in the run's order: other tests as collected, then the cells."""
    cells = [it for it in items if is_k2_cell(it)]
    if not cells:
        return items
    others = [it for it in items if not is_k2_cell(it)]
    if identity.order_seed is not None:  # the same seed gives every xdist worker one order
        cells = shuffled(cells, _nodeid, _module, identity.order_seed)
    elif identity.beside_other_workers:
        cells = spread(cells, _nodeid, _module, _exclusive, derive_seed(0, identity.run_id))
    return [*others, *cells]


def _nodeid(item: pytest.Item) -> str:
    return item.nodeid


def _module(item: pytest.Item) -> str:
    return item.nodeid.split("::", 1)[0]


def _exclusive(item: pytest.Item) -> bool:
    cell = cell_of(item)
    return cell is not None and cell.exclusive


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
