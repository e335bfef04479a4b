"""The Schema Registry: the client's in-memory registry for ``mock://`` URLs, the real
client otherwise.

``SchemaRegistryClient.new_client({"url": "mock://…"})`` returns a
``MockSchemaRegistryClient`` (the plain constructor would try HTTP). Each mock client keeps
its own store, so :func:`open_registry` returns one client per ``mock://`` URL in a process:
like a real registry, every client opened on it sees the same subjects.

Subjects: every subject registered through :func:`register_avro` is remembered with the
client, and :func:`delete_registered` deletes them (soft, then permanent) at the end of a
sweep, so a sweep against a shared registry leaves none behind (``--k2-keep-subjects`` keeps
them).

The real client gets the deadline (``[backends] deadline_s``): ``timeout`` per attempt and
one retry; a registry that does not answer or refuses is
:class:`~k2matrix.backends.faults.ServiceUnavailable` naming its URL.
"""

from __future__ import annotations

import json
from typing import Any
from weakref import WeakKeyDictionary

from confluent_kafka.schema_registry import Schema, SchemaRegistryClient
from confluent_kafka.schema_registry.error import SchemaRegistryError

from k2matrix.backends.config import SchemaRegistryConfig, redact, secret_from_env
from k2matrix.backends.deadline import ATTEMPTS, Deadline
from k2matrix.backends.faults import service_fault
from k2matrix.errors import BackendError
from k2matrix.schemas import avro_schema

_OPENED: WeakKeyDictionary[SchemaRegistryClient, SchemaRegistryConfig] = WeakKeyDictionary()
_REGISTERED: WeakKeyDictionary[SchemaRegistryClient, set[str]] = WeakKeyDictionary()
_MOCKS: dict[str, SchemaRegistryClient] = {}  # the in-memory registry of each mock:// URL
REGISTRY_FIX = ("check that the Schema Registry is running and answering there "
                "(backends.schema_registry.url, K2_SCHEMA_REGISTRY_URL)")


def client_config(config: SchemaRegistryConfig) -> dict[str, Any]:
    """The client's configuration: the URL, basic auth from ``config.basic_auth_env``, and
    the deadline's ``timeout`` (seconds per attempt) and ``max.retries``."""
    deadline = Deadline(config.deadline_s)
    conf: dict[str, Any] = {"url": config.url, "timeout": deadline.attempt_s,
                            "max.retries": ATTEMPTS - 1}
    auth = config.user_info()
    if auth:
        conf["basic.auth.user.info"] = auth
    return conf


def open_registry(config: SchemaRegistryConfig) -> SchemaRegistryClient:
    """A registry client for ``config.url`` (see :func:`client_config`); the process's one
    client of a ``mock://`` URL."""
    if config.url.startswith("mock://") and config.url in _MOCKS:
        return _MOCKS[config.url]
    try:
        client = SchemaRegistryClient.new_client(client_config(config))
    except (ValueError, SchemaRegistryError) as exc:
        raise BackendError(f"Schema Registry {redact(config.url)}: {exc}") from None
    _OPENED[client] = config
    if config.url.startswith("mock://"):
        _MOCKS[config.url] = client
    return client


def _fault(client: SchemaRegistryClient, exc: Exception, doing: str) -> BackendError:
    config = _OPENED.get(client, SchemaRegistryConfig(url="(a client k2matrix did not open)"))
    fault = service_fault(exc, "Schema Registry", redact(config.url), REGISTRY_FIX,
                          Deadline(config.deadline_s),
                          [secret_from_env(name) for name in config.env_names()],
                          doing)
    if fault is not None:
        return fault
    return BackendError(f"Schema Registry {redact(config.url)} failed while {doing}: "
                        f"{type(exc).__name__}: {exc}")


def subject_for(topic: str) -> str:
    """The TopicNameStrategy subject of a topic's values."""
    return f"{topic}-value"


def avro_schema_str(schema_name: str) -> str:
    """The K2 Avro schema ``schema_name`` as the registry stores it."""
    return json.dumps(avro_schema(schema_name), separators=(",", ":"))


def register_avro(client: SchemaRegistryClient, subject: str, schema_name: str) -> int:
    """Register the K2 schema under ``subject`` and return its id (idempotent); the subject
    is remembered for :func:`delete_registered`."""
    try:
        schema_id = int(client.register_schema(subject,
                                               Schema(avro_schema_str(schema_name), "AVRO")))
    except SchemaRegistryError as exc:
        raise BackendError(f"cannot register schema {schema_name!r} under {subject!r}: "
                           f"{exc}") from None
    except Exception as exc:  # connection refused, DNS, TLS … from the HTTP client
        raise _fault(client, exc, f"registering {subject!r}") from None
    _REGISTERED.setdefault(client, set()).add(subject)
    return schema_id


def handed_out(client: SchemaRegistryClient, subject: str) -> None:
    """Note ``subject`` as the sweep's, registered through ``client`` or not: a plug-in told
    to use it may register it with a client of its own; :func:`delete_registered` deletes it
    (one that was never registered reads as already gone)."""
    _REGISTERED.setdefault(client, set()).add(subject)


def registered(client: SchemaRegistryClient) -> set[str]:
    """The subjects registered through ``client`` and not deleted yet."""
    return set(_REGISTERED.get(client, ()))


def delete_registered(client: SchemaRegistryClient) -> int:
    """Delete every subject registered through ``client`` (soft, then permanent: a
    registry refuses a permanent delete first); the number deleted. A subject already gone
    counts as deleted; any other failure is a BackendError naming the subject."""
    subjects = _REGISTERED.get(client, set())
    deleted = 0
    for subject in sorted(subjects):
        for permanent in (False, True):
            try:
                client.delete_subject(subject, permanent=permanent)
            except SchemaRegistryError as exc:
                if exc.http_status_code != 404:
                    raise BackendError(f"cannot delete subject {subject!r}: {exc}") from None
            except Exception as exc:
                raise _fault(client, exc, f"deleting subject {subject!r}") from None
        subjects.discard(subject)
        deleted += 1
    return deleted


def writer_schema(client: SchemaRegistryClient, schema_id: int) -> dict[str, Any]:
    """The Avro schema registered under ``schema_id`` (as a dict, for any Avro reader)."""
    try:
        schema = client.get_schema(schema_id)
    except SchemaRegistryError as exc:
        raise BackendError(f"schema id {schema_id} is not in the registry: {exc}") from None
    except Exception as exc:
        raise _fault(client, exc, f"reading schema id {schema_id}") from None
    parsed: dict[str, Any] = json.loads(schema.schema_str or "null")
    return parsed


def registry_round_trip(client: SchemaRegistryClient, subject: str) -> None:
    """Register the V2 schema under a scratch ``subject``, read it back, delete the subject
    (the preflight check). BackendError on failure."""
    schema_id = register_avro(client, subject, "v2")
    try:
        writer_schema(client, schema_id)
    finally:
        try:
            client.delete_subject(subject, permanent=False)
            client.delete_subject(subject, permanent=True)
        except Exception as exc:
            raise _fault(client, exc, f"deleting the scratch subject {subject!r}") from None
