"""The run directory on disk: ``results/<run-id>/`` with its journals, ``meta.json`` and
``benchmarks.json``, and the ``results/latest`` and ``results/latest-<profile>`` links.

- :func:`ensure_meta` writes a first ``meta.json`` when a run records its first cell, so an
  interrupted run can still be read, merged and resumed;
- :func:`finish_run` ends a run: it merges the journals with the records handed over in
  memory, journals the tests whose worker crashed, writes ``meta.json`` and
  ``benchmarks.json`` atomically and moves ``latest`` (and ``latest-<profile>`` when the
  run is full, :func:`full_run`);
- :func:`passed_nodeids` and :func:`check_resumable` serve ``--k2-resume``.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path
from typing import Any

from k2matrix.options import RUN_ID
from k2matrix.results import FORMAT_VERSION
from k2matrix.results.document import MERGED_FILE, build_document
from k2matrix.results.environment import load_average
from k2matrix.results.folding import fold, read_trials, trial_dirs
from k2matrix.results.journal import Journal, latest, read_run
from k2matrix.results.jsonfile import write_json_atomic
from k2matrix.results.merge import check_compatible
from k2matrix.results.meta import META_FILE, machine_kind, read_meta
from k2matrix.results.record import CellRecord

LATEST_LINK = "latest"
RESUME_FIX = ("resume with the matrix and --k2-profile the run was started with, on the same "
              "kind of machine, or start a new run")


def ensure_meta(run_dir: Path, make_meta: Callable[[], dict[str, Any]]) -> None:
    """Write ``meta.json`` unless the run already has one."""
    path = run_dir / META_FILE
    if not path.exists():
        write_json_atomic(path, make_meta())


def finish_run(run_dir: Path, records: Sequence[CellRecord], crashed: Mapping[str, str],
               make_meta: Callable[[], dict[str, Any]], link_latest: bool = True
               ) -> dict[str, Any] | None:
    """Merge the run in ``run_dir`` and return its document, or None when no cell ran (no
    journal, no record, no crash). ``records`` are the ones handed over in memory (they
    replace their journal lines); ``crashed`` maps a test id whose worker died to the crash
    text; ``make_meta`` is called once, only when there is a run to finish."""
    on_disk = read_run(run_dir) if run_dir.is_dir() else []
    if not records and not on_disk and not crashed:
        return None
    merged = latest([*on_disk, *records])
    seen = {r.nodeid for r in merged}
    crash_records = [CellRecord.crashed(nodeid, text)
                     for nodeid, text in crashed.items() if nodeid not in seen]
    if crash_records:
        journal = Journal(run_dir, "controller")
        for rec in crash_records:
            journal.append(rec)
        journal.close()
        merged = latest([*merged, *crash_records])
    meta = make_meta()
    write_json_atomic(run_dir / META_FILE, meta)
    doc = build_document(merged, meta)
    write_json_atomic(run_dir / MERGED_FILE, doc)
    if link_latest:  # a trial's directory is part of a run: the run gets the link
        point_latest(run_dir, doc["k2"])
    return doc


def finish_trials(run_dir: Path, planned_trials: int, link_latest: bool = True
                  ) -> dict[str, Any] | None:
    """Fold the trials of ``run_dir`` (``trials/tNN/``) into its ``meta.json`` and
    ``benchmarks.json`` (:mod:`k2matrix.results.folding`) and point ``latest`` at it; None
    when no trial recorded anything."""
    done = read_trials(run_dir)
    if not any(records for _, records in done):
        return None
    metas = [read_meta(d) for d in trial_dirs(run_dir) if (d / META_FILE).is_file()]
    meta = dict(metas[0]) if metas else {}
    meta["run_id"] = run_dir.name
    meta["trials"] = {"planned": planned_trials, "run": len(done)}
    env = meta.get("environment")
    if isinstance(env, dict) and isinstance(env.get("load"), dict):  # the first trial's start
        env["load"] = {**env["load"], "end": load_average()}  # and the end of the last one
    write_json_atomic(run_dir / META_FILE, meta)
    doc = build_document(fold(done), meta)
    write_json_atomic(run_dir / MERGED_FILE, doc)
    if link_latest:
        point_latest(run_dir, doc["k2"])
    return doc


def full_run(k2: Mapping[str, Any]) -> bool:
    """Whether a run covered its whole profile: every planned cell passed, and it was
    neither a shard nor a run of listed cells (``--k2-cells``). A ``-k`` selection leaves
    planned cells missing, and a failure is a failure: neither is full."""
    return bool(k2.get("profile")) and not k2.get("shard") and not k2.get("cells_file") \
        and not k2.get("failed") and not k2.get("cells_missing") \
        and bool(k2.get("cells_planned"))


def point_latest(run_dir: Path, k2: Mapping[str, Any] | None = None) -> None:
    """``<results>/latest`` -> this run; with the run's ``k2`` header, also
    ``<results>/latest-<profile>`` when the run is full (:func:`full_run`), so that a partial
    run (a ``-k`` selection, a failure, a shard) never moves it off the last full run."""
    _link(run_dir.parent / LATEST_LINK, run_dir)
    profile = str((k2 or {}).get("profile") or "")
    if k2 is not None and full_run(k2) and RUN_ID.fullmatch(profile):
        _link(run_dir.parent / f"{LATEST_LINK}-{profile}", run_dir)


def _link(link: Path, run_dir: Path) -> None:
    """``link`` -> ``run_dir`` (a relative symlink; best effort: a link path that is not a
    symlink is left alone, and a file system without symlinks is no error)."""
    with contextlib.suppress(OSError):
        if link.is_symlink():
            link.unlink()
        elif link.exists():
            return
        link.symlink_to(run_dir.name, target_is_directory=True)


def passed_nodeids(run_dir: Path) -> set[str]:
    """The test ids that passed in a run directory (``--k2-resume`` skips them); a directory
    without journals has none."""
    return {r.nodeid for r in read_run(run_dir) if r.passed}


def check_resumable(run_dir: Path, profile: str, matrix_fingerprint: str) -> None:
    """A run resumes only under the compatibility rule: with the matrix and profile it was
    started with, on the same kind of machine (ResultsError naming the key otherwise)."""
    now = {"format_version": FORMAT_VERSION, "matrix_fingerprint": matrix_fingerprint,
           "profile": profile, "machine_kind": machine_kind()}
    check_compatible([(str(run_dir), read_meta(run_dir)), ("this invocation", now)],
                     action="resume", fix=RESUME_FIX)
