"""Confidence intervals for one accuracy: exact and score intervals from counts, percentiles.

statsmodels' `proportion_confint` defaults to the Wald interval, which under-covers near 0 and 1;
these functions name their method so a report can never print an interval without saying which.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Interval:
    low: float
    high: float
    method: str


def clopper_pearson(k: int, n: int, *, alpha: float = 0.05) -> Interval:
    """Exact (conservative) binomial interval: never under-covers, hence the default for k/n."""
    _check_counts(k, n)
    low = 0.0 if k == 0 else float(stats.beta.ppf(alpha / 2, k, n - k + 1))
    high = 1.0 if k == n else float(stats.beta.ppf(1 - alpha / 2, k + 1, n - k))
    return Interval(low, high, "clopper-pearson")


def wilson(k: int, n: int, *, alpha: float = 0.05) -> Interval:
    """Score interval: close to nominal coverage and the building block of Newcombe's interval."""
    _check_counts(k, n)
    z = float(stats.norm.ppf(1 - alpha / 2))
    p = k / n
    denom = 1 + z * z / n
    centre = (p + z * z / (2 * n)) / denom
    half = z * np.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / denom
    return Interval(float(max(0.0, centre - half)), float(min(1.0, centre + half)), "wilson")


def percentile(
    draws: np.ndarray, *, alpha: float = 0.05, axis: int = 0
) -> tuple[np.ndarray, np.ndarray]:
    """Percentile bootstrap bounds along `axis` (the resample axis)."""
    low, high = np.quantile(draws, [alpha / 2, 1 - alpha / 2], axis=axis)
    return low, high


def _check_counts(k: int, n: int) -> None:
    if n <= 0 or not 0 <= k <= n:
        raise ValueError(f"need 0 <= k <= n and n > 0, got k={k}, n={n}")


def level_label(alpha: float) -> str:
    """The confidence level an interval at `alpha` was built for: "95%" only at alpha = 0.05."""
    return f"{100 * (1 - alpha):g}%"
