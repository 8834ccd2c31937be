"""Do two datasets rank the same models the same way? Kendall tau-b with two honest intervals.

Two sources of uncertainty, reported separately:
- which models were sampled: Fieller, Hartley & Pearson (1957), SE = sqrt(0.437 / (M - 4)) on the
  atanh scale (the Pearson SE 1/sqrt(M-3) over-covers and can contradict the test);
- which test images were drawn, models fixed: tau over bootstrap worlds of images, plus the
  split-half noise ceiling (tau between two random halves of one dataset).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.intervals import Interval

PAIR_BUDGET = 2**24  # elements per chunk of the batched tau: bounds memory
VECTOR_LIMIT = 64  # beyond this many models scipy's O(M log M) tau per row is faster


@dataclass(frozen=True)
class TauResult:
    n_models: int
    kendall_tau_b: float
    p_value: float
    p_method: str
    spearman_rho: float
    spearman_p: float
    ci: Interval


def kendall(x: np.ndarray, y: np.ndarray, *, alpha: float = 0.05) -> TauResult:
    """Tau-b (ties are common in accuracies), its p-value by the method `kendall_p_method`
    picks, Spearman alongside, and the Fieller interval over models."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m = x.size
    if m < 3:
        raise ValueError(f"rank agreement needs at least 3 models, got {m}")
    method = kendall_p_method(x, y)
    tau = stats.kendalltau(x, y, variant="b", method=method)
    rho = stats.spearmanr(x, y)
    return TauResult(
        n_models=m,
        kendall_tau_b=float(tau.statistic),
        p_value=float(tau.pvalue),
        p_method=P_METHOD_LABELS[method],
        spearman_rho=float(rho.statistic),
        spearman_p=float(rho.pvalue),
        ci=fieller_interval(float(tau.statistic), m, alpha=alpha),
    )


P_METHOD_LABELS = {
    "exact": "exact null",
    "asymptotic": "normal approximation (tie-corrected)",
}


def kendall_p_method(x: np.ndarray, y: np.ndarray) -> str:
    """The p-value method passed to scipy, so the label names what was computed: the exact null
    needs no ties; it is cheap for M <= 33 or when at most one pair is discordant (or
    concordant), as in scipy's own 'auto' rule; else the tie-corrected normal approximation."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if np.unique(x).size < x.size or np.unique(y).size < y.size:
        return "asymptotic"
    if x.size <= 33:
        return "exact"
    i, j = np.triu_indices(x.size, 1)
    discordant = int(np.count_nonzero(np.sign(x[j] - x[i]) != np.sign(y[j] - y[i])))
    total = i.size
    return "exact" if min(discordant, total - discordant) <= 1 else "asymptotic"


def fieller_interval(tau: float, n_models: int, *, alpha: float = 0.05) -> Interval:
    """tanh(atanh(tau) +- z * sqrt(0.437 / (M - 4))): coverage about nominal over sampled models."""
    if n_models <= 4:
        return Interval(float("nan"), float("nan"), "fieller (needs M > 4)")
    z = float(stats.norm.ppf(1 - alpha / 2))
    centre = np.arctanh(np.clip(tau, -1 + 1e-12, 1 - 1e-12))
    half = z * np.sqrt(0.437 / (n_models - 4))
    return Interval(float(np.tanh(centre - half)), float(np.tanh(centre + half)), "fieller")


def tau_null_variance(n_models: int) -> float:
    """Variance of tau under independence without ties: 2(2M+5) / (9M(M-1))."""
    m = n_models
    return 2 * (2 * m + 5) / (9 * m * (m - 1))


def kendall_tau_b_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Tau-b of each row pair of x and y (both R x M): vectorised over bootstrap worlds."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.atleast_2d(np.asarray(y, dtype=float))
    m = x.shape[1]
    if m > VECTOR_LIMIT:
        return np.array([stats.kendalltau(a, b).statistic for a, b in zip(x, y, strict=True)])
    i, j = np.triu_indices(m, 1)
    rows = max(1, PAIR_BUDGET // max(len(i), 1))
    out = np.empty(x.shape[0])
    for start in range(0, x.shape[0], rows):
        xs, ys = x[start : start + rows], y[start : start + rows]
        sx = np.sign(xs[:, j] - xs[:, i])
        sy = np.sign(ys[:, j] - ys[:, i])
        concordance = (sx * sy).sum(axis=1)
        pairs_x = np.count_nonzero(sx, axis=1)
        pairs_y = np.count_nonzero(sy, axis=1)
        denom = np.sqrt(pairs_x.astype(float) * pairs_y)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + rows] = np.where(denom > 0, concordance / denom, np.nan)
    return out


def bootstrap_tau_interval(
    reference_draws: np.ndarray, target_draws: np.ndarray, *, method: str, alpha: float = 0.05
) -> tuple[Interval, np.ndarray]:
    """Percentile interval of tau-b over bootstrap worlds of test images (models fixed)."""
    taus = kendall_tau_b_rows(reference_draws, target_draws)
    low, high = np.nanquantile(taus, [alpha / 2, 1 - alpha / 2])
    return Interval(float(low), float(high), method), taus


def split_half_ceiling(
    correct: np.ndarray,
    rng: np.random.Generator,
    *,
    splits: int = 20,
    scored: np.ndarray | None = None,
) -> float:
    """Mean tau-b between models' accuracies on two random halves of the same images: how well a
    dataset of half this size can agree with itself, an upper reference for cross-dataset tau."""
    correct = np.asarray(correct, dtype=bool)
    if scored is not None:
        correct = correct[np.asarray(scored, dtype=bool)]
    n = correct.shape[0]
    halves_a = np.empty((splits, correct.shape[1]))
    halves_b = np.empty_like(halves_a)
    for s in range(splits):
        order = rng.permutation(n)
        half = n // 2
        halves_a[s] = correct[order[:half]].mean(axis=0)
        halves_b[s] = correct[order[half : 2 * half]].mean(axis=0)
    return float(np.nanmean(kendall_tau_b_rows(halves_a, halves_b)))


def split_half_ceiling_binomial(
    accuracy: np.ndarray, n_images: np.ndarray, rng: np.random.Generator, *, splits: int = 20
) -> float:
    """Aggregate-only ceiling: the two halves as independent binomials at each model's accuracy."""
    acc = np.clip(np.asarray(accuracy, dtype=float), 0.0, 1.0)
    half = np.maximum(np.asarray(n_images, dtype=np.int64) // 2, 1)
    a = rng.binomial(half, acc, size=(splits, acc.size)) / half
    b = rng.binomial(half, acc, size=(splits, acc.size)) / half
    return float(np.nanmean(kendall_tau_b_rows(a, b)))
