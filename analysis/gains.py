"""The verdict on one marginal ImageNet gain: real, a lottery win, or not established.

Rule (documented in docs/statistics.md), at level alpha. Every test is two-sided and rejects
when its adjusted p-value is strictly below alpha (`significant`): the reference test adjusted
over all gains in the report, each variant's over that gain's variants.
0. "reference gain negative": B scores higher than A on the reference (a --pair named the worse
   model first); the report names the better model and says whether its lead is significant.
1. "reversed on variants": A's reference lead is not significant, but at least one variant
   significantly reverses it.
2. "not significant on reference": the reference gain is zero or not significant, and no
   variant reverses it.
3. "lottery win": significant on the reference, but at least one variant reverses it.
4. "real gain": significant on the reference and it holds on every variant: the
   intersection-union test (Berger 1982) over the variants' adjusted p-values, so "real gain"
   is exactly "holds on every variant" (conservative: the IUT alone would need no adjustment).
5. "unconfirmed": significant on the reference, reversed nowhere, not holding everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.multiplicity import adjust, intersection_union

NOT_SIGNIFICANT = "not significant on reference"
REVERSED_ON_VARIANTS = "reversed on variants"  # only where the reference lead is not significant
LOTTERY_WIN = "lottery win"
REAL_GAIN = "real gain"
UNCONFIRMED = "unconfirmed"
REFERENCE_NEGATIVE = "reference gain negative"
VERDICTS = (
    REAL_GAIN,
    LOTTERY_WIN,
    UNCONFIRMED,
    NOT_SIGNIFICANT,
    REVERSED_ON_VARIANTS,
    REFERENCE_NEGATIVE,
)

HOLDS = "holds"
REVERSES = "reverses"
INCONCLUSIVE = "inconclusive"


@dataclass(frozen=True)
class VariantOutcome:
    dataset: str
    delta: float
    p_value: float
    p_adjusted: float
    outcome: str  # holds | reverses | inconclusive
    below_detectable: bool  # the reference gain is smaller than this variant's MDD


@dataclass(frozen=True)
class Verdict:
    verdict: str
    p_all_variants: float  # intersection-union p of "holds on every variant" (adjusted p's)
    outcomes: list[VariantOutcome]
    adjust_method: str


def significant(p_adjusted: float | None, alpha: float) -> bool:
    """The one decision rule of the project: reject when the adjusted p-value is below alpha
    (a missing p-value never rejects). The report's verdicts and the explorer's use it."""
    return p_adjusted is not None and bool(p_adjusted < alpha)


def direction(delta: float | None, p_adjusted: float | None, alpha: float) -> int:
    """+1 when A is significantly better, -1 when significantly worse, 0 otherwise."""
    if delta is None or not significant(p_adjusted, alpha) or delta == 0:
        return 0
    return 1 if delta > 0 else -1


def holds_everywhere_p(sign: int, deltas: np.ndarray, p_adjusted: np.ndarray) -> float:
    """Intersection-union p of "every variant holds the reference order": the largest adjusted
    p-value, 1 where a variant's delta is not in the reference's direction; NaN with no variant.
    It is below alpha exactly when every variant's outcome is "holds"."""
    if not len(deltas):
        return float("nan")
    along = np.sign(deltas) == sign
    return intersection_union(np.where(along, p_adjusted, 1.0))


def verdict(
    reference_delta: float,
    reference_p_adjusted: float,
    variants: list[str],
    deltas: np.ndarray,
    p_values: np.ndarray,
    mdd: np.ndarray,
    *,
    alpha: float = 0.05,
    method: str = "holm",
) -> Verdict:
    deltas = np.asarray(deltas, dtype=float)
    p_values = np.asarray(p_values, dtype=float)
    adjusted = adjust(p_values, method).p_values if len(variants) else np.array([])
    sign = -1 if reference_delta < 0 else 1  # outcomes are relative to the reference order
    outcomes = []
    for name, delta, p, p_adj, floor in zip(variants, deltas, p_values, adjusted, mdd, strict=True):
        outcome = {sign: HOLDS, -sign: REVERSES, 0: INCONCLUSIVE}[direction(delta, p_adj, alpha)]
        below = bool(abs(reference_delta) < floor)
        outcomes.append(VariantOutcome(name, float(delta), float(p), float(p_adj), outcome, below))
    p_all = holds_everywhere_p(sign, deltas, adjusted)
    reversed_somewhere = any(o.outcome == REVERSES for o in outcomes)
    if reference_delta < 0:
        label = REFERENCE_NEGATIVE
    elif direction(reference_delta, reference_p_adjusted, alpha) != 1:
        label = (
            REVERSED_ON_VARIANTS if reference_delta > 0 and reversed_somewhere else NOT_SIGNIFICANT
        )
    elif reversed_somewhere:
        label = LOTTERY_WIN
    elif significant(p_all, alpha):
        label = REAL_GAIN
    else:
        label = UNCONFIRMED
    return Verdict(label, float(p_all), outcomes, method)
