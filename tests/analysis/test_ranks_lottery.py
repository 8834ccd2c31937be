"""Rank distributions, flip probabilities and the lottery probability."""

from __future__ import annotations

import itertools

import numpy as np
import pytest

from analysis.lottery import RULES, lottery_probabilities, subset_matrix
from analysis.ranks import flip_probability, rank_distribution, ranks_of


def test_ranks_best_first_ties_share_the_better_rank():
    assert ranks_of(np.array([0.7, 0.9, 0.7, 0.5])).tolist() == [2, 1, 2, 4]


def test_rank_distribution_without_noise_is_certain():
    acc = np.array([0.8, 0.7, 0.6])
    dist = rank_distribution(acc, np.tile(acc, (100, 1)))
    assert np.array_equal(dist.probabilities, np.eye(3))
    assert dist.rank_low.tolist() == dist.rank_high.tolist() == [1, 2, 3]


def test_rank_distribution_of_two_swapping_models():
    draws = np.array([[0.8, 0.7, 0.1], [0.7, 0.8, 0.1]] * 50)
    dist = rank_distribution(np.array([0.8, 0.7, 0.1]), draws)
    assert dist.probabilities[0, :2] == pytest.approx([0.5, 0.5])
    assert dist.expected_rank == pytest.approx([1.5, 1.5, 3])
    assert (dist.rank_low[0], dist.rank_high[0]) == (1, 2)


def test_flip_probability_counts_reversals_and_ties():
    assert flip_probability(0.01, np.array([0.02, -0.01, 0.0, 0.03])) == 0.5


def test_subset_matrix_lists_every_nonempty_subset():
    matrix, sizes = subset_matrix(4)
    assert matrix.shape == (4, 15)
    assert np.bincount(sizes).tolist() == [0, 4, 6, 4, 1]  # C(4, k) subsets of size k
    assert (matrix.sum(axis=0) == sizes).all()
    columns = {tuple(col) for col in matrix.T.astype(int).tolist()}
    assert len(columns) == 15 and (0, 0, 0, 0) not in columns


def test_a_dominant_model_is_no_lottery():
    rng = np.random.default_rng(0)
    acc_b = rng.uniform(0.5, 0.7, size=(200, 4))
    acc_a = acc_b + 0.05
    ranks = np.ones((200, 4)), np.full((200, 4), 2.0)
    for lp in lottery_probabilities(acc_a, acc_b, *ranks):
        assert lp.probability == 1.0
        assert lp.index == 0.0


def test_a_split_decision_is_a_coin_flip():
    acc_a = np.tile([0.8, 0.6], (10, 1))
    acc_b = np.tile([0.7, 0.7], (10, 1))
    rank_a = np.tile([1, 2], (10, 1))
    rank_b = np.tile([2, 1], (10, 1))
    by_rule = {lp.rule: lp for lp in lottery_probabilities(acc_a, acc_b, rank_a, rank_b)}
    assert by_rule["mean accuracy"].by_subset_size == [0.5, 0.5]
    assert by_rule["mean rank"].index == pytest.approx(1.0)
    # geometric mean: 0.8*0.6 = 0.48 < 0.49 = 0.7*0.7, so B wins the pair of datasets
    assert by_rule["geometric mean"].by_subset_size == [0.5, 0.0]


def test_lottery_probability_matches_direct_enumeration():
    rng = np.random.default_rng(1)
    b, d = 60, 3
    acc_a, acc_b = rng.uniform(0.6, 0.8, (b, d)), rng.uniform(0.6, 0.8, (b, d))
    rank_a, rank_b = rng.integers(1, 6, (b, d)), rng.integers(1, 6, (b, d))
    result = {lp.rule: lp for lp in lottery_probabilities(acc_a, acc_b, rank_a, rank_b)}
    for k in range(1, d + 1):
        wins = {rule: [] for rule in RULES}
        for subset in itertools.combinations(range(d), k):
            s = list(subset)
            for r in range(b):
                wins["mean accuracy"].append(_win(acc_a[r, s].mean() - acc_b[r, s].mean()))
                wins["mean rank"].append(_win(rank_b[r, s].mean() - rank_a[r, s].mean()))
                geo = np.exp(np.log(acc_a[r, s]).mean()) - np.exp(np.log(acc_b[r, s]).mean())
                wins["geometric mean"].append(_win(geo))
        for rule in RULES:
            assert result[rule].by_subset_size[k - 1] == pytest.approx(np.mean(wins[rule]))


def _win(margin: float) -> float:
    return 1.0 if margin > 1e-12 else 0.5 if abs(margin) <= 1e-12 else 0.0
