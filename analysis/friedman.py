"""Friedman test over datasets (blocks) x models, Iman-Davenport F and the Nemenyi critical
difference (Demsar 2006): do models differ at all, and which mean-rank gaps are too small to tell?
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class Friedman:
    n_blocks: int
    n_models: int
    mean_ranks: np.ndarray  # 1 = best
    chi2: float
    p_chi2: float
    iman_davenport_f: float
    p_iman_davenport: float
    nemenyi_q: float
    critical_difference: float
    alpha: float
    tie_corrected: bool


def friedman(scores: np.ndarray, *, alpha: float = 0.05, higher_is_better: bool = True) -> Friedman:
    """From a blocks x models score table: average ranks within each block, tie-corrected chi2
    (as scipy's `friedmanchisquare`), then Iman-Davenport and Nemenyi from it."""
    scores = np.asarray(scores, dtype=float)
    n, k = scores.shape
    ranks = stats.rankdata(-scores if higher_is_better else scores, axis=1)
    ties = 0.0
    for row in ranks:
        _, counts = np.unique(row, return_counts=True)
        ties += float((counts**3 - counts).sum())
    correction = 1 - ties / (n * k * (k * k - 1))
    return from_mean_ranks(ranks.mean(axis=0), n, alpha=alpha, tie_correction=correction)


def from_mean_ranks(
    mean_ranks: np.ndarray, n_blocks: int, *, alpha: float = 0.05, tie_correction: float = 1.0
) -> Friedman:
    """chi2_F = 12N/(k(k+1)) [sum R_j^2 - k(k+1)^2/4] / tie correction;
    F_F = (N-1) chi2_F / (N(k-1) - chi2_F); CD = q_alpha sqrt(k(k+1)/(6N)). At perfect agreement
    (every block ranks the models alike) chi2_F = N(k-1) and F_F is undefined: F and its p are
    NaN (printed n/a), never an infinite F with p = 0; chi2's p stands."""
    r = np.asarray(mean_ranks, dtype=float)
    k, n = r.size, n_blocks
    chi2 = 12 * n / (k * (k + 1)) * (np.sum(r**2) - k * (k + 1) ** 2 / 4) / tie_correction
    denom = n * (k - 1) - chi2
    f = (n - 1) * chi2 / denom if denom > 1e-9 * n * (k - 1) else float("nan")
    p_f = float(stats.f.sf(f, k - 1, (k - 1) * (n - 1))) if np.isfinite(f) else float("nan")
    q = nemenyi_q(k, alpha)
    return Friedman(
        n_blocks=n,
        n_models=k,
        mean_ranks=r,
        chi2=float(chi2),
        p_chi2=float(stats.chi2.sf(chi2, k - 1)),
        iman_davenport_f=float(f),
        p_iman_davenport=p_f,
        nemenyi_q=q,
        critical_difference=q * float(np.sqrt(k * (k + 1) / (6 * n))),
        alpha=alpha,
        tie_corrected=tie_correction != 1.0,
    )


def nemenyi_q(n_models: int, alpha: float = 0.05) -> float:
    """Studentized range quantile (infinite df) divided by sqrt(2), as tabulated by Demsar."""
    return float(stats.studentized_range.ppf(1 - alpha, n_models, np.inf) / np.sqrt(2))


@dataclass(frozen=True)
class SignedRank:
    r_plus: float
    r_minus: float
    t: float
    wins: float  # ties split evenly, as Demsar counts them
    n: int
    p_sign: float


def signed_rank(a: np.ndarray, b: np.ndarray, *, decimals: int = 12) -> SignedRank:
    """Wilcoxon R+ / R- (zero differences split evenly between both sides, as Demsar does) and
    the exact two-sided sign test on wins of a over b. Differences are rounded to `decimals`
    so that values equal in print tie in floating point."""
    diff = np.round(np.asarray(a, dtype=float) - np.asarray(b, dtype=float), decimals)
    ranks = stats.rankdata(np.abs(diff))
    zeros = diff == 0
    r_plus = float(ranks[diff > 0].sum() + ranks[zeros].sum() / 2)
    r_minus = float(ranks[diff < 0].sum() + ranks[zeros].sum() / 2)
    n = diff.size
    wins = float(np.count_nonzero(diff > 0) + np.count_nonzero(zeros) / 2)
    low = int(np.floor(min(wins, n - wins)))
    p_sign = min(1.0, 2 * float(stats.binom.cdf(low, n, 0.5)))
    return SignedRank(r_plus, r_minus, min(r_plus, r_minus), wins, n, p_sign)
