"""Workloads: the seeded vectorized generator, edge values, and Hypothesis strategies."""
