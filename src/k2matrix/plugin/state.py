"""The plugin's per-process state, kept in ``config.stash``: who the process is in which run
(:class:`~k2matrix.plugin.identity.RunIdentity`, fixed), the run's cells
(:class:`~k2matrix.plugin.cells.RunCells`, found once) and what the process has done
(:class:`Progress`, accumulated)."""

from __future__ import annotations

import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from k2matrix.errors import ResultsError
from k2matrix.plugin.cells import RunCells
from k2matrix.plugin.identity import Role, RunIdentity
from k2matrix.results import store
from k2matrix.results.journal import Journal


@dataclass
class Progress:
    """What this process has done, and what it has to do."""

    resume_passed: frozenset[str] = frozenset()  # cells an earlier session of the run passed
    planned: int | None = None  # tests of the session (a trial's progress counts against it)
    done: int = 0  # cells this process has finished
    # this process's finished cells as CellRecord.to_json() objects: plain data, because a
    # worker hands them to the controller (pytest-xdist's workeroutput) at the session's end
    records: list[dict[str, Any]] = field(default_factory=list)
    crashed: dict[str, str] = field(default_factory=dict)  # nodeid: what xdist said of it
    # the journals this process writes, by worker: its own, and in xdist's controller one
    # for each worker whose records it received (k2matrix.plugin.recording.on_worker_report)
    journals: dict[str, Journal] = field(default_factory=dict)
    merged_path: Path | None = None
    # in xdist's controller: each remote worker gateway's host facts, by gateway id
    # (k2matrix.plugin.gateways.check_gateway)
    gateways: dict[str, dict[str, Any]] = field(default_factory=dict)
    started: float = field(default_factory=time.time)


@dataclass
class RunState:
    identity: RunIdentity
    cells: RunCells
    progress: Progress

    @classmethod
    def start(cls, config: pytest.Config, identity: RunIdentity) -> RunState:
        """The session's state. The matrix, when there is one, is loaded now (a bad matrix
        stops the run here, with every problem listed); a resumed run is checked against
        it."""
        state = cls(identity, RunCells(identity, config.getoption("markexpr")),
                    Progress(resume_passed=_resume_passed(config, identity)))
        if identity.has_matrix:
            matrix = state.cells.matrix()
            if identity.resume and identity.role is not Role.WORKER:
                _check_resumable(identity, matrix.fingerprint())
        return state


def _resume_passed(config: pytest.Config, identity: RunIdentity) -> frozenset[str]:
    """The test ids that passed in the run ``--k2-resume`` names: read from its journals
    (a bad journal stops the run naming the file), or in a worker, handed over by the
    controller (:func:`k2matrix.plugin.pytest_configure_node`)."""
    if identity.role is Role.WORKER:
        return frozenset(config.workerinput["k2"]["resume_passed"])  # type: ignore[attr-defined]
    if not identity.resume:
        return frozenset()
    try:
        return frozenset(store.passed_nodeids(identity.run_dir))
    except ResultsError as exc:
        raise pytest.UsageError(f"--k2-resume={identity.run_dir}: {exc}") from None


def _check_resumable(identity: RunIdentity, fingerprint: str) -> None:
    """A run resumes only under the one compatibility rule (results.merge.check_compatible):
    the matrix and profile it was started with, on the same kind of machine."""
    try:
        store.check_resumable(identity.run_dir, identity.profile, fingerprint)
    except ResultsError as exc:
        raise pytest.UsageError(f"--k2-resume={identity.run_dir}: {exc}") from None


STATE = pytest.StashKey[RunState]()


def get_state(config: pytest.Config) -> RunState:
    return config.stash[STATE]
