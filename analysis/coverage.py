"""Coverage of the interval over models, simulated for the procedure the report prints.

Populations of models are elliptical (bivariate normal, or Student t with `df` degrees of
freedom: heavy-tailed, tail-dependent), where the population's Kendall tau is (2/pi) arcsin(rho)
for every df (Lindskog, McNeil & Schmock 2003), so the truth needs no simulation of its own. The
fast tier runs in tests/analysis/, the full grid in `bench/bench_stats.py --tau-coverage`.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.rank_agreement import models_interval


@dataclass(frozen=True)
class Coverage:
    population: str
    tau: float
    n_models: int
    reps: int
    rate: float
    mc_error: float  # binomial SE of `rate`, sqrt(rate(1 - rate)/reps)
    zero_width: int  # intervals with high <= low (must stay 0)


def draw_population(
    df: float | None, tau: float, n_models: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Two accuracy-like scores of `n_models` models whose population tau is `tau`; df None:
    bivariate normal, else multivariate t (one chi-square scale shared by both scores)."""
    rho = np.sin(np.pi * tau / 2)
    z = rng.standard_normal((n_models, 2))
    y = rho * z[:, 0] + np.sqrt(1 - rho**2) * z[:, 1]
    x = z[:, 0]
    if df is not None:
        scale = np.sqrt(df / rng.chisquare(df, size=n_models))
        x, y = x * scale, y * scale
    return x, y


def models_interval_coverage(
    df: float | None, tau: float, n_models: int, reps: int, rng: np.random.Generator
) -> Coverage:
    """How often `models_interval` covers the population tau over `reps` samples of models."""
    covered = zero = 0
    for _ in range(reps):
        ci = models_interval(*draw_population(df, tau, n_models, rng), rng)
        covered += ci.low <= tau <= ci.high
        zero += not ci.high > ci.low
    rate = covered / reps
    name = "normal" if df is None else f"t{df:g}"
    return Coverage(name, tau, n_models, reps, rate, float(np.sqrt(rate * (1 - rate) / reps)), zero)


@dataclass(frozen=True)
class ImageSample:
    """One simulated pair of test sets: what the withholding rule looks at, and whether the
    bias-corrected interval (shown or not) covered the true tau."""

    swaps: float  # sd(tau*) in pair swaps (`rank_agreement.pair_swaps`)
    separation: float  # the smaller `rank_agreement.separation` of the two datasets
    covers: bool


@dataclass(frozen=True)
class ImageCoverage:
    """Coverage of the interval over test images, conditional on it being shown."""

    n_models: int
    gap_pp: float  # spacing of neighbouring models' true reference accuracies, points
    n_images: int
    shared: float  # share of each image's error propensity common to all models
    reps: int
    shown: int
    covered: int  # of the shown intervals
    would_cover: int  # of the withheld ones, had they been shown

    @property
    def rate(self) -> float:
        return self.covered / self.shown if self.shown else float("nan")

    @property
    def mc_error(self) -> float:
        r = self.rate
        return float(np.sqrt(r * (1 - r) / self.shown)) if self.shown else float("nan")


def under_rule(
    regime: tuple[int, float, int, float],
    samples: list[ImageSample],
    few_swaps: float,
    gap_to_noise: float,
) -> ImageCoverage:
    """The coverage a withholding rule (show when swaps >= few_swaps and separation >=
    gap_to_noise) would have had on the same simulated samples: candidate rules compared on
    one simulation."""
    shown = [s.swaps >= few_swaps and s.separation >= gap_to_noise for s in samples]
    covered = sum(s.covers for s, show in zip(samples, shown, strict=True) if show)
    would = sum(s.covers for s, show in zip(samples, shown, strict=True) if not show)
    return ImageCoverage(*regime, len(samples), sum(shown), covered, would)


def correlated_test_set(
    accuracy: np.ndarray, n_images: int, shared: float, rng: np.random.Generator
) -> np.ndarray:
    """n x M correctness with each model's true accuracy exactly `accuracy` and errors that
    share a per-image difficulty (a Gaussian latent: model m is right when
    sqrt(shared) d_i + sqrt(1 - shared) e_im < Phi^-1(acc_m))."""
    from scipy.stats import norm

    d = rng.standard_normal((n_images, 1))
    e = rng.standard_normal((n_images, accuracy.size))
    return np.sqrt(shared) * d + np.sqrt(1 - shared) * e < norm.ppf(accuracy)[None, :]


def image_interval_samples(
    n_models: int,
    gap_pp: float,
    n_images: int,
    shared: float,
    reps: int,
    resamples: int,
    rng: np.random.Generator,
) -> list[ImageSample]:
    """The report's procedure end to end: a reference and a target test set drawn from known
    true accuracies (the target's a noisy monotone transform of the reference's, so the true
    tau is below 1), each resampled by the joint image bootstrap (`resample_accuracies`), then
    `bootstrap_tau_interval`; each sample records what its withholding rule saw and whether the
    bias-corrected interval covers the true tau (checked equal to the printed one when shown)."""
    from scipy.stats import kendalltau

    from analysis import rank_agreement as ra
    from analysis.bootstrap import ImageSet, resample_accuracies

    p_ref = 0.80 - gap_pp / 100 * np.arange(n_models)[::-1]
    p_tgt = np.clip(p_ref - 0.1 + rng.normal(0, gap_pp / 100 * 0.7, n_models), 0.01, 0.99)
    true = float(kendalltau(p_ref, p_tgt).statistic)
    samples = []
    for _ in range(reps):
        ref = correlated_test_set(p_ref, n_images, shared, rng)
        tgt = correlated_test_set(p_tgt, n_images, shared, rng)
        tau = float(ra.kendall_tau_b_rows(ref.mean(0)[None], tgt.mean(0)[None])[0])
        draws_ref = resample_accuracies(ImageSet({"r": ref}), resamples, rng)["r"]
        draws_tgt = resample_accuracies(ImageSet({"t": tgt}), resamples, rng)["t"]
        ci, taus = ra.bootstrap_tau_interval(tau, draws_ref, draws_tgt, method="simulation")
        kept = taus[~np.isnan(taus)]
        low, high = ra.bias_corrected(tau, kept)
        if not np.isnan(ci.low) and (ci.low, ci.high) != (low, high):
            raise AssertionError("the printed interval is not the bias-corrected one")
        samples.append(
            ImageSample(
                ra.pair_swaps(kept, n_models),
                min(ra.separation(draws_ref), ra.separation(draws_tgt)),
                bool(low <= true <= high),
            )
        )
    return samples

