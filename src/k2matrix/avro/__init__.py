"""Avro encoders of the trade schemas: primitives, checked, schema-compiled, and vectorized
from Arrow (byte-identical to fastavro)."""
