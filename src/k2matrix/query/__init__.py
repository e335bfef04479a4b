"""The query engine under test: the Protocol a user implements, query shapes, DuckDB and
Polars engines, datasets, references and result comparison."""
