"""A CPU budget per xdist worker.

DuckDB, Arrow, Polars and pyiceberg each size their thread pools to every core of the
machine. With N workers on C cores that is N x C busy threads on C cores: every cell is then
timed under oversubscription, and the sweep gets slower rather than faster. Each worker
therefore gets ``max(1, C // N)`` threads for those libraries, set through their own
environment variables before they are imported (a variable the user set is left alone).
The budget is recorded in every cell's record (``extra_info.k2.threads``).
"""

from __future__ import annotations

import os

from k2matrix.results.meta import affinity

THREAD_VARIABLES = (
    "K2_THREADS",             # DuckDB connections (backends/duckdb_ext.py)
    "OMP_NUM_THREADS",        # Arrow's CPU thread pool
    "POLARS_MAX_THREADS",     # Polars
    "PYICEBERG_MAX_WORKERS",  # pyiceberg's executor
)


def worker_threads(workers: int) -> int:
    return max(1, len(affinity()) // max(1, workers))


def apply_budget(workers: int) -> int | None:
    """In a worker of ``workers``: cap the libraries' threads; the budget, or None."""
    if workers <= 1:
        return None
    threads = worker_threads(workers)
    for name in THREAD_VARIABLES:
        os.environ.setdefault(name, str(threads))
    return threads


def budget() -> int | None:
    """The thread budget in force for DuckDB (``K2_THREADS``), or None for the default."""
    value = os.environ.get("K2_THREADS", "")
    return int(value) if value.isdigit() and int(value) > 0 else None
