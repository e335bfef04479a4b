"""The query workload of one cell: its dataset (built or reused), the generated rows the
references are computed from, default parameters, engines, and latency statistics.

Cases that do not sweep layouts (throughput, caching, scaling, stress) use the cell's
``layout`` setting if it has one, else :data:`DEFAULT_LAYOUT`.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyarrow as pa

from k2matrix.backends.storage_config import StorageConfig
from k2matrix.cell import Cell
from k2matrix.query.compare import check_result
from k2matrix.query.datasets import Dataset, DatasetKey, dataset_seed, ensure_dataset
from k2matrix.query.engine import open_engine
from k2matrix.query.protocol import QueryEngine, QueryResult
from k2matrix.query.reference import Expected, reference
from k2matrix.query.shapes import MIXED, DataWindow, default_params
from k2matrix.workload.generate import generate_table

DEFAULT_LAYOUT = "unpartitioned"
DEFAULT_ENGINE = "duckdb_iceberg_scan"
MIXED_SHAPES = MIXED


_EXPECTED: dict[tuple[Any, ...], Expected] = {}
_EXPECTED_MAX = 64


@lru_cache(maxsize=2)  # two sizes (full profile) without regenerating between cells
def _generated(key: DatasetKey) -> dict[str, pa.Table]:
    return {name: generate_table(key.spec(name)) for name in ("trades", "quotes")}


@dataclass
class QueryWorkload:
    """A cell's dataset and what its benchmark needs around the engine."""

    cell: Cell
    dataset: Dataset
    window: DataWindow
    engine_name: str

    @classmethod
    def for_cell(cls, cell: Cell, base_seed: int, workdir: str | Path,
                 layout: str | None = None, storage: StorageConfig | None = None
                 ) -> QueryWorkload:
        size = int(cell.get("dataset_size", 100_000))
        layout = layout or str(cell.get("layout", DEFAULT_LAYOUT))
        key = DatasetKey.create(size, layout, dataset_seed(base_seed, size), cell.settings)
        dataset = ensure_dataset(workdir, key, storage)
        return cls(cell=cell, dataset=dataset, window=DataWindow.from_spec(key.spec("trades")),
                   engine_name=str(cell.get("engine", DEFAULT_ENGINE)))

    def open(self, engine: str | None = None) -> QueryEngine:
        return open_engine(engine or self.engine_name, self.dataset.metadata_locations())

    def generated(self) -> dict[str, pa.Table]:
        """The generated rows of the dataset (the same for every layout)."""
        key = self.dataset.key
        return _generated(DatasetKey(size=key.size, layout=DEFAULT_LAYOUT, seed=key.seed,
                                     data=key.data))

    def params(self, shape: str, variant: int = 0) -> dict[str, Any]:
        return default_params(shape, self.window, variant)

    def expected(self, shape: str, params: Mapping[str, Any]) -> Expected:
        """The reference result; cached per dataset rows (not layout), shape and params, so
        the cells of every engine and layout compare against one computation."""
        key = self.dataset.key
        rows_key = (key.size, key.seed, key.data)
        cache_key = (rows_key, shape, tuple(sorted(params.items())))
        if cache_key not in _EXPECTED:
            if len(_EXPECTED) >= _EXPECTED_MAX:
                _EXPECTED.pop(next(iter(_EXPECTED)))
            _EXPECTED[cache_key] = reference(shape, params, self.generated())
        return _EXPECTED[cache_key]

    def verify(self, result: QueryResult, shape: str, params: Mapping[str, Any]) -> None:
        """:class:`~k2matrix.errors.VerificationError` unless the result equals the reference."""
        check_result(result.arrow(), self.expected(shape, params), f"{shape} {params}")

    def mixed_queries(self, count: int, shapes: Sequence[str] = MIXED_SHAPES,
                      variants: int = 5) -> list[tuple[str, dict[str, Any]]]:
        """``count`` queries cycling through ``shapes``, each with one of ``variants``
        parameter sets (so the distinct queries can all be verified)."""
        out = []
        for i in range(count):
            shape = shapes[i % len(shapes)]
            out.append((shape, self.params(shape, (i // len(shapes)) % variants)))
        return out


def distinct(queries: Sequence[tuple[str, dict[str, Any]]]
             ) -> list[tuple[str, dict[str, Any]]]:
    """The distinct queries of a list, first occurrence order."""
    seen: set[str] = set()
    out = []
    for shape, params in queries:
        key = f"{shape}:{sorted(params.items())}"
        if key not in seen:
            seen.add(key)
            out.append((shape, params))
    return out


def rounds_for(first_seconds: float, budget_seconds: float, default: int,
               minimum: int = 3) -> int:
    """Rounds that fit a time budget given one query's time, at most ``default``."""
    if first_seconds <= 0:
        return default
    return max(minimum, min(default, int(budget_seconds / first_seconds)))
