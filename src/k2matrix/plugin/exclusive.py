"""Exclusive cells under pytest-xdist: a cell whose case says ``exclusive = true`` (latency
figures, tail latencies) runs with no other cell running beside it.

Every xdist worker takes a lock on one file in the run directory around each cell, from its
setup to its teardown: a shared lock for an ordinary cell, an exclusive one for an exclusive
cell, so an exclusive cell starts once the cells running elsewhere have finished, and no cell
starts elsewhere until it is done. A second file is the turnstile that keeps the exclusive
cell from waiting forever: it is held while the cell waits, and every cell passes through it
before taking its shared lock (writer preference). The kernel releases both locks when a
process dies, so a crashed worker blocks nobody. Without xdist (one process) nothing is
locked.

The locks are files of the worker's host (:func:`lock_folder`): an exclusive cell is alone
*on its host*, never across hosts (workers on other hosts share no CPU with it, and no lock
file either); its record says so (``extra_info.k2.exclusive``). A worker on the controller's
host locks in the run directory; a worker on another host in its temporary directory.
"""

from __future__ import annotations

import fcntl
import os
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

from k2matrix.plugin.identity import RunIdentity

GATE_FILE = ".k2-cells.gate"
LOCK_FILE = ".k2-cells.lock"


def lock_folder(identity: RunIdentity) -> Path:
    """Where this worker's cell locks live: files on its own host."""
    if identity.remote:
        return Path(tempfile.gettempdir()) / "k2matrix-cells" / identity.run_id
    return identity.run_dir


def _open(path: Path) -> int:
    path.parent.mkdir(parents=True, exist_ok=True)
    return os.open(path, os.O_RDWR | os.O_CREAT, 0o644)


@contextmanager
def cell_slot(folder: Path, exclusive: bool) -> Iterator[None]:
    """Hold a shared (or, for an exclusive cell, the exclusive) slot for one cell."""
    gate, lock = _open(folder / GATE_FILE), _open(folder / LOCK_FILE)
    try:
        fcntl.flock(gate, fcntl.LOCK_EX)
        try:
            fcntl.flock(lock, fcntl.LOCK_EX if exclusive else fcntl.LOCK_SH)
        finally:
            if not exclusive:  # let the others through; an exclusive cell keeps the gate
                fcntl.flock(gate, fcntl.LOCK_UN)
        try:
            yield
        finally:
            fcntl.flock(lock, fcntl.LOCK_UN)
            if exclusive:
                fcntl.flock(gate, fcntl.LOCK_UN)
    finally:
        os.close(lock)
        os.close(gate)
