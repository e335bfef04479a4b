"""THE deadline of a remote call: how long any one call to S3, a catalog, the Schema Registry
or a Kafka broker may take before it fails, retries included (``[backends] deadline_s``,
``K2_DEADLINE_S``; default :data:`DEFAULT_S` seconds).

Each client gets its timeouts from here, in the module that owns the client:

- pyarrow's S3FileSystem and pyiceberg's FileIO (:mod:`k2matrix.backends.storage`):
  connect timeout :attr:`Deadline.connect_s`, request timeout :attr:`Deadline.attempt_s`,
  :data:`ATTEMPTS` attempts;
- DuckDB httpfs (:mod:`k2matrix.backends.duckdb_ext`): ``http_timeout`` (whole seconds) and
  ``http_retries``;
- Glue's botocore client, the PostgreSQL catalog's ``connect_timeout`` and the REST
  catalog's HTTP timeout (:mod:`k2matrix.backends.catalog`);
- the Schema Registry client's ``timeout`` and ``max.retries``
  (:mod:`k2matrix.backends.registry`);
- librdkafka's ``socket.timeout.ms``, ``socket.connection.setup.timeout.ms``,
  ``request.timeout.ms`` and the bootstrap check (:mod:`k2matrix.backends.kafka`).

The attempts share the deadline: :data:`ATTEMPTS` attempts of :attr:`Deadline.attempt_s`
each (0.35 of it) leave 30% of it for the back-off between them and what surrounds the call
(a client's set-up, the process starting), so an endpoint that accepts connections and never
answers fails within the deadline. Measured with ``scripts/measure_faults.py`` at 10 s: an
S3 call on a silent endpoint fails after 7-8 s.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

DEFAULT_S = 10.0
MIN_S = 1.0
MAX_S = 3600.0
ATTEMPTS = 2  # a retry absorbs one dropped connection; a hung endpoint costs both attempts
_ATTEMPT_SHARE = 0.35  # of the deadline, per attempt (ATTEMPTS of them: 0.7)
BUDGET = ATTEMPTS * _ATTEMPT_SHARE


@dataclass(frozen=True)
class Deadline:
    """The deadline of one remote call and the timeouts it gives each client."""

    seconds: float = DEFAULT_S

    def __post_init__(self) -> None:
        if not MIN_S <= self.seconds <= MAX_S:
            raise ValueError(f"deadline_s = {self.seconds!r}: use {MIN_S:g} to {MAX_S:g} "
                             "seconds")

    @property
    def attempts(self) -> int:
        return ATTEMPTS

    @property
    def attempt_s(self) -> float:
        """The request timeout of one attempt (no byte for this long: the attempt fails)."""
        return self.seconds * _ATTEMPT_SHARE

    @property
    def connect_s(self) -> float:
        """The connect timeout of one attempt."""
        return min(self.attempt_s, max(1.0, self.seconds * 0.2))

    @property
    def ms(self) -> int:
        return int(self.seconds * 1000)

    @property
    def attempt_ms(self) -> int:
        return int(self.attempt_s * 1000)

    def whole_seconds(self) -> tuple[int, int]:
        """``(timeout, retries)`` for clients that take whole seconds (DuckDB's
        ``http_timeout``): the attempt rounded down, at least 1 s, and a retry only if both
        attempts still fit in the deadline."""
        timeout = max(1, math.floor(self.attempt_s))
        retries = ATTEMPTS - 1 if ATTEMPTS * timeout <= self.seconds * BUDGET else 0
        return timeout, retries

    def describe(self) -> str:
        return f"{self.seconds:g} s"
