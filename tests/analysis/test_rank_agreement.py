"""Kendall tau-b, its intervals and the noise ceiling."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from hypothesis.extra.numpy import arrays
from scipy import stats

from analysis import rank_agreement as ra


def test_scipy_oracles_with_ties_and_exact_null():
    tied = ra.kendall([12, 2, 1, 12, 2], [1, 4, 7, 1, 0])
    assert tied.kendall_tau_b == pytest.approx(-0.47140452079103173)
    assert tied.p_value == pytest.approx(0.2827454599327748)
    exact = ra.kendall([5, 2, 1, 3, 6, 4, 7], [5, 2, 6, 3, 1, 7, 4])
    assert exact.kendall_tau_b == pytest.approx(-0.142857, abs=1e-6)
    assert exact.p_value == pytest.approx(0.7726190476190476)
    assert exact.p_method == "exact null"
    assert tied.p_method.startswith("normal")


def test_p_label_names_the_method_scipy_ran():
    """40 models, one swapped pair: scipy's exact null applies (at most one discordant pair) and
    the label says so; two swaps at M = 40 use the normal approximation and say that."""
    x = np.arange(40.0)
    one_swap = x.copy()
    one_swap[[10, 11]] = one_swap[[11, 10]]
    result = ra.kendall(x, one_swap)
    exact = stats.kendalltau(x, one_swap, method="exact").pvalue
    normal = stats.kendalltau(x, one_swap, method="asymptotic").pvalue
    assert result.p_method == "exact null" and result.p_value == pytest.approx(exact, rel=1e-12)
    assert abs(exact - normal) > 1e-3 * exact  # the two methods differ: the label matters
    two_swaps = one_swap.copy()
    two_swaps[[20, 21]] = two_swaps[[21, 20]]
    result = ra.kendall(x, two_swaps)
    assert result.p_method.startswith("normal approximation")
    assert result.p_value == pytest.approx(
        stats.kendalltau(x, two_swaps, method="asymptotic").pvalue
    )


def test_fieller_oracle_and_not_pearson():
    ci = ra.fieller_interval(0.6, 20)
    assert (ci.low, ci.high) == pytest.approx((0.3533, 0.7687), abs=1e-4)
    pearson_half = 1.959964 / np.sqrt(17)
    assert ci.low > np.tanh(np.arctanh(0.6) - pearson_half) == pytest.approx(0.2144, abs=1e-4)


def test_null_variance_oracle():
    assert ra.tau_null_variance(10) == pytest.approx(0.0617284, abs=1e-7)


def test_null_variance_matches_simulation():
    rng = np.random.default_rng(0)
    x = np.tile(np.arange(10.0), (20000, 1))
    y = rng.permuted(x, axis=1)
    taus = ra.kendall_tau_b_rows(x, y)
    assert taus.var() == pytest.approx(ra.tau_null_variance(10), rel=0.04)


@settings(max_examples=60, deadline=None)
@given(
    arrays(np.int8, st.integers(3, 30), elements=st.integers(0, 6)),
    st.randoms(use_true_random=False),
)
def test_batched_tau_b_matches_scipy_with_ties(x, random):
    y = np.array([random.randint(0, 6) for _ in x])
    ours = ra.kendall_tau_b_rows(x[None, :], y[None, :])[0]
    theirs = stats.kendalltau(x, y).statistic
    if np.isnan(theirs):
        assert np.isnan(ours)
    else:
        assert ours == pytest.approx(theirs, abs=1e-12)


def test_large_model_sets_use_the_same_tau():
    rng = np.random.default_rng(1)
    x = rng.random((3, 200))
    y = x + rng.random((3, 200))
    expected = [stats.kendalltau(a, b).statistic for a, b in zip(x, y, strict=True)]
    assert ra.kendall_tau_b_rows(x, y) == pytest.approx(expected)


def test_fieller_interval_covers_about_95_percent():
    """Sample M models from a bivariate normal population: the interval covers the population
    tau = (2/pi) arcsin(rho) about 95 % of the time (the Pearson SE would give about 99 %)."""
    rng = np.random.default_rng(2024)
    m, rho, trials = 30, 0.6, 2000
    true_tau = 2 / np.pi * np.arcsin(rho)
    cov = [[1, rho], [rho, 1]]
    samples = rng.multivariate_normal([0, 0], cov, size=(trials, m))
    taus = ra.kendall_tau_b_rows(samples[..., 0], samples[..., 1])
    covered = [(ci := ra.fieller_interval(t, m)).low <= true_tau <= ci.high for t in taus]
    assert 0.93 <= np.mean(covered) <= 0.97


def test_bootstrap_tau_interval_brackets_observed():
    rng = np.random.default_rng(5)
    base = np.linspace(0.6, 0.8, 12)
    ref = base + rng.normal(0, 0.02, size=(500, 12))
    tgt = base + rng.normal(0, 0.02, size=(500, 12))
    ci, taus = ra.bootstrap_tau_interval(ref, tgt, method="joint image bootstrap")
    assert taus.shape == (500,)
    assert -1 <= ci.low < ci.high <= 1
    assert ci.method == "joint image bootstrap"


def test_split_half_ceiling_is_high_for_separated_models_and_low_for_identical():
    rng = np.random.default_rng(9)
    n = 4000
    distinct = rng.random((n, 8)) < np.linspace(0.5, 0.9, 8)
    same = rng.random((n, 8)) < 0.7
    assert ra.split_half_ceiling(distinct, rng) > 0.9
    # halves of a fixed sample anti-correlate when models are equal: no positive agreement
    assert ra.split_half_ceiling(same, rng) < 0.1
    assert ra.split_half_ceiling_binomial(np.linspace(0.5, 0.9, 8), np.full(8, n), rng) > 0.9
