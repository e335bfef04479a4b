"""The writer under test: the Protocol a user implements, the Iceberg writer on pyiceberg,
layouts, conversion, buffering, verification and bench helpers."""
