"""The matrix: ``matrix.toml`` read and validated (:mod:`.load`) into the data model
(:mod:`.model`) that expands a profile into cells. This face re-exports the public names."""

from k2matrix.matrix.load import load_matrix, parse_matrix
from k2matrix.matrix.model import (
    DATA_DEFAULTS,
    METRICS,
    WORKLOAD_DEFAULTS,
    CaseDef,
    Matrix,
    Profile,
    Target,
)
from k2matrix.matrix.properties import Choices, Property, Range

__all__ = [
    "DATA_DEFAULTS", "METRICS", "WORKLOAD_DEFAULTS", "CaseDef", "Choices", "Matrix", "Profile",
    "Property", "Range", "Target",
    "load_matrix", "parse_matrix",
]
