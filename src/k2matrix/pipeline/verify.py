"""Exactly once, checked on the table: every message id once, nothing else, same content.

:func:`verify_committed` checks a run that stopped early (its sink fell behind the broker's
retention): every row the sink committed is in the table once, is a row a share produced,
and has that row's content; the rows never read are not counted as lost.

The expected rows are regenerated from each share's (seed, rows) — the generator is
deterministic — and compared with the whole table read back through the catalog: the row
count, the set of ``message_id`` values (lost = expected ids absent, duplicated = rows beyond
the distinct ids, unexpected = ids no share produced) and the order-independent content
checksum of :mod:`k2matrix.writer.checksum`.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc

from k2matrix.workload.generate import WorkloadSpec, generate_table
from k2matrix.writer.checksum import table_checksum
from k2matrix.writer.iceberg import conform


@dataclass(frozen=True)
class Verified:
    expected: int
    rows: int
    lost: int
    duplicated: int
    unexpected: int
    checksum_equal: bool

    @property
    def ok(self) -> bool:
        return (self.rows == self.expected and self.lost == 0 and self.duplicated == 0
                and self.unexpected == 0 and self.checksum_equal)

    def describe(self) -> str:
        return (f"{self.rows} rows for {self.expected} messages: lost={self.lost} "
                f"duplicated={self.duplicated} unexpected={self.unexpected} "
                f"checksum {'equal' if self.checksum_equal else 'DIFFERS'}")


def expected_table(schema: str, shares: Sequence[tuple[int, int]]) -> pa.Table:
    return pa.concat_tables(generate_table(WorkloadSpec(schema=schema, rows=rows, seed=seed))
                            for seed, rows in shares)


def verify_table(table: Any, schema: str, shares: Sequence[tuple[int, int]]) -> Verified:
    """Compare the pyiceberg ``table`` (refreshed) with the rows of ``shares``."""
    table.refresh()
    got = conform(table.scan().to_arrow(), schema)
    want = conform(expected_table(schema, shares), schema)
    got_ids = pc.unique(got.column("message_id"))
    want_ids = want.column("message_id").combine_chunks()
    lost = int(pc.sum(pc.invert(pc.is_in(want_ids, value_set=got_ids))).as_py() or 0)
    unexpected = int(pc.sum(pc.invert(pc.is_in(got_ids, value_set=want_ids))).as_py() or 0)
    return Verified(expected=want.num_rows, rows=got.num_rows, lost=lost,
                    duplicated=got.num_rows - len(got_ids), unexpected=unexpected,
                    checksum_equal=table_checksum(got) == table_checksum(want))


def verify_committed(table: Any, schema: str, shares: Sequence[tuple[int, int]],
                     committed: int) -> Verified:
    """The table holds ``committed`` rows, each once, each one of ``shares``' rows with its
    content (``expected`` is ``committed``; ``lost`` the committed rows not in the table)."""
    table.refresh()
    got = conform(table.scan().to_arrow(), schema)
    want = conform(expected_table(schema, shares), schema)
    got_ids = pc.unique(got.column("message_id"))
    want_ids = want.column("message_id").combine_chunks()
    present = want.filter(pc.is_in(want_ids, value_set=got_ids))
    unexpected = int(pc.sum(pc.invert(pc.is_in(got_ids, value_set=want_ids))).as_py() or 0)
    return Verified(expected=committed, rows=got.num_rows,
                    lost=max(0, committed - len(got_ids)),
                    duplicated=got.num_rows - len(got_ids), unexpected=unexpected,
                    checksum_equal=table_checksum(got) == table_checksum(present))
