"""Avro serializers in the Confluent wire format (magic byte 0, 4-byte schema id, Avro
body), one per implementation measured:

- ``compiled``: the schema-specialized encoder (:mod:`avro_compiled`), the default;
- ``fastavro``: fastavro's ``schemaless_writer`` plus the 5-byte header;
- ``confluent``: the client's own ``AvroSerializer`` (fastavro underneath, plus its
  per-call schema lookups and rule machinery);
- ``arrow``: batches converted to Arrow and encoded column-wise by numpy
  (:mod:`avro_arrow`). Arrow tables themselves go through
  :meth:`K2Producer.serialize_table <k2matrix.producer.k2producer.K2Producer.serialize_table>`,
  whatever the serializer.

Each registers the schema once, when it is made, and keeps its writer; a
:class:`SerializerCache` keeps serializers per (registry, topic, schema, kind) so that a
warm produce path never registers or compiles again.
"""

from __future__ import annotations

import io
from collections.abc import Iterable, Mapping
from typing import Any, Protocol

import fastavro
import pyarrow as pa
from confluent_kafka.schema_registry import SchemaRegistryClient
from confluent_kafka.schema_registry.avro import AvroSerializer
from confluent_kafka.serialization import MessageField, SerializationContext

from k2matrix.avro.arrow import ArrowEncoder
from k2matrix.avro.checked import CheckedEncoder
from k2matrix.avro.compiled import CompiledEncoder
from k2matrix.avro.primitives import confluent_header
from k2matrix.backends.registry import avro_schema_str, register_avro, subject_for
from k2matrix.errors import K2Error, WorkloadError
from k2matrix.schemas import avro_schema, records_to_arrow

SERIALIZERS = ("compiled", "arrow", "fastavro", "confluent")
Record = Mapping[str, Any]


class Serializer(Protocol):
    """Turns K2 dict records of one schema into Confluent wire-format values."""

    kind: str
    schema_name: str
    schema_id: int

    def serialize(self, record: Record) -> bytes: ...

    def serialize_many(self, records: Iterable[Record]) -> list[bytes]: ...


class CompiledSerializer:
    kind = "compiled"

    def __init__(self, registry: SchemaRegistryClient, topic: str, schema_name: str) -> None:
        self.schema_name = schema_name
        self.schema_id = register_avro(registry, subject_for(topic), schema_name)
        self.encoder = CompiledEncoder(schema_name, header=confluent_header(self.schema_id))
        self.serialize = self.encoder.encode
        self.serialize_many = self.encoder.encode_many


class ArrowSerializer:
    """Vectorized: one numpy pass per batch. Single records go through the compiled
    encoder (a one-row table costs more than it saves)."""

    kind = "arrow"
    batch_rows = 8192  # vectorizing pays off on large batches

    def __init__(self, registry: SchemaRegistryClient, topic: str, schema_name: str) -> None:
        self.schema_name = schema_name
        self.schema_id = register_avro(registry, subject_for(topic), schema_name)
        header = confluent_header(self.schema_id)
        self.encoder = ArrowEncoder(schema_name, header=header)
        self._compiled = CompiledEncoder(schema_name, header=header)
        self.serialize = self._compiled.encode

    def serialize_many(self, records: Iterable[Record]) -> list[bytes]:
        batch = list(records)
        try:
            table = records_to_arrow(batch, self.schema_name)  # type: ignore[arg-type]
        except (pa.ArrowException, TypeError, ValueError, KeyError, AttributeError):
            return self._compiled.encode_many(batch)  # names the bad field and row
        return self.encoder.encode_table(table)


class _Generic:
    """Shared by the generic writers: bad records are re-checked to name the field."""

    kind = ""

    def __init__(self, schema_name: str) -> None:
        self.schema_name = schema_name
        self._checked = CheckedEncoder(schema_name)

    def serialize(self, record: Record) -> bytes:  # pragma: no cover - overridden
        raise NotImplementedError

    def serialize_many(self, records: Iterable[Record]) -> list[bytes]:
        return [self.serialize(r) for r in records]

    def _bad(self, record: Record, exc: Exception) -> K2Error:
        if isinstance(exc, K2Error):
            return exc
        try:
            self._checked.encode(record)
        except WorkloadError as precise:
            return precise
        return WorkloadError(f"{self.kind} serializer rejected a {self.schema_name} record: "
                             f"{type(exc).__name__}: {exc}")


class FastavroSerializer(_Generic):
    kind = "fastavro"

    def __init__(self, registry: SchemaRegistryClient, topic: str, schema_name: str) -> None:
        super().__init__(schema_name)
        self.schema_id = register_avro(registry, subject_for(topic), schema_name)
        self._header = confluent_header(self.schema_id)
        self._parsed = fastavro.parse_schema(avro_schema(schema_name))

    def serialize(self, record: Record) -> bytes:
        buf = io.BytesIO()
        buf.write(self._header)
        try:
            fastavro.schemaless_writer(buf, self._parsed, record)
        except Exception as exc:
            raise self._bad(record, exc) from None
        return buf.getvalue()


class ConfluentSerializer(_Generic):
    kind = "confluent"

    def __init__(self, registry: SchemaRegistryClient, topic: str, schema_name: str) -> None:
        super().__init__(schema_name)
        self.schema_id = register_avro(registry, subject_for(topic), schema_name)
        self._serializer = AvroSerializer(registry, avro_schema_str(schema_name),
                                          conf={"auto.register.schemas": True})
        self._ctx = SerializationContext(topic, MessageField.VALUE)

    def serialize(self, record: Record) -> bytes:
        try:
            out: bytes | None = self._serializer(dict(record), self._ctx)
        except Exception as exc:
            raise self._bad(record, exc) from None
        assert out is not None
        return out


def make_serializer(kind: str, registry: SchemaRegistryClient, topic: str,
                    schema_name: str) -> Serializer:
    """A new serializer of ``kind`` (one of :data:`SERIALIZERS`); registers the schema."""
    if kind == "compiled":
        return CompiledSerializer(registry, topic, schema_name)
    if kind == "arrow":
        return ArrowSerializer(registry, topic, schema_name)
    if kind == "fastavro":
        return FastavroSerializer(registry, topic, schema_name)
    if kind == "confluent":
        return ConfluentSerializer(registry, topic, schema_name)
    raise WorkloadError(f"serializer={kind!r}: unknown; use one of {', '.join(SERIALIZERS)}")


class SerializerCache:
    """Serializers kept per (registry, topic, schema, kind): registered and compiled once."""

    def __init__(self) -> None:
        self._cache: dict[tuple[int, str, str, str], Serializer] = {}

    def get(self, kind: str, registry: SchemaRegistryClient, topic: str,
            schema_name: str) -> Serializer:
        key = (id(registry), topic, schema_name, kind)
        serializer = self._cache.get(key)
        if serializer is None:
            serializer = make_serializer(kind, registry, topic, schema_name)
            self._cache[key] = serializer
        return serializer

    def clear(self) -> None:
        self._cache.clear()

    def __len__(self) -> int:
        return len(self._cache)
