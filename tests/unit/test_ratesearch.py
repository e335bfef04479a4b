"""The sustainable-rate search on deterministic synthetic systems whose sustainable rate is
known in closed form (no clocks)."""

from __future__ import annotations

import random

import pytest

from k2matrix.ratesearch import SearchConfig, Step, interleaved, search


class Queue:
    """A server of capacity ``capacity`` items/s: above it the backlog grows by the excess
    each second; its p99 grows like an M/M/1 queue's, ``base_ms / (1 - utilization)``.
    ``noise`` (seeded) scales the capacity of each step by up to that fraction."""

    def __init__(self, capacity: float, base_ms: float = 5.0, noise: float = 0.0,
                 seed: int = 0) -> None:
        self.capacity = capacity
        self.base_ms = base_ms
        self.noise = noise
        self.rng = random.Random(seed)
        self.calls = 0

    def run(self, rate: float, seconds: float) -> Step:
        self.calls += 1
        cap = self.capacity * (1 + self.rng.uniform(-self.noise, self.noise))
        achieved = min(rate, cap)
        backlog = max(0.0, rate - cap) * seconds
        rho = min(rate / cap, 0.999999)
        return Step(rate, seconds, achieved, backlog, self.base_ms / (1 - rho))


def _limit(capacity: float, base_ms: float, max_p99_ms: float) -> float:
    # the rate at which the p99 bound binds (below capacity, so the backlog bound never does)
    return capacity * (1 - base_ms / max_p99_ms)


@pytest.mark.parametrize("capacity", [3_000.0, 137_000.0, 1_000_000.0])
def test_finds_the_known_sustainable_rate_within_the_tolerance(capacity: float) -> None:
    config = SearchConfig(start_rate=1_000, tolerance=0.05, max_p99_ms=100.0)
    result = search(Queue(capacity), config)
    limit = _limit(capacity, 5.0, 100.0)
    assert result.found
    assert limit * (1 - 2 * config.tolerance) <= result.rate <= limit
    assert result.p99_ms <= 100.0
    phases = [phase for phase, _, _ in result.steps]
    assert phases[0] == "ramp" and phases[-1] == "hold" and "narrow" in phases


def test_backlog_bound_stops_the_ramp_at_capacity() -> None:
    # a p99 bound that never binds: only the backlog (and the delivered rate) can
    config = SearchConfig(start_rate=1_000, max_p99_ms=1e12, max_backlog=0.0, tolerance=0.02)
    result = search(Queue(50_000.0), config)
    assert 50_000 * 0.96 <= result.rate <= 50_000


def test_start_rate_above_capacity_searches_downwards() -> None:
    config = SearchConfig(start_rate=200_000, max_p99_ms=1e12, max_backlog=0.0)
    result = search(Queue(20_000.0), config)
    assert 20_000 * 0.9 <= result.rate <= 20_000
    assert result.steps[0][2] is False


def test_capped_by_max_rate() -> None:
    result = search(Queue(1e9), SearchConfig(start_rate=1_000, max_rate=64_000))
    assert result.rate == 64_000


def test_repeated_searches_on_a_noisy_system_agree_within_ten_percent() -> None:
    config = SearchConfig(start_rate=1_000, max_p99_ms=1e12, max_backlog=0.0, tolerance=0.03)
    rates = [search(Queue(80_000.0, noise=0.02, seed=s), config).rate for s in range(3)]
    assert max(rates) <= min(rates) * 1.10
    assert all(80_000 * 0.85 <= r <= 80_000 * 1.02 for r in rates)


def test_a_system_that_holds_nothing_reports_no_rate() -> None:
    class Dead:
        def run(self, rate: float, seconds: float) -> Step:
            return Step(rate, seconds, 0.0, rate * seconds, 1e9)

    result = search(Dead(), SearchConfig(start_rate=1_000, max_backoffs=1))
    assert not result.found and result.rate == 0.0
    assert result.to_dict()["steps"]


@pytest.mark.parametrize(("kwargs", "name"), [
    ({"start_rate": 0}, "start_rate"), ({"growth": 1.0}, "growth"),
    ({"tolerance": 1.5}, "tolerance"), ({"max_rate": 10.0}, "max_rate"),
    ({"hold_s": 0}, "hold_s"), ({"max_p99_ms": -1}, "max_p99_ms"),
    ({"retries": -1}, "retries"),
])
def test_bad_config_names_the_key(kwargs: dict[str, float], name: str) -> None:
    with pytest.raises(ValueError, match=f"{name}="):
        SearchConfig(**kwargs)  # type: ignore[arg-type]


def test_one_noisy_failed_step_does_not_send_the_search_down() -> None:
    """A step that fails once by chance (a p99 spike) is offered again before it counts:
    the search still finds the capacity; without the retry it bisects far below it."""

    class Spiky(Queue):
        def run(self, rate: float, seconds: float) -> Step:
            step = super().run(rate, seconds)
            if self.calls == 1:  # the very first step spikes once
                return Step(step.rate, seconds, step.achieved, step.backlog, 1e6)
            return step

    capacity = 50_000.0
    config = SearchConfig(start_rate=5_000, max_p99_ms=1_000, max_backlog=1.0)
    found = search(Spiky(capacity), config)
    assert found.rate >= capacity * 0.9 * (1 - 5 / 1_000), found.to_dict()
    assert found.to_dict()["steps"][1]["phase"] == "ramp-retry"
    without = search(Spiky(capacity), SearchConfig(start_rate=5_000, max_p99_ms=1_000,
                                                   max_backlog=1.0, retries=0))
    assert without.rate < capacity / 2


def test_a_step_the_system_declares_failed_is_not_held_whatever_its_figures() -> None:
    """A pipeline step whose sink fell behind its broker's retention fails outright, even
    with a delivered rate, backlog and p99 inside the bounds."""

    class Retention(Queue):
        def run(self, rate: float, seconds: float) -> Step:
            step = super().run(rate, seconds)
            if rate > 30_000:
                return Step(step.rate, seconds, step.achieved, 0.0, 1.0, failed="fell behind")
            return step

    config = SearchConfig(start_rate=1_000, max_p99_ms=1e12, max_backlog=1e12)
    found = search(Retention(1e9), config)
    assert 30_000 * (1 - 2 * config.tolerance) <= found.rate <= 30_000
    failed = [s for s in found.to_dict()["steps"] if s["failed"]]
    assert failed and not any(s["held"] for s in failed)


def test_every_step_is_reported_in_order_with_its_phase_and_verdict() -> None:
    config = SearchConfig(start_rate=1_000, max_p99_ms=100.0)
    system = Queue(40_000.0)
    found = search(system, config)
    steps = found.to_dict()["steps"]
    assert len(steps) == system.calls  # every run the system made is a reported step
    assert {s["phase"] for s in steps} <= {"ramp", "ramp-retry", "narrow", "narrow-retry",
                                           "control", "control-retry", "hold"}
    for s in steps:
        assert s["held"] == config.held(Step(s["rate"], s["seconds"], s["achieved"],
                                             s["backlog"], s["p99_ms"]))
    assert steps[-1]["phase"] == "hold" and steps[-1]["held"]
    assert steps[-1]["rate"] == found.rate


def test_each_step_is_handed_over_as_it_is_measured() -> None:
    """``on_step`` sees every step the moment it is measured: when the system fails
    midway, the steps before the failure have already been handed over."""

    class Breaks(Queue):
        def run(self, rate: float, seconds: float) -> Step:
            if self.calls == 6:
                raise RuntimeError("the system went away")
            return super().run(rate, seconds)

    seen: list[tuple[str, float, bool]] = []
    with pytest.raises(RuntimeError):
        search(Breaks(40_000.0), SearchConfig(start_rate=1_000, max_p99_ms=100.0),
               on_step=lambda phase, step, held: seen.append((phase, step.rate, held)))
    assert seen == [("ramp", 1_000.0 * 2**i, True) for i in range(6)]
    complete: list[tuple[str, float, bool]] = []
    found = search(Queue(40_000.0), SearchConfig(start_rate=1_000, max_p99_ms=100.0),
                   on_step=lambda phase, step, held: complete.append((phase, step.rate, held)))
    assert complete == [(s["phase"], s["rate"], s["held"]) for s in found.to_dict()["steps"]]


class Spell(Queue):
    """A queue whose machine is overloaded for a spell: from its ``start``-th run on, for
    ``runs`` runs, it holds nothing (every step far past the p99 bound)."""

    def __init__(self, capacity: float, start: int, runs: int) -> None:
        super().__init__(capacity)
        self.spell = range(start, start + runs)

    def run(self, rate: float, seconds: float) -> Step:
        step = super().run(rate, seconds)
        if self.calls in self.spell:
            return Step(rate, seconds, step.achieved, step.backlog, 1e9)
        return step


def test_a_failure_beside_a_failed_control_is_offered_again() -> None:
    """An overloaded spell of four runs starts at the third ramp step (4,000 of a 40,000
    capacity): the step and its retry fail, and so do the control at the rate held before
    and its retry. Without controls the search ends below 4,000; with one, the step is
    offered again after the spell and the search finds the capacity."""
    capacity, bound = 40_000.0, 100.0
    base = dict(start_rate=1_000, max_p99_ms=bound, max_backlog=1.0)
    found = search(Spell(capacity, 3, 4), SearchConfig(**base))  # type: ignore[arg-type]
    limit = _limit(capacity, 5.0, bound)
    assert limit * 0.9 <= found.rate <= limit, found.to_dict()
    phases = [s["phase"] for s in found.to_dict()["steps"]]
    assert phases[2:7] == ["ramp", "ramp-retry", "control", "control-retry", "ramp"]
    without = search(Spell(capacity, 3, 4), SearchConfig(**base, controls=0))  # type: ignore[arg-type]
    assert without.rate < 4_000


def test_a_failure_beside_a_held_control_stands() -> None:
    """No spell: a step above the capacity fails beside a held control, once each."""
    found = search(Queue(40_000.0), SearchConfig(start_rate=1_000, max_p99_ms=100.0,
                                                 max_backlog=1.0))
    steps = found.to_dict()["steps"]
    controls = [s for s in steps if s["phase"] == "control"]
    assert controls and all(c["held"] for c in controls)
    failed = [s for s in steps if s["phase"] in ("ramp-retry", "narrow-retry")
              and not s["held"]]
    assert len(controls) == len(failed)


class Drifting(Queue):
    """A queue on a machine that gets faster as time goes on: its capacity grows by
    ``per_call`` of the first with every run (as this machine's did mid-campaign)."""

    def __init__(self, capacity: float, per_call: float) -> None:
        super().__init__(capacity)
        self.first, self.per_call = capacity, per_call

    def run(self, rate: float, seconds: float) -> Step:
        self.capacity = self.first * (1 + self.per_call * self.calls)
        return super().run(rate, seconds)


def _spread(rates: list[float]) -> float:
    return max(rates) / min(rates) - 1


def test_interleaved_searches_take_a_step_each_in_turn() -> None:
    config = SearchConfig(start_rate=1_000, max_p99_ms=100.0)
    order: list[int] = []
    found = interleaved(Queue(40_000.0), config, 3,
                        on_step=lambda i, phase, step, held: order.append(i))
    alone = search(Queue(40_000.0), config)
    assert [f.rate for f in found] == [alone.rate] * 3  # a steady system: the same answer
    assert order[:9] == [0, 1, 2] * 3
    assert len(order) == 3 * len(alone.steps)


def test_a_machine_that_speeds_up_moves_sequential_searches_not_interleaved_ones() -> None:
    config = SearchConfig(start_rate=1_000, max_p99_ms=100.0)
    one_after_another = [search(system, config).rate
                         for system in [Drifting(40_000.0, 0.02)] * 3]
    side_by_side = [f.rate for f in interleaved(Drifting(40_000.0, 0.02), config, 3)]
    assert _spread(one_after_another) > 0.3
    assert _spread(side_by_side) <= 0.10
