"""Do two datasets rank the same models the same way? Kendall tau-b with two honest intervals.

Two sources of uncertainty, reported separately:
- which models were sampled: the hull of the atanh jackknife interval (never below Fieller,
  Hartley & Pearson's (1957) bivariate-normal SE) and the BCa bootstrap over models (Fieller
  alone covered 62-88 % for heavy-tailed populations or tau near 1, the jackknife 0.88-0.93 for
  Cauchy-like ones at tau >= 0.91; see `models_interval`);
- which test images were drawn, models fixed: tau over bootstrap worlds of images. (There is no
  "noise ceiling": the split-half tau was a half-size dataset's self-agreement, below the
  observed full-size tau 67-97 % of the time in simulation, and a full-size version is an
  expectation that an observed tau exceeds about half the time, not a ceiling.)
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
from scipy import stats

from analysis.intervals import Interval

PAIR_BUDGET = 2**24  # elements per chunk of the batched tau: bounds memory
VECTOR_LIMIT = 64  # beyond this many models scipy's O(M log M) tau per row is faster


@dataclass(frozen=True)
class TauResult:
    n_models: int
    kendall_tau_b: float
    p_value: float
    p_method: str
    spearman_rho: float
    spearman_p: float
    ci: Interval


def kendall(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, *, alpha: float = 0.05
) -> TauResult:
    """Tau-b (ties are common in accuracies), its p-value by the method `kendall_p_method`
    picks, Spearman alongside, and the interval over sampled models (`models_interval`)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m = x.size
    if m < 3:
        raise ValueError(f"rank agreement needs at least 3 models, got {m}")
    method = kendall_p_method(x, y)
    tau = stats.kendalltau(x, y, variant="b", method=method)
    rho = stats.spearmanr(x, y)
    return TauResult(
        n_models=m,
        kendall_tau_b=float(tau.statistic),
        p_value=float(tau.pvalue),
        p_method=P_METHOD_LABELS[method],
        spearman_rho=float(rho.statistic),
        spearman_p=float(rho.pvalue),
        ci=models_interval(x, y, rng, alpha=alpha),
    )


P_METHOD_LABELS = {
    "exact": "exact null",
    "asymptotic": "normal approximation (tie-corrected)",
}


def kendall_p_method(x: np.ndarray, y: np.ndarray) -> str:
    """The p-value method passed to scipy, so the label names what was computed: the exact null
    needs no ties; it is cheap for M <= 33 or when at most one pair is discordant (or
    concordant), as in scipy's own 'auto' rule; else the tie-corrected normal approximation."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    if np.unique(x).size < x.size or np.unique(y).size < y.size:
        return "asymptotic"
    if x.size <= 33:
        return "exact"
    i, j = np.triu_indices(x.size, 1)
    discordant = int(np.count_nonzero(np.sign(x[j] - x[i]) != np.sign(y[j] - y[i])))
    total = i.size
    return "exact" if min(discordant, total - discordant) <= 1 else "asymptotic"


FIELLER_VARIANCE = 0.437  # Var(atanh tau) ~ 0.437 / (M - 4) for bivariate-normal populations


def fieller_se(n_models: int) -> float:
    """Fieller, Hartley & Pearson's (1957) SE of atanh(tau): the floor of `models_interval`."""
    return float(np.sqrt(FIELLER_VARIANCE / (n_models - 4)))


MODEL_RESAMPLES = 1000  # resamples of models for the BCa interval (Efron & Tibshirani: >= 1,000)
MODELS_INTERVAL = (
    f"atanh jackknife with Fieller floor, widened to the BCa bootstrap over models "
    f"({MODEL_RESAMPLES} resamples)"
)
BOUNDARY_PAIRS = 2  # |tau| is taken at most 1 - BOUNDARY_PAIRS / (M(M-1)/2): one discordant pair
RESAMPLE_CHUNK = 250  # rows of resample weights per product: bounds memory at M = 1,500


def models_interval(
    x: np.ndarray, y: np.ndarray, rng: np.random.Generator, *, alpha: float = 0.05
) -> Interval:
    """Interval for the population's tau when the M models are a random sample of it: the
    hull of two intervals, so it covers wherever either does.

    1. tanh(atanh(t) +- z se): t is tau-b with |t| held one discordant pair away from 1, so an
       observed tau of 1 (52 % of M = 6 samples at rho 0.99) still gets a finite centre; se is
       the jackknife SE of tau-b over models carried to the atanh scale, se_jack / (1 - t^2),
       never below Fieller's bivariate-normal sqrt(0.437 / (M - 4)), which keeps the interval
       from collapsing when every pair agrees.
    2. The BCa bootstrap over models (`bca_over_models`). Where a population has tail
       dependence (Cauchy-like copulas) the jackknife's pseudo-values are strongly skewed
       (skewness -5 at tau 0.95, M = 400): samples with a high tau also have a small SE, so the
       studentised interval 1 alone missed below the truth and covered 0.88-0.93 at
       tau >= 0.91, M >= 100. BCa's acceleration is that skewness and its z0 the median
       shift; with the hull those cells cover 0.913-0.975 (still short of 0.93 in three).
    Chosen by simulating this procedure (`bench/bench_stats.py --tau-coverage`; the unbiased
    U-statistic variance, a raw-scale jackknife, jackknife empirical likelihood, Hall's
    skewness-corrected jackknife and a studentised bootstrap did worse; docs/statistics.md)."""
    x = np.asarray(x, dtype=float)
    y = np.asarray(y, dtype=float)
    m = x.size
    if m <= 4:
        return Interval(float("nan"), float("nan"), f"{MODELS_INTERVAL} (needs M > 4)")
    sx, sy = _sign_tables(x, y)
    tau, leave_one_out = _tau_b_jackknife(sx, sy)
    if np.isnan(tau) or np.isnan(leave_one_out).any():
        return Interval(float("nan"), float("nan"), f"{MODELS_INTERVAL} (a ranking is all ties)")
    edge = 1 - BOUNDARY_PAIRS / (m * (m - 1) / 2)
    held = float(np.clip(tau, -edge, edge))
    jack_var = (m - 1) / m * float(np.sum((leave_one_out - leave_one_out.mean()) ** 2))
    se = max(fieller_se(m), np.sqrt(jack_var) / (1 - held**2))
    z = float(stats.norm.ppf(1 - alpha / 2))
    centre = np.arctanh(held)
    low, high = bca_over_models(
        x, y, sx.astype(np.int16) * sy, tau, leave_one_out, rng, alpha=alpha
    )
    return Interval(
        float(np.fmin(np.tanh(centre - z * se), low)),
        float(np.fmax(np.tanh(centre + z * se), high)),
        MODELS_INTERVAL,
    )


def _sign_tables(x: np.ndarray, y: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """sign(x_j - x_i) and sign(y_j - y_i) as M x M int8 tables (2.3 M entries at M = 1,500)."""
    sx = np.sign(x[None, :] - x[:, None]).astype(np.int8)
    sy = np.sign(y[None, :] - y[:, None]).astype(np.int8)
    return sx, sy


def _tau_b_jackknife(sx: np.ndarray, sy: np.ndarray) -> tuple[float, np.ndarray]:
    """Tau-b of all M models and of each leave-one-out set, from the sign tables (O(M^2))."""
    row = (sx.astype(np.int32) * sy).sum(axis=1).astype(float)
    untied_x = np.count_nonzero(sx, axis=1).astype(float)
    untied_y = np.count_nonzero(sy, axis=1).astype(float)
    s, tx, ty = row.sum() / 2, untied_x.sum() / 2, untied_y.sum() / 2
    with np.errstate(invalid="ignore", divide="ignore"):
        tau = s / np.sqrt(tx * ty) if tx * ty > 0 else float("nan")
        loo = (s - row) / np.sqrt((tx - untied_x) * (ty - untied_y))
    return float(tau), loo


def resampled_taus(
    x: np.ndarray, y: np.ndarray, concordance: np.ndarray, weights: np.ndarray
) -> np.ndarray:
    """Tau-b of each resample of models, a row of `weights` (how often each model was drawn):
    w'Cw / sqrt(P_x P_y), the tau-b of the resampled list (copies of one model tied in both
    rankings), with C = sign table of x times that of y and P_x = w'|s_x|w the untied ordered
    pairs, (sum w)^2 minus the squared weight of each group of tied values (O(M) a resample,
    so ties cost no second product). w'C is one float32 product per chunk (exact: small
    integers)."""
    table = concordance.astype(np.float32)
    out = np.empty(weights.shape[0])
    for start in range(0, weights.shape[0], RESAMPLE_CHUNK):
        w = weights[start : start + RESAMPLE_CHUNK]
        concordant = np.einsum("bm,bm->b", w.astype(np.float32) @ table, w, dtype=float)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + w.shape[0]] = concordant / np.sqrt(
                _untied_pairs(x, w) * _untied_pairs(y, w)
            )
    return out


def _untied_pairs(values: np.ndarray, weights: np.ndarray) -> np.ndarray:
    """w'|s|w per row: ordered pairs of drawn models whose values differ."""
    _, group = np.unique(values, return_inverse=True)
    order = np.argsort(group, kind="stable")
    starts = np.flatnonzero(np.diff(group[order], prepend=-1))
    tied = np.add.reduceat(weights[:, order].astype(float), starts, axis=1)
    return weights.sum(axis=1, dtype=float) ** 2 - np.sum(tied * tied, axis=1)


def bca_over_models(
    x: np.ndarray,
    y: np.ndarray,
    concordance: np.ndarray,
    tau: float,
    leave_one_out: np.ndarray,
    rng: np.random.Generator,
    *,
    alpha: float = 0.05,
    resamples: int = MODEL_RESAMPLES,
) -> tuple[float, float]:
    """Efron's (1987) BCa interval for tau-b from `resamples` resamples of the M models: the
    percentiles Phi(z0 + (z0 + z) / (1 - a (z0 + z))) of the resampled taus, z0 from the
    share below the observed tau (ties half), the acceleration a from the jackknife's
    skewness, sum d^3 / (6 (sum d^2)^1.5) with d = mean(loo) - loo. Where 1 - a (z0 + z) <= 0
    the end is the extreme resample. NaN when every resample is all ties on one dataset."""
    m = x.size
    picks = rng.integers(0, m, (resamples, m)) + m * np.arange(resamples)[:, None]
    weights = np.bincount(picks.ravel(), minlength=resamples * m).reshape(resamples, m)
    taus = resampled_taus(x, y, concordance, weights)
    taus = taus[~np.isnan(taus)]
    if taus.size == 0:  # every resample drew models tied on one dataset: no BCa to add
        return float("nan"), float("nan")
    share = (np.count_nonzero(taus < tau) + 0.5 * np.count_nonzero(taus == tau)) / taus.size
    z0 = float(stats.norm.ppf(np.clip(share, 0.5 / taus.size, 1 - 0.5 / taus.size)))
    d = leave_one_out.mean() - leave_one_out
    spread = float(np.sum(d * d))
    accel = float(np.sum(d**3)) / (6 * spread**1.5) if spread > 0 else 0.0
    z = float(stats.norm.ppf(1 - alpha / 2))
    levels = []
    for end, extreme in ((-z, 0.0), (z, 1.0)):
        denom = 1 - accel * (z0 + end)
        levels.append(float(stats.norm.cdf(z0 + (z0 + end) / denom)) if denom > 0 else extreme)
    low, high = np.quantile(taus, levels)
    return float(low), float(high)


def tau_null_variance(n_models: int) -> float:
    """Variance of tau under independence without ties: 2(2M+5) / (9M(M-1))."""
    m = n_models
    return 2 * (2 * m + 5) / (9 * m * (m - 1))


def kendall_tau_b_rows(x: np.ndarray, y: np.ndarray) -> np.ndarray:
    """Tau-b of each row pair of x and y (both R x M): vectorised over bootstrap worlds."""
    x = np.atleast_2d(np.asarray(x, dtype=float))
    y = np.atleast_2d(np.asarray(y, dtype=float))
    m = x.shape[1]
    if m > VECTOR_LIMIT:
        return np.array([stats.kendalltau(a, b).statistic for a, b in zip(x, y, strict=True)])
    i, j = np.triu_indices(m, 1)
    rows = max(1, PAIR_BUDGET // max(len(i), 1))
    out = np.empty(x.shape[0])
    for start in range(0, x.shape[0], rows):
        xs, ys = x[start : start + rows], y[start : start + rows]
        sx = np.sign(xs[:, j] - xs[:, i])
        sy = np.sign(ys[:, j] - ys[:, i])
        concordance = (sx * sy).sum(axis=1)
        pairs_x = np.count_nonzero(sx, axis=1)
        pairs_y = np.count_nonzero(sy, axis=1)
        denom = np.sqrt(pairs_x.astype(float) * pairs_y)
        with np.errstate(invalid="ignore", divide="ignore"):
            out[start : start + rows] = np.where(denom > 0, concordance / denom, np.nan)
    return out


IMAGE_INTERVAL = "bias-corrected normal, sqrt(2)-inflated"
GAP_TO_NOISE = 1.0  # shown only when neighbours are at least this many bootstrap SEs apart
FEW_SWAPS = 3  # and when tau* spreads over at least this many pair swaps
FEW_SWAPS_NOTE = (
    "no interval over test images: test-set noise swaps too few pairs for a calibrated one "
    "(under-covered in simulation)"
)
CLOSE_MODELS_NOTE = (
    "no interval over test images: neighbouring models are closer than test-set noise, where "
    "the bias correction under-covered (3-37 % in the joint-bootstrap simulation)"
)


def separation(draws: np.ndarray) -> float:
    """The median gap between neighbouring models' accuracies (bootstrap means, sorted) over the
    median bootstrap SE of one accuracy; 0 under two models."""
    present = draws[:, ~np.isnan(draws).any(axis=0)]
    if present.shape[1] < 2:
        return 0.0
    gaps = np.diff(np.sort(present.mean(axis=0)))
    noise = float(np.median(present.std(axis=0, ddof=1)))
    return float(np.median(gaps)) / noise if noise > 0 else float("inf")


def pair_swaps(taus: np.ndarray, n_models: int) -> float:
    """sd(tau*) in pair swaps: tau-b moves by about 4 / (M(M-1)) when one pair of models swaps."""
    return float(np.std(taus, ddof=1)) / (4 / (n_models * (n_models - 1)))


def bootstrap_tau_interval(
    tau: float,
    reference_draws: np.ndarray,
    target_draws: np.ndarray,
    *,
    method: str,
    alpha: float = 0.05,
) -> tuple[Interval, np.ndarray]:
    """Interval for the tau of the images' population (models fixed) from bootstrap worlds of
    test images.

    Test-set noise can only scramble close models, so the observed tau is biased low and the
    resampled taus tau* (noise added twice) lower still: their percentile interval describes a
    noisier re-run and misses the population tau (13 of 20 shipped rows excluded even the
    observed tau). The bootstrap estimates the bias, b = mean(tau*) - tau, and the interval is
    (tau - b) +- z sqrt(2) sd(tau*): the bias-corrected estimate's spread includes the noise of
    its own correction (the sqrt(2), chosen with the basic and percentile intervals by the
    simulation in tests/analysis/test_tau_image_interval.py). It is shown only between two
    failure regimes found by simulating the joint image bootstrap itself (bench_stats.py
    --image-coverage): when test-set noise barely moves tau (sd(tau*) under FEW_SWAPS pair
    swaps: 15 models 2 pp apart on 50,000 images would have covered 51 %), and when neighbouring
    models are closer than test-set noise (`separation`: the median gap between neighbouring
    accuracies under GAP_TO_NOISE median bootstrap SEs on either dataset; 3-37 % where
    neighbours were 0.03-0.13 pp apart on 10,000 images, the bias far beyond what the correction
    recovers)."""
    taus = kendall_tau_b_rows(reference_draws, target_draws)
    kept = taus[~np.isnan(taus)]
    if kept.size < 2:
        return Interval(float("nan"), float("nan"), f"{method}; too few draws"), taus
    if pair_swaps(kept, reference_draws.shape[1]) < FEW_SWAPS:
        return Interval(float("nan"), float("nan"), f"{method}; {FEW_SWAPS_NOTE}"), taus
    if min(separation(reference_draws), separation(target_draws)) < GAP_TO_NOISE:
        return Interval(float("nan"), float("nan"), f"{method}; {CLOSE_MODELS_NOTE}"), taus
    low, high = bias_corrected(tau, kept, alpha=alpha)
    return Interval(low, high, f"{IMAGE_INTERVAL} ({method})"), taus


def bias_corrected(tau: float, taus: np.ndarray, *, alpha: float = 0.05) -> tuple[float, float]:
    """(tau - b) +- z sqrt(2) sd(tau*), b = mean(tau*) - tau, within [-1, 1]: the interval over
    test images before the withholding rule."""
    z = float(stats.norm.ppf(1 - alpha / 2))
    centre = 2 * tau - float(taus.mean())
    half = z * np.sqrt(2) * float(taus.std(ddof=1))
    return float(max(centre - half, -1.0)), float(min(centre + half, 1.0))
