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
    slopes, intercepts = _bootstrap_lines(x, y, resamples, rng)
    shown = np.arange(m) if intervals_for is None else np.asarray(intervals_for, dtype=int)
    residuals = np.asarray(target, dtype=float)[None, shown] - expit(
        intercepts[:, None] + slopes[:, None] * x[None, shown]
    )
    lo, hi = np.full(m, np.nan), np.full(m, np.nan)
    kept = ~np.isnan(slopes)  # a resample of models all at one reference accuracy has no line
    lo[shown], hi[shown] = np.quantile(residuals[kept], [alpha / 2, 1 - alpha / 2], axis=0)
    s_lo, s_hi = np.quantile(slopes[kept], [alpha / 2, 1 - alpha / 2])
    return EffectiveRobustness(
        float(intercept), float(slope), residual, lo, hi, float(s_lo), float(s_hi), m
    )


def _bootstrap_lines(
    x: np.ndarray, y: np.ndarray, resamples: int, rng: np.random.Generator, chunk: int = 1000
) -> tuple[np.ndarray, np.ndarray]:
    """Least-squares lines on resampled model sets, from weighted sufficient statistics:
    counts (B x M, how often each model was drawn) @ [1, x, y, x^2, xy] in one product. A
    degenerate resample (every drawn model at one reference accuracy) has no slope: NaN, dropped
    by the caller (counting it as slope 0 pulled the interval towards 0 at small M)."""
    m = x.size
    moments = np.column_stack([np.ones(m), x, y, x * x, x * y])
    slopes = np.empty(resamples)
    intercepts = np.empty(resamples)
    for start in range(0, resamples, chunk):
        size = min(chunk, resamples - start)
        drawn = rng.integers(0, m, size=(size, m)) + np.arange(size)[:, None] * m
        counts = np.bincount(drawn.ravel(), minlength=size * m).reshape(size, m)
        s0, sx, sy, sxx, sxy = (counts @ moments).T
        mean_x, mean_y = sx / s0, sy / s0
        var_x = sxx - s0 * mean_x**2
        slope = np.where(
            var_x > 1e-12, (sxy - s0 * mean_x * mean_y) / np.maximum(var_x, 1e-12), np.nan
        )
        slopes[start : start + size] = slope
        intercepts[start : start + size] = mean_y - slope * mean_x
    return slopes, intercepts


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


def line_band(
    reference: np.ndarray,
    target: np.ndarray,
    grid: np.ndarray,
    rng: np.random.Generator,
    *,
    resamples: int = 1000,
    alpha: float = 0.05,
) -> tuple[np.ndarray, np.ndarray]:
    """Pointwise (1 - alpha) percentile band of the logit-linear line at the reference
    accuracies `grid`, from the bootstrap over models `effective_robustness` runs (the same
    draws given a generator in the same state), for drawing the fit with its uncertainty."""
    slopes, intercepts = _bootstrap_lines(_logit(reference), _logit(target), resamples, rng)
    lines = expit(intercepts[:, None] + slopes[:, None] * _logit(grid)[None, :])
    low, high = np.quantile(lines, [alpha / 2, 1 - alpha / 2], axis=0)
    return low, high
