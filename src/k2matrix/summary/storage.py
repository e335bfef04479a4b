"""What object storage costs: one row per cell that ran on S3 (``extra_info["s3"]``), with
its median time beside the same cell on the local disk (the id without ``-s3``, measured in
the same run) and the S3 requests, bytes and Glue calls per commit or per query as the
server counted them."""

from __future__ import annotations

from typing import Any

import polars as pl

from k2matrix.summary.load import Run

KINDS = ("GET", "PUT", "HEAD", "LIST", "DELETE")
COLUMNS = ("id", "op", "median_ms", "local_median_ms", "s3_vs_local", "latency_ms",
           *(f"{k.lower()}_per_op" for k in KINDS), "requests_per_op", "bytes_in_per_op",
           "bytes_out_per_op", "glue_calls_per_op", "exclusive", "source")


def _cell_id(bench: dict[str, Any]) -> str:
    k2 = (bench.get("extra_info") or {}).get("k2") or {}
    cell = k2.get("cell") or {}
    return str(cell.get("id") or bench.get("name") or "?")


def _median_ms(bench: dict[str, Any]) -> float | None:
    """The cell's time per operation: its median commit latency where a round holds many
    commits (writer.commits, writer.buffered), else its median round."""
    extra = bench.get("extra_info") or {}
    per_commit = extra.get("commit_latency_ms")
    if isinstance(per_commit, int | float) and int(extra.get("commits") or 1) > 1:
        return float(per_commit)
    stats = bench.get("stats") or {}
    value = stats.get("median")
    return float(value) * 1e3 if isinstance(value, int | float) else None


def local_twin(cell_id: str) -> str:
    """The id of the same cell on the local disk (``…-s3`` and ``-s3-lat20`` dropped)."""
    parts = cell_id.split("-")
    return "-".join(p for p in parts if p != "s3" and not p.startswith("lat"))


def storage_costs(run: Run) -> pl.DataFrame:
    """The storage-cost table of ``run`` (empty when no cell ran on S3)."""
    medians = {_cell_id(b): _median_ms(b) for b in run.benchmarks}
    rows = []
    for bench in run.benchmarks:
        s3 = (bench.get("extra_info") or {}).get("s3")
        if not isinstance(s3, dict):
            continue
        cid = _cell_id(bench)
        ops = max(int(s3.get("ops") or 1), 1)
        req = s3.get("requests") or {}
        here, local = medians.get(cid), medians.get(local_twin(cid))
        counted = s3.get("source") == "server"
        rows.append({
            "id": cid, "op": str(s3.get("op") or "-"), "median_ms": here,
            "local_median_ms": local if local_twin(cid) != cid else None,
            "s3_vs_local": here / local if here and local and local_twin(cid) != cid else None,
            "latency_ms": float(s3.get("latency_ms") or 0.0),
            **{f"{k.lower()}_per_op": (req.get(k, 0) / ops if counted else None)
               for k in KINDS},
            "requests_per_op": s3.get("requests_total", 0) / ops if counted else None,
            "bytes_in_per_op": s3.get("bytes_in", 0) / ops if counted else None,
            "bytes_out_per_op": s3.get("bytes_out", 0) / ops if counted else None,
            "glue_calls_per_op": s3.get("glue_calls", 0) / ops if counted else None,
            "exclusive": bool(s3.get("exclusive", False)),
            "source": str(s3.get("source") or "-"),
        })
    schema = {c: (pl.Utf8 if c in ("id", "op", "source") else
                  pl.Boolean if c == "exclusive" else pl.Float64) for c in COLUMNS}
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
