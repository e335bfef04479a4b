"""The producer under test: the Protocol a user implements, the K2 producer on confluent-kafka,
its delivery accounting, read-back verification and bench helpers."""
