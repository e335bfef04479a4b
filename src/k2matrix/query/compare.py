"""Compare a query result with its reference: same columns, same rows, floats within a
tolerance, and the order the query imposes.

Tolerance: numbers (decimals, integers, floats) are compared as float64 with
``|a - b| <= ABS_TOL + REL_TOL * |b|`` — sums of up to 10M decimals in float64 in a different
order than the engine agree far closer than that. Strings and timestamps compare exactly.
Order: the result's ``order_by`` columns must be sorted as the query says; rows tied on them
may come in any order, so both sides are then sorted by every non-float column before the
row-by-row comparison.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import polars as pl
import pyarrow as pa

from k2matrix.errors import VerificationError
from k2matrix.query.reference import Expected

REL_TOL = 1e-9
ABS_TOL = 1e-9


def normalize(result: pa.Table | pl.DataFrame) -> pl.DataFrame:
    """Numbers as float64, timestamps as UTC microseconds, strings as they are."""
    frame = pl.from_arrow(result) if isinstance(result, pa.Table) else result
    assert isinstance(frame, pl.DataFrame)
    casts = []
    for name, dtype in frame.schema.items():
        if dtype.is_numeric() or dtype == pl.Boolean:
            casts.append(pl.col(name).cast(pl.Float64))
        elif isinstance(dtype, pl.Datetime):
            casts.append(pl.col(name).dt.epoch("us"))
    return frame.with_columns(casts) if casts else frame


def _check_order(frame: pl.DataFrame, order_by: Sequence[tuple[str, bool]], qid: str) -> None:
    if not order_by or frame.height < 2:
        return
    cols = [c for c, _ in order_by]
    keys = frame.select(cols)
    ordered = keys.sort(cols, descending=[d for _, d in order_by], maintain_order=True)
    if not keys.equals(ordered):
        diff = (keys.with_row_index("row").filter(
            pl.any_horizontal([pl.col(c) != ordered[c] for c in cols])).head(1))
        raise VerificationError(f"{qid}: result not ordered by "
                             f"{', '.join(c + (' DESC' if d else '') for c, d in order_by)}; "
                             f"first row out of order: {diff.to_dicts()}")


def _close(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    both_nan = np.isnan(a) & np.isnan(b)
    with np.errstate(invalid="ignore"):
        near = np.abs(a - b) <= ABS_TOL + REL_TOL * np.abs(b)
    return np.asarray(both_nan | near)


def _compare_rows(got: pl.DataFrame, want: pl.DataFrame, qid: str) -> None:
    exact = [c for c, t in want.schema.items() if t != pl.Float64]
    floats = [c for c, t in want.schema.items() if t == pl.Float64]
    if exact:
        got, want = got.sort(exact), want.sort(exact)
    for col in exact:
        bad = got[col].ne_missing(want[col])
        if bad.any():
            i = int(bad.arg_true()[0])
            raise VerificationError(f"{qid}: column {col!r} differs at sorted row {i}: got "
                                 f"{got.row(i, named=True)}, expected {want.row(i, named=True)}")
    for col in floats:
        a = got[col].fill_null(np.nan).to_numpy().astype(np.float64)
        b = want[col].fill_null(np.nan).to_numpy().astype(np.float64)
        ok = _close(a, b)
        if not ok.all():
            i = int(np.flatnonzero(~ok)[0])
            raise VerificationError(f"{qid}: column {col!r} differs beyond rel {REL_TOL:g} at "
                                 f"sorted row {i}: got {a[i]!r}, expected {b[i]!r} "
                                 f"(row {want.row(i, named=True)})")


def check_result(result: pa.Table | pl.DataFrame, expected: Expected, qid: str = "query"
                 ) -> None:
    """:class:`VerificationError` unless ``result`` equals ``expected`` (see the module doc)."""
    got, want = normalize(result), normalize(expected.frame)
    if set(want.columns) < set(got.columns):  # whole rows (a K2-style API): the shape's
        got = got.select(want.columns)
    if got.columns != want.columns:
        raise VerificationError(f"{qid}: columns {got.columns} != expected {want.columns}")
    if expected.sample_size is not None:
        _check_sample(got, want, expected.sample_size, qid)
        return
    if got.height != want.height:
        raise VerificationError(f"{qid}: {got.height} rows, expected {want.height}")
    _check_order(got, expected.order_by, qid)
    _compare_rows(got, want, qid)


def _check_sample(got: pl.DataFrame, population: pl.DataFrame, size: int, qid: str) -> None:
    """A LIMIT without ORDER BY: ``size`` distinct rows, each a row of the population."""
    if got.height != size:
        raise VerificationError(f"{qid}: {got.height} rows, expected {size} (LIMIT)")
    key = got.columns[0]
    if got[key].n_unique() != got.height:
        raise VerificationError(f"{qid}: duplicate {key} values in a LIMIT sample")
    matching = population.join(got.select(key), on=key, how="semi")
    if matching.height != got.height:
        raise VerificationError(f"{qid}: {got.height - matching.height} returned rows are not "
                             "in the table")
    _compare_rows(got, matching, qid)
