"""Merging runs (``k2matrix merge``) and the one compatibility rule.

Two runs compare, merge or resume only when they agree on :data:`COMPATIBLE_KEYS`: the
results format, the matrix fingerprint (the cells it decides), the profile and the kind of
machine (compared key by key). A key absent (or null) on either side is not compared: a plain
pytest-benchmark file has no ``k2`` object, and an older run may lack a machine key.
:func:`check_compatible` is the rule; ``k2matrix merge``, ``k2matrix summary --baseline``
and ``--k2-resume`` all go through it, and ``--force`` overrides it where the command has one.

:func:`check_backends` is the same rule for the backends a run measured against (their
modes in the environment record, :mod:`k2matrix.results.environment`): ``merge``,
``compare`` (and ``summary --baseline``) and ``ab`` refuse runs against a mock cluster and a
real broker, say, naming the backend; ``--force`` overrides it and the output says so. A
run without the record is not checked, and a note says that.

A run of several trials (``trials/tNN/``) is merged from its trials, folded
(:mod:`k2matrix.results.folding`): the merged run keeps them.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from k2matrix.errors import ResultsError
from k2matrix.results.document import MERGED_FILE, build_document, measured
from k2matrix.results.environment import BACKEND_NAMES, UNKNOWN_NOTE, backend_modes
from k2matrix.results.folding import fold, read_trials, trial_dirs
from k2matrix.results.journal import JOURNAL_GLOB, latest, read_run, write_journal
from k2matrix.results.jsonfile import write_json_atomic
from k2matrix.results.meta import META_FILE, read_meta
from k2matrix.results.record import CellRecord
from k2matrix.results.shards import check_shards

__all__ = ["COMPATIBLE_KEYS", "check_backends", "check_compatible", "differences",
           "merge_dirs"]

COMPATIBLE_KEYS = ("format_version", "matrix_fingerprint", "profile", "machine_kind", "clock")
_WHY = {
    "format_version": "the runs were written in different results formats",
    "matrix_fingerprint": "the matrices decide different cells",
    "profile": "the runs sweep different profiles",
    "machine_kind": "timings from different kinds of machine do not compare",
    "clock": "instruction counts and times (or two clocks) do not mix",
}
NO_CELL_FIX = "run a sweep (k2matrix run --profile NAME) and check the profile and the -k " \
    "selection: a sweep that selects no cell measures nothing"


def differences(a: Mapping[str, Any], b: Mapping[str, Any]) -> list[tuple[str, Any, Any]]:
    """``(key, value in a, value in b)`` for each compatibility key on which the two run
    headers (meta.json, or the ``k2`` object of benchmarks.json) differ; ``machine_kind``
    is compared per subkey (``machine_kind.cpu_count``). Absent or null keys are skipped."""
    out: list[tuple[str, Any, Any]] = []
    for key in COMPATIBLE_KEYS:
        va, vb = a.get(key), b.get(key)
        if va is None or vb is None:
            continue
        if key == "machine_kind" and isinstance(va, Mapping) and isinstance(vb, Mapping):
            for sub in sorted(set(va) & set(vb)):
                if va[sub] is not None and vb[sub] is not None and va[sub] != vb[sub]:
                    out.append((f"{key}.{sub}", va[sub], vb[sub]))
        elif va != vb:
            out.append((key, va, vb))
    return out


def check_compatible(runs: Sequence[tuple[str, Mapping[str, Any]]], force: bool = False, *,
                     action: str = "merge", key_prefix: str = "",
                     fix: str | None = None) -> list[str]:
    """Raise :class:`ResultsError` naming every key on which a run differs from the first
    one, both values and the way out (``fix``; by default ``--force``). With ``force``
    nothing is raised: the messages (one per differing run) are returned, for the caller to
    note.

    ``runs`` are ``(name, header)`` pairs; ``key_prefix`` is how the caller's files spell the
    keys (``"k2."`` for benchmarks.json)."""
    if len(runs) < 2:
        return []
    way_out = fix or (f"{action} runs of the same matrix, profile and kind of machine, or "
                      f"pass --force to {action} anyway")
    found: list[str] = []
    first_name, first = runs[0]
    for name, header in runs[1:]:
        keys = [f"{key_prefix}{key} differs between {first_name} ({a!r}) and {name} ({b!r}): "
                f"{_WHY[key.split('.')[0]]}" for key, a, b in differences(first, header)]
        if keys:
            found.append(f"cannot {action}: {'; '.join(keys)}; {way_out}")
    if found and not force:
        raise ResultsError(found[0])
    return found


def check_backends(runs: Sequence[tuple[str, Mapping[str, Any]]], force: bool = False, *,
                   action: str = "merge", fix: str | None = None) -> list[str]:
    """Raise :class:`ResultsError` when a run's backends ran in other modes than the first
    run's, naming each such backend and both modes, with the way out (``fix``; by default
    ``--force``). With ``force`` nothing is raised: the messages are returned, each starting
    ``forced (--force):``. A run whose environment is unknown is not compared; a note for each such
    run is returned too."""
    way_out = fix or (f"{action} runs measured against the same backends, or pass --force "
                      f"to {action} anyway")
    if len(runs) < 2:
        return []
    notes = [f"{name}: environment unknown ({UNKNOWN_NOTE}): its backends were not checked"
             for name, header in runs if set(backend_modes(header).values()) == {None}]
    found: list[str] = []
    first_name, first = runs[0][0], backend_modes(runs[0][1])
    for name, header in runs[1:]:
        modes = backend_modes(header)
        diff = [f"the {BACKEND_NAMES[b]} backend differs: {first[b]} in {first_name}, "
                f"{modes[b]} in {name}" for b in first
                if first[b] is not None and modes[b] is not None and first[b] != modes[b]]
        if diff:
            found.append(f"{'; '.join(diff)}: timings against different backends do not "
                         f"{'mix' if action == 'merge' else action}")
    if found and not force:
        raise ResultsError(f"cannot {action}: {found[0]}; {way_out}")
    return [*(f"forced (--force): {m}" for m in found), *notes]


SOURCE_KEYS = ("run_id", "shard", "profile", "started", "workers", "machine_kind",
               "machine_info", "hosts", "clock")


def source(name: str, meta: Mapping[str, Any]) -> dict[str, Any]:
    """What a merged run keeps of each run it was merged from: its name, shard, machine
    (``machine_kind`` and pytest-benchmark's ``machine_info``) and hosts."""
    return {"run": name, **{key: meta.get(key) for key in SOURCE_KEYS}}


def forced(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> list[dict[str, Any]]:
    """What ``--force`` merged over: each compatibility key that differs, with every
    run's value (``{"key": "machine_kind.cpu_count", "values": {run: value}}``)."""
    first_name, first = runs[0]
    by_key: dict[str, dict[str, Any]] = {}
    for name, header in runs[1:]:
        for key, a, b in differences(first, header):
            values = by_key.setdefault(key, {first_name: a})
            values[name] = b
    return [{"key": key, "values": values} for key, values in by_key.items()]


def _hosts(runs: Sequence[tuple[str, Mapping[str, Any]]]) -> dict[str, Any]:
    """Every host of the merged runs, each as the first run that names it describes it."""
    out: dict[str, Any] = {}
    for _, meta in runs:
        hosts = meta.get("hosts")
        for host, facts in (hosts.items() if isinstance(hosts, Mapping) else ()):
            out.setdefault(str(host), facts)
    return out


def run_records(run_dir: Path) -> list[CellRecord]:
    """A run directory's records: its journals, or for a run of several trials (no journal
    of its own, ``trials/tNN/``) its trials folded, each cell keeping its trials."""
    if trial_dirs(run_dir) and not any(run_dir.glob(JOURNAL_GLOB)):
        return fold(read_trials(run_dir))
    return read_run(run_dir)


def merge_dirs(run_dirs: Iterable[Path], out: Path, force: bool = False,
               option: str = "--results") -> dict[str, Any]:
    """Combine shards (or separate runs) into one run directory ``out`` (given as the
    command-line ``option``, which an error names). The merged ``k2`` object's
    ``merge_notes`` say what ``force`` overrode and which runs' backends were unknown."""
    dirs = [Path(d) for d in run_dirs]
    if not dirs:
        raise ResultsError("nothing to merge: name at least one run directory")
    metas = [(str(d), read_meta(d)) for d in dirs]
    overridden = check_compatible(metas, force)
    notes = [*(f"--force: {m}" for m in overridden), *check_backends(metas, force),
             *check_shards(metas, force)]
    records = latest(r for d in dirs for r in run_records(d))
    if not measured(records):
        names = ", ".join(str(d) for d in dirs)
        raise ResultsError(f"{names}: no cell was measured (no journal holds a passed or "
                           f"failed cell), so there is nothing to merge; {NO_CELL_FIX}")
    meta = dict(metas[0][1])
    meta["run_id"] = out.name
    meta["merged_from"] = [name for name, _ in metas]
    planned: list[str] = []
    for _, m in metas:
        planned += [c for c in m.get("cells_planned", []) if c not in planned]
    meta["cells_planned"] = planned
    meta["shard"] = None
    meta["merge_notes"] = notes
    meta["sources"] = [source(name, m) for name, m in metas]
    meta["forced"] = forced(metas) if overridden else []
    meta["hosts"] = _hosts(metas)
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ResultsError(f"{option} {out}: cannot create the directory: "
                           f"{exc.strerror or exc}; choose another {option}") from None
    write_json_atomic(out / META_FILE, meta)
    write_journal(out / "journal-merged.jsonl", records)
    doc = build_document(records, meta)
    write_json_atomic(out / MERGED_FILE, doc)
    return doc
