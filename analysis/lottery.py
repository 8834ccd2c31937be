"""Lottery diagnostics for one pair A, B: does the winner depend on which variants are averaged,
and how? L(A,B;k) = Pr over k-subsets S of the variants and over bootstrap worlds that A beats B
under an aggregation rule; the lottery index 2 * min(L, 1 - L) is 0 for a robust winner and 1
for a coin flip (Dehghani et al. 2021, made a number).
"""

from __future__ import annotations

import itertools
from dataclasses import dataclass

import numpy as np

RULES = ("mean accuracy", "mean rank", "geometric mean")


@dataclass(frozen=True)
class LotteryProbability:
    rule: str
    by_subset_size: list[float]  # L(A,B;k) for k = 1..D
    probability: float  # averaged over k = 1..D, each size weighted equally
    index: float  # 2 * min(L, 1 - L)


def subset_matrix(n_datasets: int) -> tuple[np.ndarray, np.ndarray]:
    """All non-empty subsets as a 0/1 matrix (D x S) and each subset's size."""
    subsets = [
        s for k in range(1, n_datasets + 1) for s in itertools.combinations(range(n_datasets), k)
    ]
    matrix = np.zeros((n_datasets, len(subsets)))
    for col, subset in enumerate(subsets):
        matrix[list(subset), col] = 1.0
    return matrix, matrix.sum(axis=0).astype(int)


def lottery_probabilities(
    acc_a: np.ndarray, acc_b: np.ndarray, rank_a: np.ndarray, rank_b: np.ndarray
) -> list[LotteryProbability]:
    """Inputs are B x D resampled accuracies and ranks of A and B on each of D variants.

    Each rule reduces to a sign of a sum over the subset: mean accuracy of the differences,
    mean rank (B's rank minus A's), geometric mean (sum of log ratios). Ties count one half.
    """
    d = acc_a.shape[1]
    subsets, sizes = subset_matrix(d)
    tiny = 1e-12
    contributions = {
        "mean accuracy": acc_a - acc_b,
        "mean rank": (rank_b - rank_a).astype(float),
        "geometric mean": np.log(np.maximum(acc_a, tiny)) - np.log(np.maximum(acc_b, tiny)),
    }
    results = []
    for rule in RULES:
        totals = contributions[rule] @ subsets
        wins = (totals > 1e-15).mean(axis=0) + 0.5 * (np.abs(totals) <= 1e-15).mean(axis=0)
        by_k = [float(wins[sizes == k].mean()) for k in range(1, d + 1)]
        probability = float(np.mean(by_k))
        results.append(
            LotteryProbability(rule, by_k, probability, 2 * min(probability, 1 - probability))
        )
    return results
