"""Worked examples of plugging your own implementations into k2matrix: a producer on
confluent-kafka's SerializingProducer, a writer on plain pyiceberg ``Table.append`` and a query
engine that scans with pyiceberg to Arrow and computes in DuckDB. See ../README.md."""
