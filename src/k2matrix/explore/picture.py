"""The picture of an exploration: the property's figure over the two dimensions of the space
that moved it most (matplotlib, Agg, as the summary draws), violations marked and the
shrunk counterexample starred. Which dimensions moved it most is the share of the variance
of the log figure that each explains (its values in quartile bins, or its choices), given
only for a dimension that enough examples vary: :data:`MIN_EXAMPLES` with a figure, and at
least two of its bins or choices with :data:`MIN_GROUP` examples each."""

from __future__ import annotations

import io
import math
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from k2matrix.explore.search import Example
from k2matrix.matrix.properties import Choices, Property, Range

__all__ = ["MIN_EXAMPLES", "MIN_GROUP", "influence", "write_picture"]

MIN_EXAMPLES, MIN_GROUP = 8, 3


def _groups(values: Sequence[Any], numeric: bool) -> list[Any]:
    if not numeric:
        return list(values)
    ordered = sorted(values)
    cuts = [ordered[int(len(ordered) * q)] for q in (0.25, 0.5, 0.75)] if ordered else []
    return [sum(v > c for c in cuts) for v in values]


def influence(prop: Property, examples: Sequence[Example]) -> list[tuple[str, float]]:
    """Each dimension enough examples vary, with the share of the log figure's variance it
    explains, largest first (examples whose figure could be computed); [] when too few."""
    scored = [e for e in examples if e.evaluation is not None and e.evaluation.figure > 0]
    if len(scored) < MIN_EXAMPLES:
        return []
    ys = [math.log(e.evaluation.figure) if e.evaluation else 0.0 for e in scored]
    mean = sum(ys) / len(ys)
    total = sum((y - mean) ** 2 for y in ys) or 1.0
    out = []
    for key, dim in prop.space.items():
        groups = _groups([e.params.get(key) for e in scored], isinstance(dim, Range))
        by: dict[Any, list[float]] = {}
        for g, y in zip(groups, ys, strict=True):
            by.setdefault(g, []).append(y)
        if sum(len(v) >= MIN_GROUP for v in by.values()) < 2:
            continue  # too few examples vary it to say
        between = sum(len(v) * (sum(v) / len(v) - mean) ** 2 for v in by.values())
        out.append((key, between / total))
    return sorted(out, key=lambda kv: -kv[1])


def _coords(dim: Any, values: Sequence[Any]) -> list[float]:
    if isinstance(dim, Choices):
        return [float(list(dim.values).index(v)) if v in dim.values else -1.0 for v in values]
    return [float(v) for v in values]


def write_picture(prop: Property, examples: Sequence[Example], shrunk: Example | None,
                  path: Path) -> Path | None:
    """Write the PNG; None when fewer than two examples have a figure."""
    ranked = [k for k, _ in influence(prop, examples)]
    ranked += [k for k in prop.space if k not in ranked]  # the unranked in the space's order
    scored = [e for e in examples if e.evaluation is not None]
    if len(scored) < 2 or not ranked:
        return None
    import matplotlib

    matplotlib.use("Agg", force=False)
    from matplotlib.colors import LogNorm
    from matplotlib.figure import Figure

    xkey = ranked[0]
    ykey = ranked[1] if len(ranked) > 1 else None
    fig = Figure(figsize=(8.0, 5.5), layout="constrained")
    ax = fig.add_subplot()
    xs = _coords(prop.space[xkey], [e.params.get(xkey) for e in scored])
    ys = (_coords(prop.space[ykey], [e.params.get(ykey) for e in scored]) if ykey
          else [0.0] * len(scored))
    figures = [max(1e-12, e.evaluation.figure) if e.evaluation else 1e-12 for e in scored]
    positive = min(figures) > 0 and prop.kind != "scaling"
    points = ax.scatter(xs, ys, c=figures, cmap="viridis", s=36,
                        norm=LogNorm() if positive else None)
    bad = [(x, y) for x, y, e in zip(xs, ys, scored, strict=True) if e.violated]
    if bad:
        ax.scatter([b[0] for b in bad], [b[1] for b in bad], facecolors="none",
                   edgecolors="red", s=90, label="violates (repeated)")
    noisy = [(x, y) for x, y, e in zip(xs, ys, scored, strict=True) if e.status == "noise"]
    if noisy:
        ax.scatter([b[0] for b in noisy], [b[1] for b in noisy], marker="x", c="grey",
                   s=60, label="violated once (noise)")
    if shrunk is not None and shrunk.evaluation is not None:
        sx = _coords(prop.space[xkey], [shrunk.params.get(xkey)])[0]
        sy = _coords(prop.space[ykey], [shrunk.params.get(ykey)])[0] if ykey else 0.0
        ax.scatter([sx], [sy], marker="*", s=300, c="red", label="shrunk counterexample")
    for key, axis in ((xkey, ax.xaxis), (ykey, ax.yaxis)):
        dim = prop.space.get(key) if key else None
        if isinstance(dim, Choices):
            axis.set_ticks(range(len(dim.values)), [str(v) for v in dim.values])
        elif isinstance(dim, Range) and dim.log:
            (ax.set_xscale if axis is ax.xaxis else ax.set_yscale)("log")
    what = {"bound": prop.metric, "scaling": "log-log exponent"}.get(prop.kind,
                                                                      "cost ratio")
    fig.colorbar(points, ax=ax, label=what)
    ax.set_xlabel(xkey)
    ax.set_ylabel(ykey or "")
    ax.set_title(f"{prop.name}: {what} over the two dimensions that moved it most")
    ax.grid(True, alpha=0.3)
    if bad or noisy or shrunk is not None:
        ax.legend(fontsize="x-small")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=100)
    path.write_bytes(buf.getvalue())
    return path
