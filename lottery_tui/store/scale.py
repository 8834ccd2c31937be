"""Percent or fraction? Accuracy files come both ways; the store keeps percent."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from lottery_tui.errors import InputError

# All values <= 1 read as fractions only if one of them is at least this large: a percent file
# whose every model scores below 1 % is near chance (0.1 % on 1,000 classes), and a fraction file
# whose every model scores below 10 % is rare; between the two the file is refused as ambiguous.
FRACTION_EVIDENCE = 0.1


@dataclass(frozen=True)
class Accuracy:
    """One accuracy value with where it came from, for error messages."""

    value: float
    line: int
    column: str


def detect_scale(values: Sequence[Accuracy], path: Path, forced: str | None = None) -> float:
    """The factor that turns the file's values into percent (1 or 100), after range checks.

    `forced` ('percent' or 'fraction') skips detection for files the rule cannot decide.
    """
    for acc in values:
        if acc.value < 0:
            raise InputError(f"accuracy {acc.value:g} is negative", path, acc.line, acc.column)
    if forced is not None:
        factor = 1.0 if forced == "percent" else 100.0
    elif any(acc.value > 1 for acc in values):
        factor = 1.0
    elif any(acc.value >= FRACTION_EVIDENCE for acc in values):
        factor = 100.0
    else:
        raise InputError(
            "ambiguous scale: every accuracy is below 0.1, so they could be fractions or "
            "percentages; pass --scale percent or --scale fraction",
            path,
        )
    limit = 100.0 / factor
    for acc in values:
        if acc.value > limit:
            unit = "100 %" if factor == 1 else "1 (fractions)"
            raise InputError(f"accuracy {acc.value:g} is above {unit}", path, acc.line, acc.column)
    return factor


def to_percent(value: float, factor: float) -> float:
    """Scale to percent without binary noise (0.81 * 100 is 81.00000000000001)."""
    return round(value * factor, 9)
