"""Offsets and Iceberg snapshots kept consistent: exactly-once from Kafka to the table.

The sink commits the rows of a batch and the Kafka position after them *in one Iceberg
commit*: the new snapshot's summary carries ``k2.offsets.<topic>`` = a JSON object
``{partition: next offset}`` covering every partition the sink reads (and ``k2.sink``, who
wrote it). A snapshot either exists, with its rows and its offsets, or does not, so the table
is always consistent with one position in the topic. A sink that starts (first start, or
after being killed) reads the position from the table's current snapshot and seeks its
partitions there; rows it had consumed but not committed are read again, and rows already
committed are never read again. Kafka's own group offsets are committed after each Iceberg
commit for monitoring (lag tools) only; the table is the source of truth.
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from typing import Any

PREFIX = "k2.offsets."


def summary_key(topic: str) -> str:
    return PREFIX + topic


def encode(topic: str, offsets: Mapping[int, int]) -> dict[str, str]:
    """The snapshot-summary properties recording ``offsets`` (partition -> next offset)."""
    return {summary_key(topic): json.dumps({str(p): int(o) for p, o in sorted(offsets.items())},
                                           separators=(",", ":"))}


def decode(topic: str, summary: Mapping[str, Any]) -> dict[int, int] | None:
    """The offsets recorded for ``topic`` in a snapshot summary, or None if it has none."""
    raw = summary.get(summary_key(topic))
    if raw is None:
        return None
    try:
        parsed = json.loads(raw)
        return {int(p): int(o) for p, o in parsed.items()}
    except (TypeError, ValueError, AttributeError) as exc:
        raise ValueError(f"snapshot summary {summary_key(topic)} = {raw!r} is not a JSON "
                         "object of partition: offset") from exc


def snapshot_offsets(table: Any, topic: str) -> dict[int, int]:
    """The position to resume ``topic`` from: the offsets in the current snapshot's summary
    of the pyiceberg ``table`` (walking back through its parents if the current snapshot was
    written by someone else), or ``{}`` for a table no sink has committed to."""
    snapshot = table.current_snapshot()
    while snapshot is not None:
        summary = snapshot.summary
        props = dict(summary.additional_properties) if summary is not None else {}
        found = decode(topic, props)
        if found is not None:
            return found
        parent = snapshot.parent_snapshot_id
        snapshot = table.snapshot_by_id(parent) if parent is not None else None
    return {}


def merge_positions(base: Mapping[int, int], seen: Mapping[int, int]) -> dict[int, int]:
    """``base`` advanced by ``seen`` (partition -> next offset); never moves backwards."""
    out = dict(base)
    for p, o in seen.items():
        out[p] = max(out.get(p, 0), int(o))
    return out
