"""Effective robustness and a unified cross-dataset score, both relative to the population.

Effective robustness (Taori et al. 2020): across all models, fit logit(acc_d) = a + b logit(acc_0);
a model's effective robustness is its accuracy on d minus the line's prediction at its reference
accuracy. Accuracy gains on the reference "buy" the line's share of the variant; only the residual
is robustness beyond it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy.special import expit, logit

EPS = 1e-6


@dataclass(frozen=True)
class EffectiveRobustness:
    intercept: float
    slope: float
    residual: np.ndarray  # accuracy (fraction) above the line, per model
    residual_low: np.ndarray
    residual_high: np.ndarray
    slope_low: float
    slope_high: float
    n_models: int


def _logit(acc: np.ndarray) -> np.ndarray:
    return logit(np.clip(np.asarray(acc, dtype=float), EPS, 1 - EPS))


def effective_robustness(
    reference: np.ndarray,
    target: np.ndarray,
    rng: np.random.Generator,
    *,
    resamples: int = 1000,
    alpha: float = 0.05,
    intervals_for: np.ndarray | None = None,
) -> EffectiveRobustness:
    """Least-squares line in logit space; percentile intervals from a bootstrap over models
    (the line is a property of the sampled population, so the models are resampled).

    `intervals_for` (model indices) limits the residual intervals to the models a report shows;
    the others get NaN. The line is always fitted and resampled on every model."""
    x, y = _logit(reference), _logit(target)
    m = x.size
    if m < 3:
        raise ValueError(f"effective robustness needs at least 3 models, got {m}")
    slope, intercept = np.polyfit(x, y, 1)
    residual = np.asarray(target, dtype=float) - expit(intercept + slope * x)
    idx = rng.integers(0, m, size=(resamples, m))
    xs, ys = x[idx], y[idx]
    xm, ym = xs.mean(axis=1, keepdims=True), ys.mean(axis=1, keepdims=True)
    sxx = ((xs - xm) ** 2).sum(axis=1)
    slopes = np.where(sxx > 0, ((xs - xm) * (ys - ym)).sum(axis=1) / np.maximum(sxx, 1e-300), 0)
    intercepts = ym[:, 0] - slopes * xm[:, 0]
    shown = np.arange(m) if intervals_for is None else np.asarray(intervals_for, dtype=int)
    residuals = np.asarray(target, dtype=float)[None, shown] - expit(
        intercepts[:, None] + slopes[:, None] * x[None, shown]
    )
    lo, hi = np.full(m, np.nan), np.full(m, np.nan)
    lo[shown], hi[shown] = np.quantile(residuals, [alpha / 2, 1 - alpha / 2], axis=0)
    s_lo, s_hi = np.quantile(slopes, [alpha / 2, 1 - alpha / 2])
    return EffectiveRobustness(
        float(intercept), float(slope), residual, lo, hi, float(s_lo), float(s_hi), m
    )


def unified_score(accuracies: np.ndarray) -> np.ndarray:
    """U_m = mean over datasets d of (logit acc_md - mean_d) / sd_d, on models x datasets.

    Logit undoes the ceiling compression near 100 %; standardising per dataset makes one point on
    a hard variant count as much as one standard deviation of the population's spread, not as
    one raw point, so no single easy or hard dataset dominates the ranking.
    """
    z = _logit(accuracies)
    sd = z.std(axis=0, ddof=1)
    sd = np.where(sd > 0, sd, 1.0)
    return ((z - z.mean(axis=0)) / sd).mean(axis=1)
