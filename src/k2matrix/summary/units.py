"""How the summary writes a figure for people: seconds, instruction counts, plain numbers
with K/M/G, percentages and ratios (``11x``); None, NaN and inf as ``-``."""

from __future__ import annotations

import math
from typing import Any


def finite(value: Any) -> bool:
    """A finite int or float (None, NaN, inf and non-numbers are shown as '-')."""
    return isinstance(value, int | float) and math.isfinite(value)


def fmt_seconds(value: Any) -> str:
    """0.0123 -> '12.3 ms'."""
    if not finite(value):
        return "-"
    v = float(value)
    for scale, unit in ((1.0, "s"), (1e-3, "ms"), (1e-6, "µs")):
        if abs(v) >= scale:
            return f"{v / scale:.3g} {unit}"
    return f"{v / 1e-9:.3g} ns" if v else "0 s"


def fmt_count(value: Any) -> str:
    """13_357_475 -> '13.4M instr'."""
    if not finite(value):
        return "-"
    v = float(value)
    for scale, unit in ((1e9, "G"), (1e6, "M"), (1e3, "k")):
        if abs(v) >= scale:
            return f"{v / scale:.4g}{unit} instr"
    return f"{v:.0f} instr"


def fmt_number(value: Any, digits: int = 3) -> str:
    """12345 -> '12.3K'; None -> '-'."""
    if not finite(value):
        return "-"
    v = float(value)
    for scale, suffix in ((1e9, "G"), (1e6, "M"), (1e3, "K")):
        if abs(v) >= scale:
            return f"{v / scale:.{digits}g}{suffix}"
    return f"{v:.{digits}g}"


def fmt_percent(value: Any) -> str:
    if not finite(value):
        return "-"
    return f"{value:+.1%}"


def fmt_times(ratio: Any) -> str:
    """11.1 -> '11x', 2.43 -> '2.4x', 1.005 -> '1.01x' (a ratio such as a headroom)."""
    if not isinstance(ratio, int | float) or math.isnan(ratio):
        return "-"
    if math.isinf(ratio):
        return "unbounded"
    if ratio >= 10:
        return f"{ratio:.0f}x"
    return f"{ratio:.2f}x" if 0.9 < ratio < 1.1 else f"{ratio:.1f}x"
