"""How numbers are written wherever people read them (report, CLI, explorer): one place, so a
p-value reads the same in the terminal, the markdown and the TUI."""

from __future__ import annotations

import math

P_FLOOR = 1e-300
"""Below this a double is subnormal or zero: written "< 1e-300", never 0."""


def format_p(x: float | None) -> str:
    """A p-value: 4 decimals, scientific below 0.001, "< 1e-300" below the floor."""
    if x is None or not math.isfinite(x):
        return "n/a"
    if x < P_FLOOR:
        return f"< {P_FLOOR:.0e}"
    return f"{x:.2e}" if x < 1e-3 else f"{x:.4f}"
