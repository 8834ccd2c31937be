"""Rank uncertainty under the bootstrap: P(rank = k), rank intervals and pairwise flip rates."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats


@dataclass(frozen=True)
class RankDistribution:
    """For model m: probabilities[m, k-1] = P(rank_m = k); rank 1 is the most accurate."""

    observed_rank: np.ndarray
    expected_rank: np.ndarray
    rank_low: np.ndarray
    rank_high: np.ndarray
    probabilities: np.ndarray


def ranks_of(accuracies: np.ndarray) -> np.ndarray:
    """Competition ranks along the last axis, 1 = best; ties share the better rank."""
    return stats.rankdata(-np.asarray(accuracies, dtype=float), method="min", axis=-1).astype(
        np.int32
    )


def rank_distribution(
    observed: np.ndarray, draws: np.ndarray, *, alpha: float = 0.05
) -> RankDistribution:
    """Summarise the ranks of M models over B bootstrap worlds (draws: B x M accuracies)."""
    ranks = ranks_of(draws)
    m = ranks.shape[1]
    probabilities = np.stack([np.bincount(r - 1, minlength=m) for r in ranks.T]) / ranks.shape[0]
    low, high = np.quantile(ranks, [alpha / 2, 1 - alpha / 2], axis=0, method="inverted_cdf")
    return RankDistribution(
        observed_rank=ranks_of(observed),
        expected_rank=ranks.mean(axis=0),
        rank_low=low.astype(np.int32),
        rank_high=high.astype(np.int32),
        probabilities=probabilities,
    )


def flip_probability(reference_delta: float, delta_draws: np.ndarray) -> float:
    """Pr*(sign Delta*_d != sign Delta_0): how often a world on dataset d reverses the reference
    order of the pair (a zero difference counts as a flip of a non-zero reference gain)."""
    return float(np.mean(np.sign(delta_draws) != np.sign(reference_delta)))
