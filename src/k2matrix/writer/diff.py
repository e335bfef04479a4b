"""Where a table read back differs from what was written: the first column whose values
differ (by its checksum, :attr:`~k2matrix.writer.checksum.Checksum.columns`) and its first
differing value on each side, for the :class:`~k2matrix.errors.VerificationError` of a
writer cell (``column 'price': read back Decimal('1.12345600') where Decimal('1.12345678')
was written; 1000 values differ``).

Rows come back in any order, so values are matched as multisets by their hashes: the first
value read back that was not written (as often), and the first written value that was not
read back.
"""

from __future__ import annotations

import numpy as np
import pyarrow as pa

from k2matrix.writer.checksum import Checksum, column_hashes, table_checksum


def _surplus(a: np.ndarray, b: np.ndarray) -> tuple[np.ndarray, int]:
    """The hashes ``a`` holds more often than ``b``, and by how many values in all."""
    au, ac = np.unique(a, return_counts=True)
    bu, bc = np.unique(b, return_counts=True)
    if len(bu):
        index = np.clip(np.searchsorted(bu, au), 0, len(bu) - 1)
        counts = np.where(bu[index] == au, bc[index], 0)
    else:
        counts = np.zeros(len(au), dtype=np.int64)
    more = ac > counts
    return au[more], int(np.sum(ac[more] - counts[more]))


def _first(hashes: np.ndarray, wanted: np.ndarray) -> int | None:
    hits = np.flatnonzero(np.isin(hashes, wanted))
    return int(hits[0]) if len(hits) else None


def _value(column: pa.ChunkedArray, row: int) -> object:
    return column[row].as_py()


def column_difference(name: str, written: pa.ChunkedArray, read: pa.ChunkedArray) -> str:
    """The first differing value of column ``name`` on each side (see the module doc)."""
    w, r = column_hashes(written), column_hashes(read)
    extra, extra_n = _surplus(r, w)
    missing, missing_n = _surplus(w, r)
    got, want = _first(r, extra), _first(w, missing)
    n = max(extra_n, missing_n)
    count = "1 value differs" if n == 1 else f"{n} values differ"
    if got is not None and want is not None:
        return (f"column {name!r}: read back {_value(read, got)!r} where "
                f"{_value(written, want)!r} was written; {count}")
    if want is not None:
        return f"column {name!r}: {_value(written, want)!r} was written and not read back; {count}"
    if got is not None:
        return f"column {name!r}: {_value(read, got)!r} was read back and not written; {count}"
    return f"column {name!r} differs"


def describe_difference(expected: Checksum, read: pa.Table) -> str:
    """Why ``read`` (a table read back, its columns named as written) does not match
    ``expected`` (a checksum of what was written, with its sources)."""
    got = table_checksum(read)
    got_columns = dict(got.columns)
    sources = [t for t in expected.sources if t.num_rows]
    written = pa.concat_tables(sources, promote_options="permissive") if sources else None
    for name, digest in expected.columns:
        if name not in got_columns:
            return f"the table has no column {name!r} (it has {', '.join(read.column_names)})"
        if got_columns[name] != digest:
            if written is None or name not in written.column_names:
                return f"column {name!r} differs"
            return column_difference(name, written.column(name), read.column(name))
    return ("each column holds the values written, but not in the same rows (values moved "
            "between rows)")
