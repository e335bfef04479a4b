"""Writers with a planted, known performance truth, to measure ``k2matrix explore`` itself
(plug them in by import path, ``[components.writer] impl``; matrices in examples/planted/):

- :class:`CliffWriter`: the built-in IcebergWriter, 10x slower when a batch is above a
  threshold on two axes at once: more than ``rows`` rows *and* more than ``symbols``
  distinct symbols (``K2_CLIFF="rows=2000,symbols=300"``, the defaults). An explore of its
  property must find the cliff and shrink to its corner.
- :class:`CornerWriter`: another cliff on two axes, held out from the one the explorer was
  first tuned on: an append of more than ``rows`` rows *and* more than ``symbols`` distinct
  symbols pays ``ms`` more (a spill; ``K2_CORNER="rows=3500,symbols=250,ms=1000"``, the
  defaults). A step of fixed size rather than a factor: the appends below it already vary
  4x with the layout (30-130 ms on a quiet machine, up to 250 ms with both cores busy and
  a load average near 18), so a factor large enough to lift the fastest layout over a
  bound the slowest one meets would be a factor of 10 or more.
- :class:`NoiseWriter`: the built-in writer whose append takes a random time around a value
  inside the bound whatever the workload: each call is padded to ``ms`` x lognormal(0,
  ``sigma``) (``K2_NOISE="ms=250,sigma=0.4"``). Its violations are noise: none may be
  confirmed.

The slowdown and the padding are sleeps (wall time), not CPU work, so they cost the shared
machine nothing; what they change is what the suites time.
"""

from __future__ import annotations

import os
import time
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from k2matrix.errors import K2Error
from k2matrix.writer.iceberg import IcebergWriter

__all__ = ["CliffWriter", "CornerWriter", "NoiseWriter", "settings"]


def settings(variable: str, defaults: dict[str, float]) -> dict[str, float]:
    """``"rows=2000,symbols=300"`` from ``variable`` over ``defaults`` (K2Error otherwise)."""
    out = dict(defaults)
    text = os.environ.get(variable, "")
    for item in (i.strip() for i in text.split(",") if i.strip()):
        name, _, value = item.partition("=")
        try:
            number = float(value)
        except ValueError:
            number = -1.0
        if name not in defaults or number < 0:
            raise K2Error(f"{variable}={text!r}: {item!r} must be NAME=NUMBER with NAME one of "
                          f"{', '.join(defaults)}")
        out[name] = number
    return out


class CliffWriter(IcebergWriter):
    """IcebergWriter, 10x slower above ``rows`` rows and ``symbols`` distinct symbols."""

    def write_arrow(self, table: pa.Table, table_name: str, *args: Any, **kwargs: Any
                    ) -> Any:
        limits = settings("K2_CLIFF", {"rows": 2000, "symbols": 300})
        started = time.perf_counter()
        result = super().write_arrow(table, table_name, *args, **kwargs)
        symbols = int(pc.count_distinct(table["symbol"]).as_py())
        if table.num_rows > limits["rows"] and symbols > limits["symbols"]:
            time.sleep(9.0 * (time.perf_counter() - started))
        return result


class CornerWriter(IcebergWriter):
    """IcebergWriter, ``ms`` slower above ``rows`` rows and ``symbols`` distinct symbols."""

    def write_arrow(self, table: pa.Table, table_name: str, *args: Any, **kwargs: Any
                    ) -> Any:
        corner = settings("K2_CORNER", {"rows": 3500, "symbols": 250, "ms": 1000})
        result = super().write_arrow(table, table_name, *args, **kwargs)
        if table.num_rows > corner["rows"]:
            symbols = int(pc.count_distinct(table["symbol"]).as_py())
            if symbols > corner["symbols"]:
                time.sleep(corner["ms"] / 1e3)
        return result


class NoiseWriter(IcebergWriter):
    """IcebergWriter whose appends take ``ms`` x lognormal(0, ``sigma``), whatever the rows."""

    _rng = np.random.default_rng()

    def write_arrow(self, table: pa.Table, table_name: str, *args: Any, **kwargs: Any
                    ) -> Any:
        noise = settings("K2_NOISE", {"ms": 250, "sigma": 0.4})
        wanted = noise["ms"] / 1e3 * float(np.exp(self._rng.normal(0.0, noise["sigma"])))
        started = time.perf_counter()
        result = super().write_arrow(table, table_name, *args, **kwargs)
        time.sleep(max(0.0, wanted - (time.perf_counter() - started)))
        return result
