"""Which interval over test images covers the tau of the images' population? A simulation with
known true accuracies: test sets are drawn from them (accuracy noise as binomial, Gaussian
approximation; correlated errors shrink the noise of differences), resampled as the report does,
and each candidate's coverage of the true tau is counted. Fixed seeds: deterministic."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats
from scipy.special import expit, logit

from analysis import rank_agreement as ra

Z = stats.norm.ppf(0.975)


def _coverage(m, spread, n, *, rho=0.0, reps=300, draws=200, seed=0):
    """Coverage of the true tau by (percentile, basic, chosen) and the share of reps where the
    chosen interval was withheld. rho: share of each model's error variance shared by all
    models (correlated errors: only the rest scrambles ranks; the image bootstrap keeps it)."""
    rng = np.random.default_rng(seed)
    p_ref = np.linspace(0.80 - spread, 0.80, m)
    p_tgt = expit(1.2 * logit(p_ref) - 0.9 + rng.normal(0, 0.15, m))
    true = stats.kendalltau(p_ref, p_tgt).statistic

    def noise(p, size):
        return np.sqrt(p * (1 - p) / n * (1 - rho)) * rng.normal(size=size)

    hits = {"percentile": 0, "basic": 0, "chosen": 0}
    withheld = 0
    for _ in range(reps):
        ref = p_ref + noise(p_ref, m)
        tgt = p_tgt + noise(p_tgt, m)
        tau = stats.kendalltau(ref, tgt).statistic
        ci, taus = ra.bootstrap_tau_interval(
            tau, ref + noise(ref, (draws, m)), tgt + noise(tgt, (draws, m)), method="sim"
        )
        low, high = np.quantile(taus, [0.025, 0.975])
        hits["percentile"] += low <= true <= high
        hits["basic"] += 2 * tau - high <= true <= 2 * tau - low
        # the chosen formula, whether or not the withholding rule shows it
        centre, half = 2 * tau - taus.mean(), Z * np.sqrt(2) * taus.std(ddof=1)
        hits["chosen"] += max(centre - half, -1) <= true <= min(centre + half, 1)
        withheld += bool(np.isnan(ci.low))
    return {k: v / reps for k, v in hits.items()}, withheld / reps


@pytest.mark.parametrize(
    ("m", "spread", "rho"),
    [
        (30, 0.15, 0.0),  # 30 models 0.5 pp apart, n = 10,000: a few swaps
        (30, 0.03, 0.0),  # close models: noise scrambles much of the order
        (30, 0.06, 0.6),  # correlated errors, closer models
    ],
)
def test_chosen_interval_covers_where_basic_does_not(m, spread, rho):
    coverage, _ = _coverage(m, spread, 10_000, rho=rho)
    assert 0.93 <= coverage["chosen"] <= 0.97, coverage
    assert coverage["basic"] < 0.93, coverage


def test_percentile_misses_when_many_models_are_close():
    """120 models: the bias of tau dominates its noise; the percentile interval of tau* (the
    report's old interval) almost never covers, the chosen one does."""
    coverage, _ = _coverage(120, 0.15, 10_000, reps=120, draws=120)
    assert coverage["percentile"] < 0.7, coverage
    assert coverage["chosen"] >= 0.93, coverage


def test_withheld_where_models_are_closer_than_noise_or_noise_swaps_too_few_pairs():
    """Both withholding rules, each saying why: neighbours 0.03 pp apart on 10,000 images (SE
    about 0.4 pp) and 2 pp apart on 50,000 images (hardly a swap) get no interval (the fast
    tier test above has a regime where it is shown)."""
    _, close = _coverage(30, 0.009, 10_000, reps=40)
    _, apart = _coverage(30, 0.6, 50_000, reps=40)
    assert close == 1.0 and apart == 1.0
    rng = np.random.default_rng(32)
    near = 0.8 + 0.0003 * np.arange(30)
    noise = rng.normal(0, 0.004, (200, 30))
    ci, _ = ra.bootstrap_tau_interval(0.5, near + noise, near + noise[::-1], method="x")
    assert np.isnan(ci.low) and ra.CLOSE_MODELS_NOTE in ci.method
    ref = np.linspace(0.5, 0.9, 10)
    ci, _ = ra.bootstrap_tau_interval(1.0, np.tile(ref, (50, 1)), np.tile(ref, (50, 1)), method="x")
    assert np.isnan(ci.low) and ra.FEW_SWAPS_NOTE in ci.method


def test_simulated_test_sets_have_the_true_accuracies_and_shared_errors():
    """The joint-bootstrap simulation's generator: each model's accuracy is the one asked for,
    and a shared per-image difficulty correlates errors (phi between two models grows)."""
    from analysis.coverage import correlated_test_set

    rng = np.random.default_rng(30)
    acc = np.array([0.6, 0.75, 0.9])
    independent = correlated_test_set(acc, 40_000, 0.0, rng)
    shared = correlated_test_set(acc, 40_000, 0.7, rng)
    for c in (independent, shared):
        assert c.mean(axis=0) == pytest.approx(acc, abs=0.01)
    phi = [np.corrcoef(c[:, 0], c[:, 1])[0, 1] for c in (independent, shared)]
    assert abs(phi[0]) < 0.02 and phi[1] > 0.3


def test_joint_bootstrap_interval_covers_where_models_are_apart_fast_tier():
    """The printed procedure end to end (joint image bootstrap, bias-corrected interval, its
    withholding rule) where neighbours are 1 pp apart on 5,000 images: shown and covering
    (the full tier, bench_stats.py --image-coverage, has the regimes where it does not)."""
    from analysis.coverage import image_interval_samples, under_rule

    regime = (30, 1.0, 5000, 0.0)
    samples = image_interval_samples(*regime, 40, 100, np.random.default_rng(31))
    result = under_rule(regime, samples, ra.FEW_SWAPS, ra.GAP_TO_NOISE)
    assert result.shown >= 30  # the target, a noisy transform, is sometimes too tight to show
    assert result.rate >= 0.85  # 40 reps: Monte-Carlo SE about 0.035 at 0.95


def test_candidate_rules_are_scored_on_the_same_samples():
    """`under_rule` shows a sample when both thresholds hold, and counts coverage among the
    shown and among the withheld separately (the docs' candidate-rule comparison)."""
    from analysis.coverage import ImageSample, under_rule

    samples = [
        ImageSample(0.5, 2.0, True),
        ImageSample(5.0, 2.0, False),
        ImageSample(5.0, 0.8, True),
    ]
    shipped = under_rule((30, 1.0, 1000, 0.0), samples, ra.FEW_SWAPS, ra.GAP_TO_NOISE)
    assert (shipped.shown, shipped.covered, shipped.would_cover) == (1, 0, 2)
    loose = under_rule((30, 1.0, 1000, 0.0), samples, 0.0, 0.5)
    assert (loose.shown, loose.covered, loose.would_cover, loose.rate) == (3, 2, 0, 2 / 3)
