"""k2matrix: a property-driven workload matrix runner for the K2 market-data lakehouse."""

__version__ = "0.1.0"
