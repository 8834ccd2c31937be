"""Effective robustness, the unified score and the marginal-gain verdict rule."""

from __future__ import annotations

import numpy as np
import pytest
from scipy.special import expit, logit

from analysis import gains
from analysis.robustness import effective_robustness, unified_score


def test_effective_robustness_recovers_the_line_and_an_outlier():
    rng = np.random.default_rng(0)
    ref = rng.uniform(0.6, 0.9, 200)
    target = expit(-1.0 + 1.2 * logit(ref))
    target[7] += 0.05  # one model genuinely more robust
    fit = effective_robustness(ref, target, rng, resamples=500)
    assert fit.slope == pytest.approx(1.2, abs=0.02)
    assert fit.intercept == pytest.approx(-1.0, abs=0.03)
    assert fit.residual[7] == pytest.approx(0.05, abs=0.005)
    others = np.delete(fit.residual, 7)
    assert np.abs(others).max() < 0.005
    assert fit.slope_low <= fit.slope <= fit.slope_high
    assert fit.residual_low[7] > 0.04


def test_unified_score_ignores_dataset_difficulty_and_rewards_dominance():
    rng = np.random.default_rng(1)
    acc = rng.uniform(0.4, 0.9, size=(30, 4))
    shifted = expit(logit(acc) + np.array([0.0, -1.0, 0.5, 2.0]))  # harder / easier datasets
    assert unified_score(shifted) == pytest.approx(unified_score(acc))
    better = acc.copy()
    better[0] = np.minimum(acc.max(axis=0) + 0.01, 0.99)
    assert np.argmax(unified_score(better)) == 0


def _verdict(ref_delta, ref_p, deltas, ps, mdd=None):
    names = [f"d{i}" for i in range(len(deltas))]
    floors = np.zeros(len(deltas)) if mdd is None else np.asarray(mdd)
    return gains.verdict(ref_delta, ref_p, names, np.array(deltas), np.array(ps), floors)


def test_verdict_not_significant_on_reference():
    assert _verdict(0.003, 0.2, [0.01], [0.001]).verdict == gains.NOT_SIGNIFICANT
    assert _verdict(0.0, 0.001, [0.01], [0.001]).verdict == gains.NOT_SIGNIFICANT


def test_verdict_reference_gain_negative_is_named_so():
    """A named pair whose first model is worse on the reference is never "not significant"."""
    assert _verdict(-0.01, 0.001, [0.01], [0.001]).verdict == gains.REFERENCE_NEGATIVE
    assert _verdict(-0.01, 0.6, [0.01], [0.001]).verdict == gains.REFERENCE_NEGATIVE
    # outcomes follow the reference order: B better on the variant too "holds"
    agreeing = _verdict(-0.01, 0.001, [-0.02, 0.02], [0.001, 0.001])
    assert [o.outcome for o in agreeing.outcomes] == ["holds", "reverses"]


def test_one_decision_rule():
    assert [gains.direction(d, p, 0.05) for d, p in [(0.1, 0.01), (-0.1, 0.01), (0.1, 0.05)]] == [
        1,
        -1,
        0,
    ]
    assert [gains.direction(d, p, 0.1) for d, p in [(0.1, 0.07), (0.0, 0.01), (None, 0.01)]] == [
        1,
        0,
        0,
    ]
    assert gains.significant(0.049, 0.05) and not gains.significant(None, 0.05)
    assert not gains.significant(float("nan"), 0.05)


def test_verdict_lottery_win_when_a_variant_reverses():
    result = _verdict(0.01, 0.001, [0.02, -0.03], [0.001, 0.0001])
    assert result.verdict == gains.LOTTERY_WIN
    assert [o.outcome for o in result.outcomes] == ["holds", "reverses"]


def test_verdict_real_gain_needs_every_variant_to_hold():
    result = _verdict(0.01, 0.001, [0.02, 0.01], [0.001, 0.04])
    assert result.verdict == gains.REAL_GAIN
    assert result.p_all_variants == pytest.approx(0.04)  # largest Holm-adjusted p
    assert [o.outcome for o in result.outcomes] == ["holds", "holds"]
    # one-sided p 0.02 for every variant (two-sided 0.04 each, Holm 0.08): the old one-sided,
    # unadjusted IUT said "real gain" beside two "inconclusive" rows; now nothing contradicts
    both = _verdict(0.01, 0.001, [0.02, 0.01], [0.04, 0.04])
    assert [o.outcome for o in both.outcomes] == ["inconclusive", "inconclusive"]
    assert both.verdict == gains.UNCONFIRMED and both.p_all_variants == pytest.approx(0.08)
    assert _verdict(0.01, 0.001, [0.02, 0.01], [0.001, 0.3]).verdict == gains.UNCONFIRMED


def test_verdict_not_significant_but_reversed_on_variants():
    """SwAV over fine-tuned SimCLRv2: +0.40 pp on val, not significant, significantly worse on
    three variants: the verdict says so instead of only "not significant on reference"."""
    result = _verdict(0.004, 0.3, [-0.02, -0.03, -0.01, 0.001], [1e-5, 1e-6, 1e-4, 0.6])
    assert result.verdict == gains.REVERSED_ON_VARIANTS
    assert [o.outcome for o in result.outcomes].count("reverses") == 3
    assert _verdict(0.004, 0.3, [0.02], [1e-5]).verdict == gains.NOT_SIGNIFICANT
    assert _verdict(0.0, 0.9, [-0.02], [1e-5]).verdict == gains.NOT_SIGNIFICANT  # no order


def test_variant_outcomes_use_adjusted_p_and_flag_undetectable_gains():
    result = _verdict(0.003, 0.001, [0.01, 0.01], [0.03, 0.04], mdd=[0.001, 0.01])
    assert [o.outcome for o in result.outcomes] == ["inconclusive", "inconclusive"]
    assert [o.p_adjusted for o in result.outcomes] == pytest.approx([0.06, 0.06])
    assert [o.below_detectable for o in result.outcomes] == [False, True]
    assert result.adjust_method == "holm"


def test_effective_robustness_intervals_can_be_limited_to_shown_models():
    rng_data = np.random.default_rng(2)
    ref = rng_data.uniform(0.6, 0.9, 50)
    target = expit(0.5 * logit(ref)) + rng_data.normal(0, 0.01, 50)
    full = effective_robustness(ref, target, np.random.default_rng(3), resamples=300)
    some = effective_robustness(
        ref, target, np.random.default_rng(3), resamples=300, intervals_for=np.arange(5)
    )
    assert some.residual_low[:5] == pytest.approx(full.residual_low[:5])
    assert np.isnan(some.residual_high[5:]).all()
    assert some.slope_low == full.slope_low


def test_bootstrap_lines_equal_least_squares_on_the_resampled_models():
    from analysis.robustness import _bootstrap_lines

    rng_data = np.random.default_rng(4)
    x = rng_data.normal(size=12)
    y = 0.3 + 1.5 * x + rng_data.normal(0, 0.2, 12)
    slopes, intercepts = _bootstrap_lines(x, y, 5, np.random.default_rng(5), chunk=5)
    drawn = np.random.default_rng(5).integers(0, 12, size=(5, 12))
    for row, slope, intercept in zip(drawn, slopes, intercepts, strict=True):
        expected_slope, expected_intercept = np.polyfit(x[row], y[row], 1)
        assert slope == pytest.approx(expected_slope)
        assert intercept == pytest.approx(expected_intercept)


def test_degenerate_slope_resamples_are_dropped_not_counted_as_zero():
    """Four models, two sharing a reference accuracy: resamples drawing only models at one
    reference accuracy have no line. The slope interval is the percentile interval of the
    others' least-squares slopes (recomputed with np.polyfit from the same draws)."""
    from analysis.robustness import _bootstrap_lines

    x = np.array([0.0, 0.0, 1.0, 2.0])
    y = np.array([0.1, 0.3, 1.2, 1.9])
    slopes, _ = _bootstrap_lines(x, y, 400, np.random.default_rng(8), chunk=400)
    drawn = np.random.default_rng(8).integers(0, 4, size=(400, 4))
    flat = np.array([np.ptp(x[row]) == 0 for row in drawn])
    assert flat.sum() > 0 and np.isnan(slopes[flat]).all()
    expected = [np.polyfit(x[row], y[row], 1)[0] for row in drawn[~flat]]
    assert slopes[~flat] == pytest.approx(expected)
    fit = effective_robustness(
        expit(x / 4), expit(y / 4), np.random.default_rng(8), resamples=400, alpha=0.1
    )
    assert fit.slope_low > 0  # with degenerate draws as 0 the 5th percentile was 0
