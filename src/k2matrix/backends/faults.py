"""A remote service that did not answer, or refused the connection, as k2matrix's own error:
:class:`ServiceUnavailable` (a :class:`~k2matrix.errors.BackendError`) naming the service, its
endpoint and the fix, never a secret.

The clients raise their own errors for the same fault: pyarrow an ``OSError`` ("AWS Error
NETWORK_CONNECTION … curlCode: 28, Timeout was reached"), DuckDB an ``IOException`` ("Could
not connect to server error for HTTP HEAD"), Polars a ``TimeoutError`` or
``ConnectionRefusedError`` from object_store, botocore an ``EndpointConnectionError`` or
``ReadTimeoutError``, SQLAlchemy an ``OperationalError``, httpx and requests their
``ConnectError`` / ``ReadTimeout``. :func:`storage_fault` and :func:`service_fault`
recognize them by class and message (no client is imported here), and :func:`boundary` turns
them into :class:`ServiceUnavailable` where k2matrix hands work to a component: errors of
another kind pass through unchanged.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Iterator
from contextlib import contextmanager

from k2matrix.backends.deadline import Deadline
from k2matrix.backends.storage_config import StorageConfig
from k2matrix.errors import BackendError, K2Error

_TIMEOUT = re.compile(r"timeout was reached|timed out|timeout expired|operation too slow|"
                      r"curlcode: 28|readtimeout|connecttimeout|read timeout|"
                      r"connect timeout|deadline", re.IGNORECASE)
_REFUSED = re.compile(r"connection refused|couldn't connect|could not connect|"
                      r"curlcode: 7\b|failed to connect|tcp connect error|"
                      r"connection reset|connection aborted|broken pipe|"
                      r"could not establish connection|remote end closed|"
                      r"connection was closed|server closed the connection|"
                      r"name or service not known|could not resolve|"
                      r"curlcode: 6\b|error sending request|network_connection|"
                      r"endpointconnectionerror|connecterror|connectionerror",
                      re.IGNORECASE)
# exception classes that are a network fault whatever their message
_NETWORK_CLASSES = {"TimeoutError", "ConnectionRefusedError", "ConnectionResetError",
                    "ConnectionAbortedError", "BrokenPipeError", "EndpointConnectionError",
                    "ConnectTimeoutError", "ReadTimeoutError", "ConnectionClosedError",
                    "ConnectError", "ConnectTimeout", "ReadTimeout", "WriteTimeout",
                    "PoolTimeout", "RemoteProtocolError", "Timeout"}
# exception classes that may carry a network fault in their message
_MAYBE_CLASSES = {"OSError", "IOException", "HTTPException", "ComputeError",
                  "OperationalError", "ConnectionError", "InterfaceError", "KafkaException",
                  "ClientError", "HTTPError", "RequestException", "ProtocolError"}


class ServiceUnavailable(BackendError):
    """A remote service that did not answer within the deadline or refused the connection;
    names the service, the endpoint and the fix."""

    def __init__(self, service: str, endpoint: str, problem: str, detail: str,
                 fix: str) -> None:
        self.service = service
        self.endpoint = endpoint
        self.problem = problem
        self.detail = detail
        self.fix = fix
        cause = f" ({detail})" if detail else ""
        super().__init__(f"{service} at {endpoint} {problem}{cause}; fix: {fix}")


def scrub(text: str, config: StorageConfig) -> str:
    """``text`` with every secret of ``config`` replaced by ``***``."""
    return scrub_all(text, config.secrets())


def scrub_all(text: str, secrets: Iterable[str | None]) -> str:
    for secret in secrets:
        if secret:
            text = text.replace(secret, "***")
    return text


def where(config: StorageConfig) -> str:
    return f"S3 endpoint {config.endpoint or 'embedded'} bucket {config.bucket!r}"


def first_line(exc: BaseException, limit: int = 300) -> str:
    """The first non-empty line of ``exc``'s message (or its class name), at most ``limit``
    characters."""
    lines = [line.strip() for line in str(exc).splitlines() if line.strip()]
    text = lines[0] if lines else type(exc).__name__
    return text if len(text) <= limit else text[:limit - 1] + "…"


def _chain(exc: BaseException) -> Iterator[BaseException]:
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        seen.add(id(current))
        yield current
        current = current.__cause__ or current.__context__


def network_problem(exc: BaseException, deadline: Deadline) -> str | None:
    """``"did not answer within 10 s"`` or ``"cannot be reached (…)"`` when ``exc`` (or an
    error it was raised from) is a network fault of a client; None for any other error."""
    for err in _chain(exc):
        if isinstance(err, K2Error):
            return None
        name = type(err).__name__
        text = f"{name}: {err}"
        candidate = name in _MAYBE_CLASSES or isinstance(err, OSError)
        matched = _TIMEOUT.search(text) or _REFUSED.search(text)
        if name in _NETWORK_CLASSES or (candidate and matched):
            if _TIMEOUT.search(text) or "timeout" in name.lower():
                return f"did not answer within {deadline.describe()}"
            return "cannot be reached (it refused or dropped the connection)"
    return None


def service_fault(exc: BaseException, service: str, endpoint: str, fix: str,
                  deadline: Deadline, secrets: Iterable[str | None] = (), doing: str = ""
                  ) -> ServiceUnavailable | None:
    """:class:`ServiceUnavailable` for a network fault of ``service`` at ``endpoint``, else
    None. ``fix`` says what to check (the deadline's own remedy is added to timeouts);
    ``doing`` what k2matrix was doing (it leads the client's own words)."""
    problem = network_problem(exc, deadline)
    if problem is None:
        return None
    if problem.startswith("did not answer"):
        fix += ("; if it is up but slow, raise [backends] deadline_s (K2_DEADLINE_S, now "
                f"{deadline.describe()})")
    detail = scrub_all(first_line(exc), secrets)
    return ServiceUnavailable(service, endpoint, problem,
                              f"{doing}: {detail}" if doing else detail, fix)


STORAGE_FIX = ("check that the S3 server is running and answering there "
               "(backends.storage.endpoint, K2_S3_ENDPOINT)")


def storage_fault(exc: BaseException, config: StorageConfig, doing: str = ""
                  ) -> ServiceUnavailable | None:
    """:class:`ServiceUnavailable` naming S3, the endpoint and the bucket for a network
    fault of any S3 client (pyarrow, pyiceberg's FileIO, DuckDB httpfs, Polars), else None."""
    endpoint = f"{config.endpoint or 'embedded'} (bucket {config.bucket!r})"
    return service_fault(exc, "S3", endpoint, STORAGE_FIX, Deadline(config.deadline_s),
                         config.secrets(), doing)


@contextmanager
def boundary(storage: StorageConfig | None) -> Iterator[None]:
    """Where k2matrix hands work to a component that reaches S3 on ``storage``: a network
    fault of an S3 client raised inside becomes :class:`ServiceUnavailable`; any other error
    passes through unchanged (and nothing is done without an S3 storage)."""
    try:
        yield
    except K2Error:
        raise
    except Exception as exc:
        fault = storage_fault(exc, storage) if storage is not None and (
            storage.kind == "s3") else None
        if fault is None:
            raise
        raise fault from None


def is_fault(exc: BaseException) -> bool:
    """Whether ``exc`` is a service that did not answer or refused (translated or not)."""
    return isinstance(exc, ServiceUnavailable) or network_problem(exc, Deadline()) is not None
