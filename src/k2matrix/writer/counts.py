"""What one Iceberg commit wrote, counted from what pyiceberg already holds (no file read).

pyiceberg 0.12 appends through a snapshot producer, registered with the transaction by
``tx.append``. After the commit lands the producer still holds:

- the data files it added (``DataFile``): their number, ``file_size_in_bytes`` and
  ``split_offsets``. pyiceberg fills ``split_offsets`` from the Parquet footer it got back
  from the writer, one offset per row group (``data_file_statistics_from_parquet_metadata``),
  so the row groups are counted without reading a footer again;
- the manifest files it wrote for the attempt that landed (``_written_manifests``: the
  added-files manifest, any delete manifest and any merged manifest) and the manifest list
  (``_written_manifest_lists``, one per landed snapshot).

A landed commit writes one table metadata file (``metadata_location`` changes).

Counters (per commit; summed over a round by the caller's snapshots):

- ``parquet.files``, ``parquet.row_groups``, ``parquet.bytes``: data files written;
- ``iceberg.manifests``, ``iceberg.manifest_lists``, ``iceberg.metadata_files``.

Exact for a commit that lands at its first catalog attempt. When the catalog refuses a
commit (a lost race), pyiceberg retries it itself and writes the manifests and the manifest
list again; only the landed attempt is counted, and a metadata file a refused attempt may
have written (SqlCatalog writes it before its compare-and-swap) is not either. A commit the
writer abandons (its own retry after pyiceberg gave up) counts nothing; the data files of
its next attempt count.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from k2matrix import counters


def producers_of(tx: Any) -> list[Any]:
    """The snapshot producers a pyiceberg transaction has registered (read them before
    ``commit_transaction``, which forgets them)."""
    return list(getattr(tx, "_snapshot_producers", ()) or ())


def commit_counts(producers: Iterable[Any], new_metadata: bool) -> dict[str, float]:
    """The files one landed commit wrote (see the module docstring); a counter whose source
    pyiceberg does not hold is left out rather than guessed."""
    producers = list(producers)
    files = [f for p in producers for f in getattr(p, "_added_data_files", ())]
    out: dict[str, float] = {
        "parquet.files": float(len(files)),
        "parquet.bytes": float(sum(int(f.file_size_in_bytes) for f in files)),
        "iceberg.metadata_files": 1.0 if new_metadata else 0.0,
    }
    offsets = [getattr(f, "split_offsets", None) for f in files]
    if all(o is not None for o in offsets):
        out["parquet.row_groups"] = float(sum(len(o) for o in offsets if o is not None))
    for name, attr in (("iceberg.manifests", "_written_manifests"),
                       ("iceberg.manifest_lists", "_written_manifest_lists")):
        written = [getattr(p, attr, None) for p in producers]
        if all(w is not None for w in written):
            out[name] = float(sum(len(w) for w in written if w is not None))
    return out


def count_commit(producers: Iterable[Any], new_metadata: bool) -> dict[str, float]:
    """Add one landed commit's :func:`commit_counts` to the process counters; return them."""
    counts = commit_counts(producers, new_metadata)
    for name, amount in counts.items():
        counters.add(name, amount)
    return counts
