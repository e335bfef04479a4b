"""What object storage costs: one row per cell that ran on S3 (``extra_info["s3"]``), with
its median time beside the same cell on the local disk (the id without ``-s3``, measured in
the same run) and the S3 requests, bytes and Glue calls per commit or per query as the
server counted them."""

from __future__ import annotations

import re
from typing import Any

import polars as pl

from k2matrix.results.load import Run

KINDS = ("GET", "PUT", "HEAD", "LIST", "DELETE")
COLUMNS = ("id", "op", "median_ms", "local_median_ms", "s3_vs_local", "latency_ms",
           *(f"{k.lower()}_per_op" for k in KINDS), "requests_per_op", "bytes_in_per_op",
           "bytes_out_per_op", "glue_calls_per_op", "exclusive", "source")


def _d(value: Any) -> dict[str, Any]:
    return value if isinstance(value, dict) else {}


def _n(value: Any) -> float:
    """A finite number, else 0 (damaged files are summarized, not fatal)."""
    ok = isinstance(value, int | float) and not isinstance(value, bool)
    return float(value) if ok and abs(float(value)) < float("inf") else 0.0


def _cell_id(bench: dict[str, Any]) -> str:
    cell = _d(_d(_d(bench.get("extra_info")).get("k2")).get("cell"))
    return str(cell.get("id") or bench.get("name") or "?")


def _median_ms(bench: dict[str, Any]) -> float | None:
    """The cell's time per operation: its median commit latency where a round holds many
    commits (writer.commits, writer.buffered), else its median round."""
    extra = _d(bench.get("extra_info"))
    if _n(extra.get("commit_latency_ms")) and _n(extra.get("commits")) > 1:
        return _n(extra.get("commit_latency_ms"))
    value = _n(_d(bench.get("stats")).get("median"))
    return value * 1e3 if value else None


def local_twin(cell_id: str) -> str:
    """The id of the same cell on the local disk (``…-s3`` and ``-s3-lat20`` dropped)."""
    parts = cell_id.split("-")
    return "-".join(p for p in parts if p != "s3" and not re.fullmatch(r"lat\d+", p))


def storage_costs(run: Run) -> pl.DataFrame:
    """The storage-cost table of ``run`` (empty when no cell ran on S3)."""
    medians = {_cell_id(b): _median_ms(b) for b in run.benchmarks if isinstance(b, dict)}
    rows = []
    for bench in run.benchmarks:
        s3 = _d(bench).get("extra_info")
        s3 = _d(s3).get("s3")
        if not isinstance(s3, dict):
            continue
        cid = _cell_id(bench)
        ops = max(_n(s3.get("ops")), 1.0)
        req = _d(s3.get("requests"))
        here, local = medians.get(cid), medians.get(local_twin(cid))
        counted = s3.get("source") == "server"
        rows.append({
            "id": cid, "op": str(s3.get("op") or "-"), "median_ms": here,
            "local_median_ms": local if local_twin(cid) != cid else None,
            "s3_vs_local": here / local if here and local and local_twin(cid) != cid else None,
            "latency_ms": _n(s3.get("latency_ms")),
            **{f"{k.lower()}_per_op": (_n(req.get(k)) / ops if counted else None)
               for k in KINDS},
            **{f"{k}_per_op": (_n(s3.get(src)) / ops if counted else None)
               for k, src in (("requests", "requests_total"), ("bytes_in", "bytes_in"),
                              ("bytes_out", "bytes_out"), ("glue_calls", "glue_calls"))},
            "exclusive": bool(s3.get("exclusive", False)),
            "source": str(s3.get("source") or "-"),
        })
    schema = {c: (pl.Utf8 if c in ("id", "op", "source") else
                  pl.Boolean if c == "exclusive" else pl.Float64) for c in COLUMNS}
    return pl.DataFrame(rows, schema=schema) if rows else pl.DataFrame(schema=schema)
