"""Every timed run of a query checked, not only its first: :class:`RoundChecks`.

A query cell verifies an engine's first answer against the reference computed from the
generated rows (:meth:`RoundChecks.verified`), then times it again and again. Each timed
answer is kept as it comes (:meth:`RoundChecks.keep`: a reference appended, nothing
computed in the timed region) and checked between rounds, in the benchmark's untimed setup,
and once more after the last (:meth:`RoundChecks.check`): its content checksum
(:func:`k2matrix.writer.checksum.table_checksum`, every value of every column, in any row
order) must equal the verified first answer's. An answer whose checksum differs is
compared with the reference in full (floats may sum in another order from run to run, and a
``LIMIT`` without ``ORDER BY`` may return other rows); if it differs from the reference too,
the cell fails with a :class:`~k2matrix.errors.VerificationError` naming the run, the query
and what differs. So an engine that returns the right number of rows with a wrong value
after its verified first run fails its cell.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import TYPE_CHECKING, Any

from k2matrix.errors import VerificationError
from k2matrix.writer.checksum import Checksum, table_checksum

if TYPE_CHECKING:
    from k2matrix.query.protocol import QueryResult
    from k2matrix.query.workload import QueryWorkload


def query_key(shape: str, params: Mapping[str, Any]) -> str:
    return f"{shape}:{sorted(params.items())}"


def _digest(result: QueryResult) -> Checksum | None:
    try:
        return table_checksum(result.arrow())
    except TypeError:  # a column type the checksum does not know: compared in full
        return None


class RoundChecks:
    """The verified first answer of each query of a cell, and its timed answers checked
    against it (see the module docstring)."""

    def __init__(self, workload: QueryWorkload) -> None:
        self.workload = workload
        self.first: dict[str, Checksum | None] = {}
        self.pending: list[tuple[str, Mapping[str, Any], QueryResult]] = []
        self.checked = 0
        self.compared = 0  # answers whose checksum differed and that matched the reference
        self.forms: set[str] = set()  # what the engine returned: arrow, pandas, dicts
        self.conversions: list[float] = []  # ms to convert each non-Arrow answer (untimed)

    def _converted(self, result: QueryResult) -> None:
        self.forms.add(result.form)
        result.arrow()
        if result.conversion_ms is not None:
            self.conversions.append(result.conversion_ms)

    def conversion_info(self) -> dict[str, Any]:
        """What the cell records of the conversion to Arrow (outside the timed region)."""
        out: dict[str, Any] = {"result_form": ",".join(sorted(self.forms))}
        if self.conversions:
            ordered = sorted(self.conversions)
            out["conversion_p50_ms"] = round(ordered[len(ordered) // 2], 3)
        return out

    def verified(self, result: QueryResult, shape: str, params: Mapping[str, Any]
                 ) -> QueryResult:
        """``result`` checked against the reference (VerificationError if it differs) and
        kept as what the timed answers of this query must equal."""
        self._converted(result)
        self.workload.verify(result, shape, params)
        self.first[query_key(shape, params)] = _digest(result)
        return result

    def keep(self, result: QueryResult, shape: str, params: Mapping[str, Any]
             ) -> QueryResult:
        """A timed answer, to check later (in the timed region: nothing is computed)."""
        self.pending.append((shape, params, result))
        return result

    def check(self) -> None:
        """Check every answer kept since the last call (untimed: a benchmark's setup, and
        once after the rounds). VerificationError at the first that is wrong."""
        pending, self.pending = self.pending, []
        for shape, params, result in pending:
            self.checked += 1
            self._converted(result)
            key = query_key(shape, params)
            if key not in self.first:
                raise VerificationError(f"timed run {self.checked}: {shape} {dict(params)} was "
                                        "never verified before it was timed")
            want = self.first[key]
            got = _digest(result)
            if want is not None and got == want:
                continue
            try:
                self.workload.verify(result, shape, params)
            except VerificationError as exc:
                raise VerificationError(
                    f"timed run {self.checked} of the cell: {exc} (its first run was equal "
                    f"to the reference; this one returned {result.rows_returned} rows, "
                    f"content {got if got is not None else 'unhashable'}, the first "
                    f"{want if want is not None else 'unhashable'})") from None
            self.compared += 1

    def summary(self) -> str:
        """What the cell records under ``verified``."""
        again = (f", {self.compared} of them with another checksum but equal to the reference"
                 if self.compared else "")
        return f"each of {self.checked} timed runs checked against the first{again}"
