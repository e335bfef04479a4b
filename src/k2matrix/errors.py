"""The project's errors. Each message names the problem and the fix; the CLI prints it and
exits with code 2, without a traceback."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass


class K2Error(Exception):
    """Base of every error k2matrix raises on bad input or an unusable backend."""


@dataclass(frozen=True)
class Problem:
    """One problem found in a matrix: where, what was there, and what is allowed."""

    path: str
    value: object
    message: str

    def __str__(self) -> str:
        if self.value is MISSING:
            return f"{self.path}: {self.message}"
        return f"{self.path} = {self.value!r}: {self.message}"


class _Missing:
    def __repr__(self) -> str:
        return "<missing>"


MISSING: object = _Missing()  # a Problem about a key that is absent


class MatrixError(K2Error):
    """A matrix file that cannot be used; carries every problem found, not just the first."""

    def __init__(self, source: str, problems: Sequence[Problem]) -> None:
        self.source = source
        self.problems = list(problems)
        lines = "\n".join(f"  - {p}" for p in self.problems)
        count = len(self.problems)
        noun = "problem" if count == 1 else "problems"
        super().__init__(f"{source}: {count} {noun} in the matrix:\n{lines}")


class WorkloadError(K2Error):
    """A record or batch that does not fit its schema (names the row, field and value)."""


class BackendError(K2Error):
    """A service that cannot be reached or used (names the address or path)."""


class QueryError(K2Error):
    """An unknown query shape, missing parameters, or a failed query (names the query id)."""


class VerificationError(K2Error, AssertionError):
    """A workload whose outcome is wrong: messages not read back as produced, a table that
    does not hold exactly the rows written, a query result that differs from its reference.
    Names what differs. A cell that raises it has no time (an assertion failure to pytest)."""


class ResultsError(K2Error):
    """A results file or directory that cannot be read, merged or compared."""
