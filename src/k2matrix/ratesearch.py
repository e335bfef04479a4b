"""The sustainable-rate search: the highest offered rate a system holds, and its latency.

Like OpenMessaging Benchmark's rate controller, it ramps the offered rate and backs off when
the system falls behind, then proves the rate it found by holding it:

1. **ramp**: offer ``start_rate`` for ``step_s`` seconds, multiply by ``growth`` while each
   step is *held*, until a step fails or ``max_rate`` is reached;
2. **narrow**: bisect between the last held rate and the first failed one until they are
   within ``tolerance`` of each other;
3. **hold**: offer the best rate for ``hold_s`` seconds; if that fails, back off by
   ``tolerance`` and hold again (at most ``max_backoffs`` times).

A step is held when the system delivered at least ``1 - tolerance`` of the offered rate, its
backlog at the end stayed at or under ``max_backlog`` items, its p99 latency at or under
``max_p99_ms``, and the system did not declare it failed (``Step.failed``: e.g. the
pipeline's sink fell behind its broker's retention). A ramp or narrow step that fails is
offered ``retries`` more times (1 by default) before it counts as failed: one noisy step (a
p99 spike near the bound) otherwise sends the whole search down. A failure that would count
is then checked against a *control*: the highest rate held so far, offered again at once. If
the control holds, the failure stands; if it fails too, the system (or the machine it shares)
got worse for a while, not the rate too high, and the step is offered again (at most
``controls`` times, 1 by default). docs/pipeline.md has the searches that showed both.
Several searches of one system can run *interleaved* (:func:`interleaved`: one step of
each in turn), so that a slow change of the machine falls on all of them alike.
Every step is kept in :attr:`SearchResult.steps`, in order, with its
phase and whether it held, and handed to ``on_step`` as soon as it is measured (a search
of many minutes that is stopped keeps what it measured). The system is anything with
``run(rate, seconds) -> Step``: the producer, the whole pipeline, or a synthetic system
with a known capacity (the unit tests).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from dataclasses import asdict, dataclass, field
from typing import Any, Protocol

OnStep = Callable[[str, "Step", bool], None]
Request = tuple[float, float]  # (rate, seconds) to offer
SearchSteps = Generator[Request, "Step", "SearchResult"]


@dataclass(frozen=True)
class Step:
    """What one offered rate gave: the rate delivered, backlog at the end, p99 latency, and
    why the system failed the step outright (``""``: it did not)."""

    rate: float
    seconds: float
    achieved: float
    backlog: float
    p99_ms: float
    extra: dict[str, Any] = field(default_factory=dict)
    failed: str = ""


class LoadSystem(Protocol):
    def run(self, rate: float, seconds: float) -> Step:
        """Offer ``rate`` items/s for ``seconds`` seconds and report what happened."""
        ...


@dataclass(frozen=True)
class SearchConfig:
    start_rate: float = 1_000.0
    max_rate: float = 10_000_000.0
    step_s: float = 5.0
    hold_s: float = 30.0
    growth: float = 2.0
    tolerance: float = 0.05
    max_backlog: float = 100_000.0
    max_p99_ms: float = 2_000.0
    max_backoffs: int = 5
    retries: int = 1
    controls: int = 1

    def __post_init__(self) -> None:
        checks = [
            ("start_rate", self.start_rate > 0, "a positive rate"),
            ("max_rate", self.max_rate >= self.start_rate, "at least start_rate"),
            ("step_s", self.step_s > 0, "positive seconds"),
            ("hold_s", self.hold_s > 0, "positive seconds"),
            ("growth", self.growth > 1, "greater than 1"),
            ("tolerance", 0 < self.tolerance < 1, "a fraction between 0 and 1"),
            ("max_backlog", self.max_backlog >= 0, "a non-negative number of items"),
            ("max_p99_ms", self.max_p99_ms > 0, "positive milliseconds"),
            ("max_backoffs", self.max_backoffs >= 0, "a non-negative integer"),
            ("retries", self.retries >= 0, "a non-negative integer"),
            ("controls", self.controls >= 0, "a non-negative integer"),
        ]
        for name, ok, allowed in checks:
            if not ok:
                raise ValueError(f"{name}={getattr(self, name)!r}: must be {allowed}")

    def held(self, step: Step) -> bool:
        return (not step.failed and step.achieved >= step.rate * (1 - self.tolerance)
                and step.backlog <= self.max_backlog and step.p99_ms <= self.max_p99_ms)


@dataclass(frozen=True)
class SearchResult:
    """``rate``: the highest rate held for ``hold_s`` (0 if none was), with the figures of
    that hold step; ``steps``: every step in order, with whether it was held."""

    rate: float
    p99_ms: float
    achieved: float
    steps: tuple[tuple[str, Step, bool], ...]

    @property
    def found(self) -> bool:
        return self.rate > 0

    def to_dict(self) -> dict[str, Any]:
        return {"rate": self.rate, "p99_ms": self.p99_ms, "achieved": self.achieved,
                "steps": [step_dict(phase, step, held) for phase, step, held in self.steps]}


def step_dict(phase: str, step: Step, held: bool) -> dict[str, Any]:
    """One step as JSON-ready figures: its phase, whether it held, and the step."""
    return {"phase": phase, "held": held, **asdict(step)}


def search(system: LoadSystem, config: SearchConfig, on_step: OnStep | None = None
           ) -> SearchResult:
    """The highest rate ``system`` holds under ``config``'s bounds (see the module doc);
    ``on_step(phase, step, held)`` is called after every step."""
    hook = None if on_step is None else (
        lambda _search, phase, step, held: on_step(phase, step, held))
    return interleaved(system, config, 1, hook)[0]


def interleaved(system: LoadSystem, config: SearchConfig, searches: int,
                on_step: Callable[[int, str, Step, bool], None] | None = None
                ) -> list[SearchResult]:
    """``searches`` searches of one system, one step of each in turn (round robin over the
    searches still running), so that a machine that gets slower or faster for a while does
    so under every search alike; ``on_step(search, phase, step, held)``."""
    def hook(i: int) -> OnStep | None:
        if on_step is None:
            return None
        return lambda phase, step, held: on_step(i, phase, step, held)

    runs = [search_steps(config, hook(i)) for i in range(searches)]
    pending: dict[int, Request] = {i: next(run) for i, run in enumerate(runs)}
    results: dict[int, SearchResult] = {}
    while pending:
        for i in list(pending):
            try:
                pending[i] = runs[i].send(system.run(*pending[i]))
            except StopIteration as done:
                results[i] = done.value
                del pending[i]
    return [results[i] for i in range(searches)]


def search_steps(config: SearchConfig, on_step: OnStep | None = None) -> SearchSteps:
    """The search as a generator: it yields each ``(rate, seconds)`` to offer, is sent the
    :class:`Step` that gave, and returns the :class:`SearchResult`."""
    steps: list[tuple[str, Step, bool]] = []

    def offer(phase: str, rate: float, seconds: float
              ) -> Generator[Request, Step, tuple[bool, Step]]:
        tries = 1 if phase == "hold" else 1 + config.retries  # a hold backs off instead
        for attempt in range(tries):
            step = yield rate, seconds
            ok = config.held(step)
            name = phase if attempt == 0 else f"{phase}-retry"
            steps.append((name, step, ok))
            if on_step is not None:
                on_step(name, step, ok)
            if ok:
                break
        return ok, step

    def checked(phase: str, rate: float, good: float) -> Generator[Request, Step, bool]:
        """A ramp or narrow step; its failure stands only beside a held control step at
        ``good``, the highest rate held so far (none yet: it stands)."""
        for _ in range(1 + config.controls):
            ok, _ = yield from offer(phase, rate, config.step_s)
            if ok or good <= 0:
                return ok
            held_now, _ = yield from offer("control", good, config.step_s)
            if held_now:
                return False
        return False

    good, bad = 0.0, 0.0
    rate = config.start_rate
    while True:
        ok = yield from checked("ramp", rate, good)
        if not ok:
            bad = rate
            break
        good = rate
        if rate >= config.max_rate:
            break
        rate = min(config.max_rate, rate * config.growth)
    if good == 0.0:  # even the start rate failed: search below it
        good = bad
        while good > config.start_rate / 1e3:
            good /= config.growth
            ok, _ = yield from offer("ramp", good, config.step_s)
            if ok:
                break
        else:
            return SearchResult(0.0, 0.0, 0.0, tuple(steps))
        bad = good * config.growth
    while bad and (bad - good) > config.tolerance * bad:
        mid = (good + bad) / 2
        ok = yield from checked("narrow", mid, good)
        if ok:
            good = mid
        else:
            bad = mid
    for _ in range(config.max_backoffs + 1):
        ok, step = yield from offer("hold", good, config.hold_s)
        if ok:
            return SearchResult(good, step.p99_ms, step.achieved, tuple(steps))
        good *= 1 - config.tolerance
    return SearchResult(0.0, 0.0, 0.0, tuple(steps))
