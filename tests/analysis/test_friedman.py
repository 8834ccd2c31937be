"""Friedman, Iman-Davenport, Nemenyi and the signed-rank test on Demsar (2006)'s tables."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

from analysis.friedman import friedman, from_mean_ranks, nemenyi_q, signed_rank

# Demsar (2006) Table 6: AUC of C4.5, C4.5+m, C4.5+cf, C4.5+m+cf on 14 data sets.
DEMSAR = np.array(
    [
        [0.763, 0.768, 0.771, 0.798],
        [0.599, 0.591, 0.590, 0.569],
        [0.954, 0.971, 0.968, 0.967],
        [0.628, 0.661, 0.654, 0.657],
        [0.882, 0.888, 0.886, 0.898],
        [0.936, 0.931, 0.916, 0.931],
        [0.661, 0.668, 0.609, 0.685],
        [0.583, 0.583, 0.563, 0.625],
        [0.775, 0.838, 0.866, 0.875],
        [1.0, 1.0, 1.0, 1.0],
        [0.940, 0.962, 0.965, 0.962],
        [0.619, 0.666, 0.614, 0.669],
        [0.972, 0.981, 0.975, 0.975],
        [0.957, 0.978, 0.946, 0.970],
    ]
)


def test_published_ranks_reproduce_published_statistics():
    result = from_mean_ranks(np.array([3.143, 2.000, 2.893, 1.964]), 14)
    assert result.chi2 == pytest.approx(9.2836, abs=5e-3)
    assert result.iman_davenport_f == pytest.approx(3.6889, abs=5e-3)
    assert round(result.chi2, 2) == 9.28
    assert round(result.iman_davenport_f, 2) == 3.69
    assert result.critical_difference == pytest.approx(1.25, abs=5e-3)


def test_printed_table_matches_scipy_tie_corrected():
    result = friedman(DEMSAR)
    assert result.mean_ranks == pytest.approx([3.143, 2.000, 2.929, 1.929], abs=1e-3)
    assert result.chi2 == pytest.approx(10.9524, abs=1e-4)
    assert result.p_chi2 == pytest.approx(0.01199, abs=1e-5)
    scipy_result = stats.friedmanchisquare(*DEMSAR.T)
    assert result.chi2 == pytest.approx(scipy_result.statistic)
    assert result.critical_difference == pytest.approx(1.2536, abs=1e-4)
    assert result.tie_corrected


def test_nemenyi_q_oracles():
    assert nemenyi_q(4, 0.05) == pytest.approx(2.569, abs=1e-3)
    assert nemenyi_q(4, 0.10) == pytest.approx(2.291, abs=1e-3)
    cd10 = from_mean_ranks(np.array([3.143, 2.000, 2.893, 1.964]), 14, alpha=0.10)
    assert cd10.critical_difference == pytest.approx(1.12, abs=5e-3)


def test_demsar_table_2_signed_rank_and_sign_test():
    result = signed_rank(DEMSAR[:, 1], DEMSAR[:, 0])  # C4.5+m against C4.5
    assert (result.r_plus, result.r_minus, result.t) == (93.0, 12.0, 12.0)
    assert result.wins == 11
    assert result.p_sign == pytest.approx(0.0574, abs=1e-4)
