"""Minimum detectable difference: the smallest paired gain a test set of n images can confirm."""

from __future__ import annotations

import numpy as np
from scipy import stats


def minimum_detectable_difference(
    n: int | np.ndarray, discordance: float | np.ndarray, *, alpha: float = 0.05, power: float = 0.8
) -> np.ndarray | float:
    """(z_{1-alpha/2} + z_power) * sqrt(q / n): about 2.8 * sqrt(q/n) at 80 % power, 5 % two-sided.

    q is the fraction of images on which the two models disagree in correctness; the paired
    variance of the accuracy difference near zero gain is q / n.
    """
    z = stats.norm.ppf(1 - alpha / 2) + stats.norm.ppf(power)
    result = z * np.sqrt(np.asarray(discordance, dtype=float) / np.asarray(n, dtype=float))
    return float(result) if np.ndim(result) == 0 else result
