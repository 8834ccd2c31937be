"""McNemar, paired intervals and the aggregate-only test against the protocol's oracles."""

from __future__ import annotations

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from scipy import stats
from statsmodels.stats.contingency_tables import mcnemar as sm_mcnemar

from analysis.paired import (
    PairedCounts,
    bootstrap_interval,
    mcnemar,
    newcombe_interval,
    unpaired_two_proportion,
    wald_interval,
)

MCNEMAR_ORACLES = [
    # (b, c): exact p, mid-p, chi2 cc, p cc, chi2, p
    ((10, 2), 0.0385742, 0.0224609, 4.0833, 0.0433081, 5.3333, 0.0209213),
    ((59, 41), 0.0886261, 0.072757, 2.89, 0.0891309, 3.24, 0.0718606),
    ((250, 200), 0.0207918, 0.0184534, 5.3356, 0.0208947, 5.5556, 0.0184221),
]


@pytest.mark.parametrize(("bc", "exact", "mid", "chi_cc", "p_cc", "chi", "p_chi"), MCNEMAR_ORACLES)
def test_mcnemar_matches_published_values(bc, exact, mid, chi_cc, p_cc, chi, p_chi):
    result = mcnemar(*bc)
    assert result.p_exact == pytest.approx(exact, abs=1e-7)
    assert result.p_mid == pytest.approx(mid, abs=1e-6)
    assert result.chi2_corrected == pytest.approx(chi_cc, abs=1e-4)
    assert result.p_chi2_corrected == pytest.approx(p_cc, abs=1e-7)
    assert result.chi2 == pytest.approx(chi, abs=1e-4)
    assert result.p_chi2 == pytest.approx(p_chi, abs=1e-7)


@settings(max_examples=60, deadline=None)
@given(st.integers(0, 400), st.integers(0, 400), st.integers(0, 50))
def test_mcnemar_agrees_with_statsmodels(n10, n01, both):
    if n10 + n01 == 0:
        return
    table = [[both, n10], [n01, both]]
    ours = mcnemar(n10, n01)
    assert ours.p_exact == pytest.approx(sm_mcnemar(table, exact=True).pvalue, rel=1e-9, abs=1e-12)
    sm_cc = sm_mcnemar(table, exact=False, correction=True)
    assert ours.p_chi2_corrected == pytest.approx(sm_cc.pvalue, rel=1e-9)
    assert ours.p_mid <= ours.p_exact


def test_mid_p_is_one_for_a_balanced_table():
    assert mcnemar(7, 7).p_mid == pytest.approx(1.0)
    assert mcnemar(0, 0).p_exact == 1.0


def test_exact_mcnemar_equals_sign_flip_permutation_test():
    """Exact McNemar equals the exact sign-flip permutation test on per-image deltas."""
    n10, n01 = 6, 2
    deltas = np.array([1] * n10 + [-1] * n01)
    observed = abs(deltas.sum())
    signs = np.array(np.meshgrid(*[[-1, 1]] * deltas.size)).reshape(deltas.size, -1).T
    p_perm = np.mean(np.abs(signs @ np.abs(deltas)) >= observed)
    assert mcnemar(n10, n01).p_exact == pytest.approx(p_perm)


ORACLE_TABLE = PairedCounts(n11=40000, n10=2259, n01=700, n00=50000 - 40000 - 2959)


def test_paired_difference_oracle_wald():
    assert ORACLE_TABLE.delta == pytest.approx(0.03118)
    ci = wald_interval(ORACLE_TABLE)
    assert (ci.low, ci.high) == pytest.approx((0.02907, 0.03329), abs=5e-6)


def test_paired_difference_oracle_bootstrap():
    ci = bootstrap_interval(ORACLE_TABLE, 200_000, np.random.default_rng(1))
    assert (ci.low, ci.high) == pytest.approx((0.02906, 0.03330), abs=4e-5)


def test_newcombe_close_to_wald_at_imagenet_size_and_contains_estimate():
    nc = newcombe_interval(ORACLE_TABLE)
    wald = wald_interval(ORACLE_TABLE)
    assert nc.low < ORACLE_TABLE.delta < nc.high
    assert nc.low == pytest.approx(wald.low, abs=5e-5)
    assert nc.high == pytest.approx(wald.high, abs=5e-5)


def test_newcombe_stays_in_range_where_wald_collapses():
    counts = PairedCounts(n11=95, n10=5, n01=0, n00=0)
    wald = wald_interval(counts)
    nc = newcombe_interval(counts)
    assert wald.high - wald.low < nc.high - nc.low
    assert -1 <= nc.low < counts.delta < nc.high <= 1


def test_from_correct_counts_the_table():
    a = np.array([1, 1, 0, 0, 1], dtype=bool)
    b = np.array([1, 0, 1, 0, 0], dtype=bool)
    counts = PairedCounts.from_correct(a, b)
    assert (counts.n11, counts.n10, counts.n01, counts.n00) == (1, 2, 1, 1)
    assert counts.delta == pytest.approx(0.2)


def test_paired_bootstrap_coverage_is_near_nominal():
    """Simulate paired 0/1 data with known Delta: the multinomial interval covers about 95 %."""
    rng = np.random.default_rng(7)
    n, p10, p01 = 2000, 0.06, 0.04
    hits = 0
    trials = 400
    for _ in range(trials):
        n11, n10, n01, n00 = rng.multinomial(n, [0.7, p10, p01, 1 - 0.7 - p10 - p01])
        ci = bootstrap_interval(PairedCounts(n11, n10, n01, n00), 2000, rng)
        hits += ci.low <= p10 - p01 <= ci.high
    assert 0.92 <= hits / trials <= 0.975


def test_unpaired_test_is_conservative_and_sweep_brackets_it():
    result = unpaired_two_proportion(7610, 10000, 7500, 10000)
    assert result.delta == pytest.approx(0.011)
    # the pooled z-test, computed directly
    p = (7610 + 7500) / 20000
    z = 0.011 / np.sqrt(p * (1 - p) * 2 / 10000)
    assert result.z == pytest.approx(z)
    # known answers: exact McNemar (scipy's binomtest, two-sided) at the implied counts:
    # q = 0.011 = |Delta| puts all 110 discordant images on A's side; q = 0.2: 2000 split 1055/945
    by_q = {round(point.discordance, 6): point.p_value for point in result.sweep}
    assert by_q[0.011] == pytest.approx(stats.binomtest(110, 110).pvalue, rel=1e-9)
    for point in result.sweep:
        total = round(point.discordance * 10_000)
        more = (total + 110 + 1) // 2
        expected = min(1.0, stats.binomtest(more, total).pvalue)
        assert point.p_value == pytest.approx(expected, rel=1e-9)
    assert paired_exact_p(0.2) == pytest.approx(stats.binomtest(1055, 2000).pvalue, rel=1e-12)
    # the paired test at the smallest admissible discordance is more powerful than the bound
    assert result.sweep[0].p_value < result.p_value
    q_star = result.max_discordance_significant
    assert paired_exact_p(q_star) < 0.05 <= paired_exact_p(q_star + 1 / 10_000)
    assert result.ci.method.startswith("unpaired")


def paired_exact_p(q: float, gap: int = 110, n: int = 10_000) -> float:
    total = round(q * n)
    return min(1.0, float(stats.binomtest((total + gap + 1) // 2, total).pvalue))


def test_sweep_is_exact_at_a_few_discordant_images():
    """A 0.02 pp gain on 10,000 images: at 2 discordant images (both for A) the exact p is 0.5,
    where the normal approximation printed 0.157."""
    sweep = unpaired_two_proportion(5002, 10_000, 5000, 10_000).sweep
    assert sweep[0].discordance == pytest.approx(0.0002)
    assert sweep[0].p_value == pytest.approx(0.5)


@pytest.mark.parametrize(
    ("k_a", "k_b"),
    [(8003, 8000), (0, 5000), (10_000, 9999), (7610, 7500), (5000, 5000)],
)
def test_discordance_sweep_has_no_zero_and_no_repeats(k_a, k_b):
    """A 0.03 pp gain printed no "q = 0.000"; a model at 0 % repeated one entry nine times."""
    sweep = unpaired_two_proportion(k_a, 10_000, k_b, 10_000).sweep
    shown = [f"{point.discordance:.3g}" for point in sweep]
    assert len(set(shown)) == len(shown)
    assert all(float(q) > 0 for q in shown)
    qs = [point.discordance for point in sweep]
    assert qs == sorted(qs) and qs[0] >= abs(k_a - k_b) / 10_000
    if k_a == 0:
        assert len(sweep) == 1 and sweep[0].discordance == pytest.approx(0.5)
