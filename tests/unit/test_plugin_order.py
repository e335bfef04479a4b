"""The order cells run in under xdist (k2matrix.plugin.order): exclusive cells first, then
the rest longest first, dealt to the workers in turn; a trial's order is a seeded shuffle."""

from __future__ import annotations

from k2matrix.plugin.order import balanced, shuffled, spread


def test_exclusive_first_then_longest_first_dealt_to_each_worker() -> None:
    durations = {"a": 1.0, "b": 9.0, "c": 5.0, "d": 3.0, "x1": 2.0, "x2": 2.0}
    items = ["a", "b", "c", "d", "x1", "x2", "new"]
    order = balanced(items, str, lambda i: i.startswith("x"), durations, workers=2)
    # longest first: b (9 s), new (untimed: counts as the longest), c, d, a; dealt in turn
    assert order == ["x1", "b", "c", "a", "x2", "new", "d"]
    first, second = order[:4], order[4:]
    assert first[0].startswith("x") and second[0].startswith("x")


def test_one_worker_and_no_durations_keep_every_item() -> None:
    items = ["c", "a", "b"]
    assert balanced(items, str, lambda i: False, {}, workers=1) == ["a", "b", "c"]


def test_a_trial_order_is_a_seeded_shuffle_independent_of_the_input_order() -> None:
    items = [f"t{i}" for i in range(20)]
    one = shuffled(items, str, seed=5)
    assert one == shuffled(list(reversed(items)), str, seed=5)
    assert sorted(one) == sorted(items) and one != sorted(items)
    assert shuffled(items, str, seed=6) != one


def test_spread_puts_exclusive_cells_first_and_shuffles_the_rest() -> None:
    items = [f"t{i}" for i in range(12)] + ["x2", "x1"]
    order = spread(items, str, lambda i: i.startswith("x"), seed=3)
    assert order[:2] == ["x1", "x2"]
    assert sorted(order[2:]) == sorted(items[:12]) and order[2:] != sorted(items[:12])
    assert order == spread(list(reversed(items)), str, lambda i: i.startswith("x"), seed=3)
