"""The process counters: add() from many threads loses nothing; snapshot, delta and per_round
give the known truth of synthetic rounds; the kernel's I/O counters are in every snapshot."""

from __future__ import annotations

import itertools
import threading
import uuid
from pathlib import Path

from k2matrix import counters


def _name(tag: str) -> str:
    return f"test.{tag}_{uuid.uuid4().hex[:8]}"  # counters are process-wide: a name of its own


def test_add_from_many_threads_loses_nothing() -> None:
    name = _name("threads")
    before = counters.snapshot()
    barrier = threading.Barrier(8)

    def work() -> None:
        barrier.wait()
        for _ in range(5_000):
            counters.add(name)
            counters.add(name, 0.5)

    threads = [threading.Thread(target=work) for _ in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert counters.delta(before, counters.snapshot())[name] == 8 * 5_000 * 1.5


def test_delta_counts_a_new_counter_from_zero() -> None:
    name, old = _name("new"), _name("old")
    counters.add(old, 2)
    before = counters.snapshot()
    counters.add(name, 3)
    counters.add(old, 4)
    moved = counters.delta(before, counters.snapshot())
    assert moved[name] == 3 and moved[old] == 4


def test_delta_and_per_round_on_synthetic_snapshots() -> None:
    snaps = [{"a": 0.0, "b": 10.0}, {"a": 3.0, "b": 10.0}, {"a": 3.0, "b": 16.0, "c": 1.0},
             {"a": 9.0, "b": 16.0, "c": 1.0}]
    rounds = [counters.delta(x, y) for x, y in itertools.pairwise(snaps)]
    assert rounds == [{"a": 3.0, "b": 0.0}, {"a": 0.0, "b": 6.0, "c": 1.0},
                      {"a": 6.0, "b": 0.0, "c": 0.0}]
    # a: (3 + 0 + 6) / 3; b: 6 / 3; c moved in one round of three (absent in the first)
    assert counters.per_round(rounds) == {"a": 3.0, "b": 2.0, "c": 1 / 3}


def test_per_round_leaves_out_what_never_moved() -> None:
    assert counters.per_round([{"x": 0.0, "y": 2.0}, {"x": 0.0}]) == {"y": 1.0}
    assert counters.per_round([]) == {}


def test_snapshot_holds_the_kernels_io_counts_of_this_process(tmp_path: Path) -> None:
    before = counters.snapshot()
    if "process.write_chars" not in before:  # a kernel without /proc/self/io
        assert counters.process_io() == {}
        return
    (tmp_path / "f").write_bytes(b"z" * 100_000)
    moved = counters.delta(before, counters.snapshot())
    assert moved["process.write_chars"] >= 100_000
    assert moved["process.write_syscalls"] >= 1
