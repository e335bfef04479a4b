"""Shards (``--k2-shard i/N``) merged back into one run: :func:`check_shards` requires the
complementary slices of one N, each once and none missing, before ``k2matrix merge`` joins
them (``--force`` merges a partial or mixed set, and the merged run says what was missing).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from k2matrix.errors import ResultsError

FIX = ("merge every shard i/N of one sweep, each once (k2matrix run --k2-shard i/N for i = "
       "1..N), or pass --force to merge these anyway")


def shard_of(meta: Mapping[str, Any]) -> tuple[int, int] | None:
    """A run's ``(i, N)`` from its ``shard`` (``[i, N]`` or null)."""
    value = meta.get("shard")
    if isinstance(value, list | tuple) and len(value) == 2 and all(
            isinstance(v, int) and not isinstance(v, bool) for v in value):
        return int(value[0]), int(value[1])
    return None


def check_shards(runs: Sequence[tuple[str, Mapping[str, Any]]], force: bool = False
                 ) -> list[str]:
    """Raise :class:`ResultsError` unless the runs are all unsharded, or together every
    shard 1..N of one N, each once; with ``force`` the problems are returned instead (one
    message each, for the merged run's notes)."""
    shards = [(name, shard_of(meta)) for name, meta in runs]
    sharded = [(name, s) for name, s in shards if s is not None]
    if not sharded:
        return []
    problems: list[str] = []
    whole = [name for name, s in shards if s is None]
    if whole:
        problems.append(f"{whole[0]} is a whole run and {sharded[0][0]} is shard "
                        f"{sharded[0][1][0]}/{sharded[0][1][1]}: a shard merges only with "
                        "the other shards of its sweep")
    counts = sorted({s[1] for _, s in sharded})
    if len(counts) > 1:
        listed = ", ".join(f"{name}: {s[0]}/{s[1]}" for name, s in sharded)
        problems.append(f"the shards are slices of different counts ({listed}): they are "
                        "not the complementary slices of one sweep")
    else:
        count = counts[0]
        seen: dict[int, str] = {}
        for name, (index, _) in sharded:
            if index in seen:
                problems.append(f"shard {index}/{count} is given twice: {seen[index]} and "
                                f"{name}")
            seen.setdefault(index, name)
        missing = [f"{i}/{count}" for i in range(1, count + 1) if i not in seen]
        if missing:
            problems.append(f"shard{'s' if len(missing) > 1 else ''} {', '.join(missing)} "
                            f"{'are' if len(missing) > 1 else 'is'} missing: the merged run "
                            "would lack their cells")
    if problems and not force:
        raise ResultsError(f"cannot merge: {problems[0]}; {FIX}")
    return [f"--force: {p}" for p in problems]
