"""The weight-matrix image bootstrap: the right distribution, shared draws, seeds."""

from __future__ import annotations

import numpy as np
import pytest

from analysis.bootstrap import (
    ImageSet,
    _Sampler,
    binomial_accuracies,
    compress,
    resample_accuracies,
)


def correlated_models(rng: np.random.Generator, n: int, m: int) -> np.ndarray:
    """Models that share "easy" images, like real classifiers: errors correlate."""
    difficulty = rng.random(n)
    skill = np.linspace(0.6, 0.85, m)
    return rng.random((n, m)) * 0.5 + difficulty[:, None] * 0.5 < skill


def test_compress_keeps_every_image():
    rng = np.random.default_rng(0)
    columns = correlated_models(rng, 2000, 6)
    patterns = compress(columns)
    assert patterns.counts.sum() == 2000
    assert len(np.unique(patterns.rows, axis=0)) == len(patterns.counts)
    means = (patterns.counts[:, None] * patterns.rows).sum(axis=0) / 2000
    assert means == pytest.approx(columns.mean(axis=0))


def test_pattern_weights_sum_to_n_and_are_unbiased_with_rare_patterns():
    """The sampler behind `resample_accuracies`: many distinct rows force its pooled path for
    rare patterns to run."""
    rng = np.random.default_rng(1)
    columns = rng.random((3000, 14)) < 0.5  # almost every row is its own pattern
    columns[:1500] = True  # one very frequent pattern
    patterns = compress(columns)
    sampler = _Sampler.for_counts(patterns.counts)
    draws = np.concatenate([sampler.draw(700, rng) for _ in range(5)] + [sampler.draw(500, rng)])
    assert draws.shape == (4000, len(patterns.counts))
    assert np.all(draws.sum(axis=1) == 3000)
    # E[W_p] = count_p; the frequent pattern's variance is binomial n p (1 - p)
    p = patterns.counts / 3000
    standard_error = np.sqrt(3000 * p * (1 - p) / 4000)
    assert np.all(np.abs(draws.mean(axis=0) - patterns.counts) <= 5 * standard_error + 1e-9)
    big = np.argmax(patterns.counts)
    assert draws[:, big].var() == pytest.approx(3000 * 0.5 * 0.5, rel=0.1)


def test_resampled_accuracies_have_the_image_bootstrap_moments():
    """Var of a resampled accuracy is p(1-p)/n and the covariance of two models is
    (p11 - pa pb)/n: what resampling image indices gives."""
    rng = np.random.default_rng(2)
    n = 400
    correct = correlated_models(rng, n, 4)
    draws = resample_accuracies(ImageSet({"val": correct}), 20000, rng)["val"]
    p = correct.mean(axis=0)
    assert draws.mean(axis=0) == pytest.approx(p, abs=2e-3)
    assert draws.var(axis=0) == pytest.approx(p * (1 - p) / n, rel=0.06)
    p11 = (correct[:, 0] & correct[:, 1]).mean()
    cov = np.cov(draws[:, 0], draws[:, 1])[0, 1]
    assert cov == pytest.approx((p11 - p[0] * p[1]) / n, rel=0.1)


def test_datasets_on_the_same_images_share_every_draw():
    rng = np.random.default_rng(3)
    correct = correlated_models(rng, 1000, 3)
    scored = rng.random(1000) < 0.9
    real = correct & scored[:, None]
    image_set = ImageSet({"val": correct, "copy": correct.copy(), "real": real}, {"real": scored})
    draws = resample_accuracies(image_set, 2000, np.random.default_rng(4))
    assert np.array_equal(draws["val"], draws["copy"])
    # the ReaL-style dataset is scored only on its images: mean is correct / scored
    assert draws["real"].mean(axis=0) == pytest.approx(correct[scored].mean(axis=0), abs=2e-3)
    # shared draws make the val/real differences far less variable than independent ones
    shared = (draws["val"] - draws["real"])[:, 0].var()
    independent = draws["val"][:, 0].var() + draws["real"][:, 0].var()
    assert shared < independent / 2


def test_fixed_seed_gives_identical_draws_and_other_seeds_differ():
    correct = correlated_models(np.random.default_rng(5), 800, 5)
    image_set = ImageSet({"val": correct})
    a = resample_accuracies(image_set, 300, np.random.default_rng(11))["val"]
    b = resample_accuracies(image_set, 300, np.random.default_rng(11))["val"]
    c = resample_accuracies(image_set, 300, np.random.default_rng(12))["val"]
    assert np.array_equal(a, b)
    assert not np.array_equal(a, c)


def test_misaligned_datasets_are_refused():
    with pytest.raises(ValueError, match="align on images"):
        ImageSet({"a": np.zeros((5, 2), bool), "b": np.zeros((6, 2), bool)})


def test_binomial_accuracies_are_centred():
    rng = np.random.default_rng(6)
    draws = binomial_accuracies(np.array([0.7, 0.9]), np.array([1000, 10000]), 5000, rng)
    assert draws.shape == (5000, 2)
    assert draws.mean(axis=0) == pytest.approx([0.7, 0.9], abs=2e-3)
    assert draws.var(axis=0) == pytest.approx([0.21 / 1000, 0.09 / 10000], rel=0.1)


def test_draws_do_not_depend_on_the_number_of_threads(monkeypatch):
    import analysis.bootstrap as bootstrap

    correct = correlated_models(np.random.default_rng(8), 600, 4)
    image_set = ImageSet({"val": correct})
    runs = []
    for threads in (1, 3):
        monkeypatch.setattr(bootstrap, "THREADS", threads)
        draws = resample_accuracies(image_set, 500, np.random.default_rng(9), chunk=70)
        runs.append(draws["val"])
    assert np.array_equal(runs[0], runs[1])


def test_pooled_draws_match_numpy_multinomial_statistically():
    """The two-stage sampler against numpy's Multinomial(n, counts / n), the distribution it
    must keep: the joint law of two rare (pooled) patterns' counts and the law of a sum of
    pooled counts agree (chi-square two-sample tests), and a pooled count is Binomial(n, c / n)."""
    from scipy import stats

    rng = np.random.default_rng(11)
    n, draws_n = 600, 20000
    columns = rng.random((n, 12)) < 0.5
    columns[: n // 2] = True
    patterns = compress(columns)
    sampler = _Sampler.for_counts(patterns.counts)
    assert sampler.rare.size > 50 and sampler.frequent.size >= 1  # both paths run
    ours = sampler.draw(draws_n, np.random.default_rng(12))
    numpy_ = np.random.default_rng(13).multinomial(n, patterns.counts / n, size=draws_n)
    singles = [int(p) for p in sampler.rare if patterns.counts[p] == 1][:2]
    double = next(int(p) for p in sampler.rare if patterns.counts[p] >= 2)
    a, b = singles

    def table(values_ours: np.ndarray, values_numpy: np.ndarray, top: int) -> np.ndarray:
        ours_counts = np.bincount(np.minimum(values_ours, top).astype(int), minlength=top + 1)
        numpy_counts = np.bincount(np.minimum(values_numpy, top).astype(int), minlength=top + 1)
        return np.array([ours_counts, numpy_counts])

    joint_ours = np.minimum(ours[:, a], 2) * 3 + np.minimum(ours[:, b], 2)
    joint_numpy = np.minimum(numpy_[:, a], 2) * 3 + np.minimum(numpy_[:, b], 2)
    summed = ours[:, a] + ours[:, b] + ours[:, double]
    summed_numpy = numpy_[:, a] + numpy_[:, b] + numpy_[:, double]
    for left, right, top in ((joint_ours, joint_numpy, 8), (summed, summed_numpy, 8)):
        assert stats.chi2_contingency(table(left, right, top)).pvalue > 1e-3
    # one pooled count against its exact Binomial(n, c / n) law
    c = patterns.counts[double]
    observed = np.bincount(np.minimum(ours[:, double], 6).astype(int), minlength=7)
    expected = stats.binom.pmf(np.arange(7), n, c / n)
    expected[6] = stats.binom.sf(5, n, c / n)
    assert stats.chisquare(observed, expected * draws_n).pvalue > 1e-3
    # seeded: the same generator state gives the same draws
    again = sampler.draw(draws_n, np.random.default_rng(12))
    assert np.array_equal(ours, again)


def test_unscored_images_never_count_even_when_marked_correct():
    """A direct call with correctness True on unscored images (the caller did not zero them):
    each resampled accuracy is still correct / scored over the scored images only."""
    rng = np.random.default_rng(21)
    correct = correlated_models(rng, 2000, 3)
    scored = rng.random(2000) < 0.6
    unzeroed = correct | ~scored[:, None]  # every unscored image "correct"
    image_set = ImageSet({"real": unzeroed}, {"real": scored})
    draws = resample_accuracies(image_set, 3000, np.random.default_rng(22))["real"]
    assert draws.max() <= 1.0
    assert draws.mean(axis=0) == pytest.approx(correct[scored].mean(axis=0), abs=3e-3)
    zeroed = ImageSet({"real": correct & scored[:, None]}, {"real": scored})
    same = resample_accuracies(zeroed, 3000, np.random.default_rng(22))["real"]
    assert np.array_equal(draws, same)


def test_counting_pooled_images_gives_the_pattern_sums_exactly():
    """The resampler counts pooled draws per image and lets the product map images to patterns
    (`design`): the same stream gives exactly the sums of W over patterns @ pattern rows."""
    rng = np.random.default_rng(31)
    columns = rng.random((5000, 10)) < 0.6
    columns[:2000] = True
    patterns = compress(columns)
    sampler = _Sampler.for_counts(patterns.counts)
    assert sampler.rare.size > 100 and sampler.pool.size > sampler.rare.size  # pooled path runs
    per_image = sampler.draw_columns(300, np.random.default_rng(32)) @ sampler.design(patterns.rows)
    per_pattern = sampler.draw(300, np.random.default_rng(32)) @ patterns.rows
    assert per_image.sum() > 0 and np.array_equal(per_image, per_pattern)
