"""The order cells run in (k2matrix.plugin.order): modules in a seeded order and the cells of
each module in a seeded order, so a module's fixtures are set up once; under xdist the
exclusive cells first."""

from __future__ import annotations

from hypothesis import given
from hypothesis import strategies as st

from k2matrix.plugin.order import shuffled, spread


def _module(item: str) -> str:
    return item.split("::", 1)[0]


ITEMS = [f"m{m}.py::t{i}" for m in range(4) for i in range(6)]


def test_a_shuffle_keeps_each_module_together() -> None:
    order = shuffled(ITEMS, str, _module, seed=5)
    assert sorted(order) == sorted(ITEMS)
    modules = [_module(i) for i in order]
    runs = [m for n, m in enumerate(modules) if n == 0 or modules[n - 1] != m]
    assert sorted(runs) == sorted(set(modules))  # each module is one run of items


@given(st.integers(0, 2**32 - 1))
def test_a_shuffle_is_seeded_and_independent_of_the_input_order(seed: int) -> None:
    one = shuffled(ITEMS, str, _module, seed)
    assert one == shuffled(list(reversed(ITEMS)), str, _module, seed)


def test_different_seeds_give_different_orders_within_and_across_modules() -> None:
    orders = [shuffled(ITEMS, str, _module, seed) for seed in range(20)]
    assert len({tuple(o) for o in orders}) == 20
    assert len({tuple(dict.fromkeys(_module(i) for i in o)) for o in orders}) > 1
    assert any(o[:6] != sorted(o[:6]) for o in orders)  # items inside a module move too


def test_spread_puts_exclusive_cells_first_and_shuffles_the_rest() -> None:
    items = [*ITEMS, "m9.py::x2", "m9.py::x1"]
    order = spread(items, str, _module, lambda i: "::x" in i, seed=3)
    assert order[:2] == ["m9.py::x1", "m9.py::x2"]
    assert sorted(order[2:]) == sorted(ITEMS) and order[2:] != sorted(ITEMS)
    assert order == spread(list(reversed(items)), str, _module, lambda i: "::x" in i, seed=3)
