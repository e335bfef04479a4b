"""Who this pytest process is in which run: read once from the command line (and, in an
xdist worker, from what the controller hands it), and never changed afterwards."""

from __future__ import annotations

import time
from dataclasses import dataclass
from enum import Enum
from pathlib import Path
from typing import Any

import pytest
from xdist.workermanage import parse_tx_spec_config

from k2matrix.plugin.options import parse_shard
from k2matrix.results.hosts import host_name


class Role(Enum):
    """The process's part in the session, as pytest-xdist sees it."""

    MAIN = "main"  # no xdist: this process runs the cells and finishes the run
    CONTROLLER = "controller"  # xdist's controller: merges what its workers hand over
    WORKER = "worker"  # an xdist worker: runs cells, hands its records to the controller

    @classmethod
    def of(cls, config: pytest.Config) -> Role:
        """xdist's own tests (``xdist.is_xdist_worker``, ``xdist.is_xdist_controller``),
        asked of the config because they take a request or session, which do not exist
        yet when the plugin configures."""
        if hasattr(config, "workerinput"):
            return cls.WORKER
        if config.getoption("dist", "no") != "no":
            return cls.CONTROLLER
        return cls.MAIN


@dataclass(frozen=True)
class RunIdentity:
    matrix_path: Path
    matrix_given: bool  # --k2-matrix: a matrix that cannot be loaded stops the run at once
    profile: str
    run_id: str
    run_dir: Path
    resume: bool  # --k2-resume: this session runs what an earlier session of run_dir left
    workdir: Path
    role: Role
    worker: str  # the name records carry: "main", "controller" or xdist's worker id ("gw0")
    workers: int = 1  # the session's xdist workers (1 without xdist)
    shard: tuple[int, int] | None = None  # --k2-shard i/n
    trial: tuple[int, int] | None = None  # (k, n) in a trial process of --k2-trials n
    order_seed: int | None = None  # the cells run in an order shuffled by this seed
    cells_file: Path | None = None  # --k2-cells: these cells instead of the profile's
    draws: int = 0  # --k2-draws: drawn data shapes per grid cell
    clock: str = "wall"  # --k2-clock: wall, cpu or instructions
    host_workers: int = 1  # the session's workers on this process's host
    remote: bool = False  # a worker on another host than its controller's

    @classmethod
    def from_config(cls, config: pytest.Config) -> RunIdentity:
        """Every ``--k2-*`` option of the session, checked (a bad one is a usage error)."""
        root = config.rootpath
        role = Role.of(config)
        given = config.getoption("k2_matrix")
        profile = config.getoption("k2_profile")
        resume = config.getoption("k2_resume")
        cells = config.getoption("k2_cells")
        if role is Role.WORKER:
            # what xdist and the controller (k2matrix.plugin.pytest_configure_node) hand over
            workerinput: dict[str, Any] = config.workerinput  # type: ignore[attr-defined]
            k2 = workerinput["k2"]
            run_id, run_dir = k2["run_id"], Path(k2["run_dir"])
            worker, workers = str(workerinput["workerid"]), int(workerinput["workercount"])
            # the matrix the controller resolved: a relative --k2-matrix is relative to the
            # controller's directory, not to where a remote worker starts
            matrix = Path(k2.get("matrix") or given or root / "matrix.toml")
            host_workers = int(k2.get("host_workers", workers))
            remote = k2.get("host", host_name()) != host_name()
        else:
            run_id, run_dir = _run_dir(config, resume, profile)
            worker, workers = role.value, _workers(config, role)
            matrix, host_workers, remote = Path(given or root / "matrix.toml"), workers, False
        return cls(
            matrix_path=matrix, matrix_given=given is not None,
            profile=profile, run_id=run_id, run_dir=run_dir, resume=bool(resume),
            workdir=Path(config.getoption("k2_workdir") or root / ".k2matrix"),
            role=role, worker=worker, workers=workers,
            shard=parse_shard(config.getoption("k2_shard")),
            trial=parse_shard(config.getoption("k2_trial"), "--k2-trial"),
            order_seed=config.getoption("k2_order_seed"),
            cells_file=Path(cells) if cells else None,
            draws=int(config.getoption("k2_draws") or 0),
            clock=str(config.getoption("k2_clock")),
            host_workers=host_workers, remote=remote,
        )

    @property
    def beside_other_workers(self) -> bool:
        """An xdist worker whose cells run while other workers run theirs on its host."""
        return self.role is Role.WORKER and self.host_workers > 1

    @property
    def has_matrix(self) -> bool:
        """A k2 session: a matrix was named, or there is one at the default path."""
        return self.matrix_given or self.matrix_path.is_file()


def _run_dir(config: pytest.Config, resume: str | None, profile: str) -> tuple[str, Path]:
    """The run's id and directory: the one ``--k2-resume`` names, or a new one under
    ``--k2-results`` named by ``--k2-run-id`` (default: a timestamp and the profile)."""
    if resume:
        run_dir = Path(resume)
        if not run_dir.is_dir():
            raise pytest.UsageError(f"--k2-resume={resume}: no such run directory")
        return run_dir.name, run_dir
    return new_run(config, profile)


def new_run(config: pytest.Config, profile: str) -> tuple[str, Path]:
    """A new run's id and directory: under ``--k2-results`` (default: results/ in the
    rootdir), named by ``--k2-run-id`` (default: a timestamp and the profile)."""
    results = Path(config.getoption("k2_results") or config.rootpath / "results")
    run_id = config.getoption("k2_run_id") or time.strftime("%Y%m%d-%H%M%S") + f"-{profile}"
    return run_id, results / run_id


def _workers(config: pytest.Config, role: Role) -> int:
    """The workers the controller will start: the nodes xdist builds from ``--tx``
    (``-n N`` is N times ``popen``), by xdist's own reading of it (the count it hands each
    worker as ``workerinput["workercount"]``)."""
    if role is not Role.CONTROLLER or not config.getoption("tx", None):
        return 1
    return len(parse_tx_spec_config(config))
