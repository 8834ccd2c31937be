"""The verdict on one marginal ImageNet gain: real, a lottery win, or not established.

Rule (documented in docs/statistics.md), at level alpha:
0. "reference gain negative": B scores higher than A on the reference (a --pair named the worse
   model first); the report names the better model and says whether its lead is significant.
1. "not significant on reference": the reference gain is zero or its family-adjusted
   p-value (over all marginal gains in the report) is >= alpha.
2. "lottery win": significant on the reference, but at least one variant reverses it with a
   multiplicity-adjusted (over that pair's variants) p-value < alpha.
3. "real gain": significant on the reference and better on every variant by the
   intersection-union test (every one-sided p <= alpha; Berger 1982, no correction needed).
4. "unconfirmed": significant on the reference, reversed nowhere, confirmed not everywhere.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.multiplicity import adjust, intersection_union

NOT_SIGNIFICANT = "not significant on reference"
LOTTERY_WIN = "lottery win"
REAL_GAIN = "real gain"
UNCONFIRMED = "unconfirmed"
REFERENCE_NEGATIVE = "reference gain negative"
VERDICTS = (REAL_GAIN, LOTTERY_WIN, UNCONFIRMED, NOT_SIGNIFICANT, REFERENCE_NEGATIVE)

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
    p_all_variants: float  # intersection-union p-value of "better on every variant"
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


def one_sided(delta: float, p_two_sided: float) -> float:
    """One-sided p for "A better" from a symmetric two-sided test."""
    half = p_two_sided / 2
    return half if delta > 0 else 1 - half


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
    p_all = (
        intersection_union([one_sided(d, p) for d, p in zip(deltas, p_values, strict=True)])
        if len(variants)
        else float("nan")
    )
    if reference_delta < 0:
        label = REFERENCE_NEGATIVE
    elif direction(reference_delta, reference_p_adjusted, alpha) != 1:
        label = NOT_SIGNIFICANT
    elif any(o.outcome == REVERSES for o in outcomes):
        label = LOTTERY_WIN
    elif len(variants) and p_all <= alpha:
        label = REAL_GAIN
    else:
        label = UNCONFIRMED
    return Verdict(label, float(p_all), outcomes, method)
