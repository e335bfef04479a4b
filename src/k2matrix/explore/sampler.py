"""Where the search looks next: the examples it draws, as positions on each dimension
(:mod:`.space`).

- **Exploring** draws come from a scrambled Sobol sequence over the unit cube, one
  coordinate per dimension, seeded: each coordinate is uniform, so a range's position is
  uniform and its value log-uniform (integer ranges) or uniform (the others), and a choice
  is uniform over its values. Unlike independent draws, the points fill the space evenly:
  every block of 2^k consecutive points puts one point in each cell of a 2^k grid over two
  dimensions (exactly for the first two, nearly for the others), so a corner of the space
  is reached as soon as the budget can afford it.
- **Steps** (:meth:`Sampler.step`) move from an example the search chose (one of the
  best-scoring so far: how far its figure is beyond the limit, the score Hypothesis's
  ``target()`` maximized before): one dimension or all of them by a normal step of 15% of
  the range's positions, a choice redrawn with probability 0.3. This is the steering.
- A space of choices only is drawn as a seeded permutation of all its examples, the
  simplest first, so a finite space is measured once each.
"""

from __future__ import annotations

import itertools
import math
from collections.abc import Iterator, Mapping

import numpy as np

from k2matrix.explore.space import Positions, dimensions, finite_size, top
from k2matrix.matrix.properties import Choices, Property

__all__ = ["STEP", "Sampler"]

STEP = 0.15  # a step's standard deviation, as a share of a range's positions
_REDRAW = 0.3  # the chance a step redraws a choice
_BLOCK = 10  # Sobol points are drawn in blocks of 2**_BLOCK


class Sampler:
    """The draws of one search, reproducible from ``seed``."""

    def __init__(self, prop: Property, seed: int) -> None:
        self.dims = dimensions(prop)
        self.keys = list(self.dims)
        self.rng = np.random.default_rng([seed, 7])
        self._finite: Iterator[Positions] | None = None
        if finite_size(prop) is not None:
            self._finite = iter(self._permutation())
        self._sobol: object | None = None
        self._points: list[list[float]] = []
        self._seed = seed

    @property
    def finite(self) -> bool:
        return self._finite is not None

    def _permutation(self) -> list[Positions]:
        ranges = [range(top(self.dims[k]) + 1) for k in self.keys]
        every = [dict(zip(self.keys, combo, strict=True)) for combo in itertools.product(*ranges)]
        rest = every[1:]
        order = self.rng.permutation(len(rest))
        return [every[0], *[rest[i] for i in order]]

    def _unit(self) -> list[float]:
        if not self._points:
            from scipy.stats import qmc

            if self._sobol is None:
                self._sobol = qmc.Sobol(d=max(1, len(self.keys)), scramble=True,
                                        seed=np.random.default_rng([self._seed, 11]))
            assert isinstance(self._sobol, qmc.Sobol)
            self._points = self._sobol.random_base2(_BLOCK).tolist()
            self._points.reverse()
        return self._points.pop()

    def explore(self) -> Positions | None:
        """The next exploring draw (None: a finite space is exhausted)."""
        if self._finite is not None:
            return next(self._finite, None)
        unit = self._unit()
        out: Positions = {}
        for key, u in zip(self.keys, unit, strict=False):
            dim = self.dims[key]
            if isinstance(dim, Choices):
                out[key] = min(int(u * len(dim.values)), len(dim.values) - 1)
            else:
                out[key] = min(top(dim), math.floor(u * (top(dim) + 1)))
        return out

    def step(self, parent: Mapping[str, int]) -> Positions:
        """A step from ``parent``: one dimension (half the time) or every one moved."""
        moved = self.keys if self.rng.random() < 0.5 else [self.keys[
            int(self.rng.integers(len(self.keys)))]] if self.keys else []
        out = dict(parent)
        for key in moved:
            dim = self.dims[key]
            if isinstance(dim, Choices):
                if len(dim.values) > 1 and (len(moved) == 1 or self.rng.random() < _REDRAW):
                    others = [i for i in range(len(dim.values)) if i != out.get(key, 0)]
                    out[key] = int(self.rng.choice(others))
                continue
            span = top(dim)
            delta = round(float(self.rng.normal(0.0, STEP)) * span)
            out[key] = int(min(span, max(0, out.get(key, 0) + delta)))
        return out

    def choose(self, ranked: list[Positions]) -> Positions:
        """One of the best (at most three) examples to step from, ``ranked`` best first."""
        best = ranked[:3]
        return best[int(self.rng.integers(len(best)))]
