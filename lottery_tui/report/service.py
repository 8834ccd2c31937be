"""The statistics service the CLI (`lottery report`, `lottery compare`) and the explorer call.

Every function takes an open DuckDB connection (read-only is enough), loads what it needs via
`report.data` and returns dataclasses whose field names match the JSON output. Safe to call from
a worker thread with that thread's own connection. All randomness comes from `seed`.

Two modes, always labelled: "paired" when both models have per-image predictions on a dataset
(McNemar, paired bootstrap, shared image draws for val and ReaL), "aggregate-only" otherwise
(unpaired two-proportion test, independent binomial simulation): never worded as paired.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from analysis import friedman as friedman_test
from analysis import gains, lottery, paired, ranks, robustness
from analysis import rank_agreement as ra
from analysis.bootstrap import ImageSet, binomial_accuracies, resample_accuracies
from analysis.intervals import clopper_pearson, percentile
from analysis.multiplicity import adjust
from analysis.power import minimum_detectable_difference
from lottery_tui.errors import InputError
from lottery_tui.report.data import (
    Aggregates,
    known_datasets,
    load_aggregates,
    load_image_data,
    per_image_models,
)

PAIRED = "paired (per-image)"
AGGREGATE = "aggregate-only (unpaired)"
IMAGE_BOOTSTRAP = "joint image bootstrap"
BINOMIAL = "parametric binomial simulation (aggregate-only)"
DEFAULT_FOCUS = 20  # models near the top studied in depth when --top is not given
LARGE_POPULATION_DRAWS = 200  # simulation draws for tau when M > 64 (scipy tau per draw)
MDD_DISCORDANCES = (0.05, 0.10, 0.20)


@dataclass
class ReportOptions:
    reference: str = "imagenet"
    datasets: list[str] | None = None
    models: str | None = None
    source: str | None = None
    top: int | None = None
    resamples: int = 1000
    seed: int = 0
    alpha: float = 0.05
    adjust_method: str = "holm"
    pairs: list[tuple[str, str]] = field(default_factory=list)  # extra gains to judge: (A, B)


@dataclass
class RankAgreementRow:
    dataset: str
    n_models: int
    kendall_tau_b: float
    p_value: float
    p_method: str
    ci_low: float
    ci_high: float
    ci_method: str
    spearman_rho: float
    image_ci_low: float
    image_ci_high: float
    image_ci_method: str
    noise_ceiling: float
    mode: str


@dataclass
class VariantResult:
    dataset: str
    mode: str
    test: str
    delta: float
    p_value: float
    p_adjusted: float
    outcome: str
    flip_probability: float
    flip_probability_se: float  # Monte-Carlo error sqrt(p(1-p)/B)
    mdd: float
    below_detectable: bool


@dataclass
class LotteryRow:
    rule: str
    probability: float
    monte_carlo_se: float  # sqrt(L(1-L)/B): resampling error of L, not a confidence interval
    index: float
    by_subset_size: list[float]


@dataclass
class MarginalGain:
    model: str
    below: str
    reference: str
    mode: str
    test: str
    delta: float
    p_value: float
    p_adjusted: float
    ci_low: float
    ci_high: float
    ci_method: str
    variants: list[VariantResult]
    p_all_variants: float
    lottery: list[LotteryRow]
    verdict: str
    adjust_method: str


@dataclass
class Comparison:
    dataset: str
    mode: str
    test: str
    n_images: int
    acc_a: float
    acc_b: float
    delta: float
    n10: int | None
    n01: int | None
    p_exact: float | None
    p_mid: float | None
    p_value: float
    ci_low: float
    ci_high: float
    ci_method: str
    wald_low: float | None
    wald_high: float | None
    newcombe_low: float | None
    newcombe_high: float | None
    mdd: float | None
    p_adjusted: float = float("nan")
    adjust_method: str = "holm"
    discordance_sweep: list[dict[str, float]] = field(default_factory=list)


@dataclass
class RankRow:
    model: str
    accuracy: float
    acc_ci_low: float
    acc_ci_high: float
    acc_ci_method: str
    rank: int
    expected_rank: float
    rank_low: int
    rank_high: int
    p_rank: list[float]


@dataclass
class RankDistribution:
    dataset: str
    method: str
    resamples: int
    rows: list[RankRow]


@dataclass
class RobustnessRow:
    model: str
    acc_reference: float
    acc_target: float
    effective_robustness: float
    ci_low: float
    ci_high: float


@dataclass
class RobustnessFit:
    reference: str
    target: str
    n_models: int
    intercept: float
    slope: float
    slope_low: float
    slope_high: float
    rows: list[RobustnessRow]


@dataclass
class FriedmanResult:
    datasets: list[str]
    models: list[str]
    mean_ranks: list[float]
    chi2: float
    p_chi2: float
    iman_davenport_f: float
    p_iman_davenport: float
    critical_difference: float
    alpha: float


@dataclass
class UnifiedScoreRow:
    model: str
    score: float
    rank: int


@dataclass
class DetectableRow:
    dataset: str
    n_images: int
    mdd: dict[str, float]


@dataclass
class Report:
    options: ReportOptions
    rank_agreement: list[RankAgreementRow]
    marginal_gains: list[MarginalGain]
    rank_distribution: RankDistribution | None
    friedman: FriedmanResult | None
    unified_score: list[UnifiedScoreRow]
    effective_robustness: list[RobustnessFit]
    detectable: list[DetectableRow]
    notes: list[str]


# --------------------------------------------------------------------------- selection


def _aggregates(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    datasets: list[str] | None,
    models: str | None,
    source: str | None,
) -> Aggregates:
    wanted = None if datasets is None else list(dict.fromkeys([reference, *datasets]))
    agg = load_aggregates(con, datasets=wanted, models=models, source=source)
    if reference not in agg.datasets:
        raise InputError(f"--reference: no results on dataset {reference!r} in the selection")
    return agg


def _top_on_reference(agg: Aggregates, reference: str, top: int | None) -> list[str]:
    """Models with a reference result, best first (ties broken by name for determinism)."""
    acc = agg.column(reference)
    order = sorted(
        (i for i in range(len(agg.models)) if not np.isnan(acc[i])),
        key=lambda i: (-acc[i], agg.models[i]),
    )
    chosen = [agg.models[i] for i in order]
    return chosen if top is None else chosen[:top]


def _variants(agg: Aggregates, reference: str) -> list[str]:
    return [d for d in agg.datasets if d != reference]


# --------------------------------------------------------------------------- per-image data


class _PerImage:
    """Per-image correctness loaded once per dataset (all its per-image models), then sliced:
    one service call touches each dataset's predictions once however many pairs it tests."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.models: dict[str, set[str]] = {}
        self.loaded: dict[str, tuple[list[str], np.ndarray, np.ndarray | None]] = {}

    def has(self, dataset: str, models: list[str] | tuple[str, ...]) -> bool:
        if dataset not in self.models:
            self.models[dataset] = per_image_models(self.con, dataset)
        return bool(models) and set(models) <= self.models[dataset]

    def correct(self, dataset: str, models: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """images x models correctness and the scored mask (None: every image counts)."""
        if dataset not in self.loaded:
            everyone = sorted(self.models.get(dataset) or per_image_models(self.con, dataset))
            data = load_image_data(self.con, [dataset], everyone)
            self.loaded[dataset] = (
                everyone,
                data.image_set.correct[dataset],
                data.image_set.scored[dataset],
            )
        everyone, matrix, scored = self.loaded[dataset]
        return matrix[:, [everyone.index(m) for m in models]], scored


# --------------------------------------------------------------------------- resampling


@dataclass
class _Draws:
    """B x M resampled accuracies per dataset (NaN for missing models) and how they were made."""

    models: list[str]
    draws: dict[str, np.ndarray]
    method: dict[str, str]


def _resample(
    pi: _PerImage,
    agg: Aggregates,
    models: list[str],
    datasets: list[str],
    resamples: int,
    rng: np.random.Generator,
) -> _Draws:
    """Image bootstrap where every present model has per-image data (one W per image set, so
    val and ReaL share draws); independent binomials at the aggregate accuracy elsewhere."""
    sub = agg.subset(models)
    shares = known_datasets(pi.con)
    groups: dict[tuple[str, tuple[str, ...]], list[str]] = {}
    simulated: list[str] = []
    for d in datasets:
        present = tuple(m for m, a in zip(models, sub.column(d), strict=True) if not np.isnan(a))
        if pi.has(d, present):
            groups.setdefault((shares.get(d) or d, present), []).append(d)
        else:
            simulated.append(d)
    draws: dict[str, np.ndarray] = {}
    method: dict[str, str] = {}
    for (_, present), members in groups.items():
        loaded = {d: pi.correct(d, list(present)) for d in members}
        image_set = ImageSet(
            {d: c for d, (c, _) in loaded.items()}, {d: m for d, (_, m) in loaded.items()}
        )
        sampled = resample_accuracies(image_set, resamples, rng)
        cols = [models.index(m) for m in present]
        for d in members:
            full = np.full((resamples, len(models)), np.nan)
            full[:, cols] = sampled[d]
            draws[d] = full
            method[d] = IMAGE_BOOTSTRAP
    for d in simulated:
        acc, n = sub.column(d), sub.counts(d)
        ok = ~np.isnan(acc) & (n > 0)
        full = np.full((resamples, len(models)), np.nan)
        full[:, ok] = binomial_accuracies(acc[ok], n[ok], resamples, rng)
        draws[d] = full
        method[d] = BINOMIAL
    return _Draws(models, draws, method)


# --------------------------------------------------------------------------- rank agreement


def rank_agreement(
    con: duckdb.DuckDBPyConnection,
    *,
    reference: str = "imagenet",
    datasets: list[str] | None = None,
    models: str | None = None,
    source: str | None = None,
    top: int | None = None,
    resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> list[RankAgreementRow]:
    """Kendall tau-b of the reference against each other dataset over the models in both."""
    agg = _aggregates(con, reference, datasets, models, source)
    rng = np.random.default_rng(seed)
    pi = _PerImage(con)
    rows = []
    ranked = _top_on_reference(agg, reference, None)
    for target in _variants(agg, reference):
        has_target = dict(zip(agg.models, ~np.isnan(agg.column(target)), strict=True))
        both = [m for m in ranked if has_target[m]]
        if top is not None:
            both = both[:top]
        if len(both) < 3:
            continue
        sub = agg.subset(both)
        tau = ra.kendall(sub.column(reference), sub.column(target), alpha=alpha)
        draws_n = (
            resamples if len(both) <= ra.VECTOR_LIMIT else min(resamples, LARGE_POPULATION_DRAWS)
        )
        sampled = _resample(pi, agg, both, [reference, target], draws_n, rng)
        image_ci, _ = ra.bootstrap_tau_interval(
            sampled.draws[reference],
            sampled.draws[target],
            method=_joint_method(sampled, reference, target, draws_n),
            alpha=alpha,
        )
        paired_mode = sampled.method[reference] == sampled.method[target] == IMAGE_BOOTSTRAP
        if sampled.method[target] == IMAGE_BOOTSTRAP:
            correct, scored = pi.correct(target, both)
            ceiling = ra.split_half_ceiling(correct, rng, scored=scored)
        else:
            ceiling = ra.split_half_ceiling_binomial(sub.column(target), sub.counts(target), rng)
        rows.append(
            RankAgreementRow(
                dataset=target,
                n_models=tau.n_models,
                kendall_tau_b=tau.kendall_tau_b,
                p_value=tau.p_value,
                p_method=tau.p_method,
                ci_low=tau.ci.low,
                ci_high=tau.ci.high,
                ci_method="fieller (over models)",
                spearman_rho=tau.spearman_rho,
                image_ci_low=image_ci.low,
                image_ci_high=image_ci.high,
                image_ci_method=image_ci.method,
                noise_ceiling=ceiling,
                mode=PAIRED if paired_mode else AGGREGATE,
            )
        )
    return rows


def _joint_method(sampled: _Draws, reference: str, target: str, draws: int) -> str:
    kinds = {sampled.method[reference], sampled.method[target]}
    base = IMAGE_BOOTSTRAP if kinds == {IMAGE_BOOTSTRAP} else BINOMIAL
    return f"{base}, {draws} draws (over test images)"


# --------------------------------------------------------------------------- pairs


def _pair_test(
    pi: _PerImage,
    agg: Aggregates,
    a: str,
    b: str,
    dataset: str,
    resamples: int,
    rng: np.random.Generator,
    alpha: float,
) -> Comparison | None:
    """One dataset, A vs B: paired when both have per-image predictions there, else unpaired."""
    ia, ib = agg.models.index(a), agg.models.index(b)
    col = agg.datasets.index(dataset)
    acc_a, acc_b = agg.accuracy[ia, col], agg.accuracy[ib, col]
    if np.isnan(acc_a) or np.isnan(acc_b):
        return None
    if pi.has(dataset, [a, b]):
        correct, mask = pi.correct(dataset, [a, b])
        if mask is not None:
            correct = correct[mask]
        counts = paired.PairedCounts.from_correct(correct[:, 0], correct[:, 1])
        test = paired.mcnemar(counts.n10, counts.n01)
        boot = paired.bootstrap_interval(counts, resamples, rng, alpha=alpha)
        wald = paired.wald_interval(counts, alpha=alpha)
        newcombe = paired.newcombe_interval(counts, alpha=alpha)
        return Comparison(
            dataset=dataset,
            mode=PAIRED,
            test="exact McNemar",
            n_images=counts.n,
            acc_a=counts.acc_a,
            acc_b=counts.acc_b,
            delta=counts.delta,
            n10=counts.n10,
            n01=counts.n01,
            p_exact=test.p_exact,
            p_mid=test.p_mid,
            p_value=test.p_exact,
            ci_low=boot.low,
            ci_high=boot.high,
            ci_method=f"{boot.method}, {resamples} draws",
            wald_low=wald.low,
            wald_high=wald.high,
            newcombe_low=newcombe.low,
            newcombe_high=newcombe.high,
            mdd=float(
                minimum_detectable_difference(counts.n, max(counts.discordance, 1 / counts.n))
            ),
        )
    n_a, n_b = int(agg.n_images[ia, col]), int(agg.n_images[ib, col])
    if n_a <= 0 or n_b <= 0:
        return None
    k_a, k_b = round(acc_a * n_a), round(acc_b * n_b)
    test = paired.unpaired_two_proportion(k_a, n_a, k_b, n_b, alpha=alpha)
    return Comparison(
        dataset=dataset,
        mode=AGGREGATE,
        test="two-proportion z-test",
        n_images=min(n_a, n_b),
        acc_a=k_a / n_a,
        acc_b=k_b / n_b,
        delta=test.delta,
        n10=None,
        n01=None,
        p_exact=None,
        p_mid=None,
        p_value=test.p_value,
        ci_low=test.ci.low,
        ci_high=test.ci.high,
        ci_method=test.ci.method,
        wald_low=None,
        wald_high=None,
        newcombe_low=None,
        newcombe_high=None,
        mdd=None,
        discordance_sweep=[
            {"discordance": s.discordance, "p_value": s.p_value} for s in test.sweep
        ],
    )


def compare(
    con: duckdb.DuckDBPyConnection,
    a: str,
    b: str,
    *,
    datasets: list[str] | None = None,
    source: str | None = None,
    resamples: int = 10000,
    seed: int = 0,
    alpha: float = 0.05,
    adjust_method: str = "holm",
) -> list[Comparison]:
    """A vs B on each dataset where both have results; p-values adjusted over those datasets."""
    agg = load_aggregates(con, datasets=datasets, source=source)
    for name in (a, b):
        if name not in agg.models:
            raise InputError(f"no results for model {name!r} in the selection")
    rng = np.random.default_rng(seed)
    pi = _PerImage(con)
    rows = [
        row
        for d in agg.datasets
        if (row := _pair_test(pi, agg, a, b, d, resamples, rng, alpha)) is not None
    ]
    if not rows:
        raise InputError(f"{a!r} and {b!r} share no dataset in the selection")
    adjusted = adjust([r.p_value for r in rows], adjust_method)
    for row, p in zip(rows, adjusted.p_values, strict=True):
        row.p_adjusted = float(p)
        row.adjust_method = adjusted.method
    return rows


# --------------------------------------------------------------------------- gains


def marginal_gains(
    con: duckdb.DuckDBPyConnection,
    *,
    reference: str = "imagenet",
    datasets: list[str] | None = None,
    models: str | None = None,
    source: str | None = None,
    top: int | None = None,
    resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
    adjust_method: str = "holm",
    pairs: list[tuple[str, str]] | None = None,
) -> list[MarginalGain]:
    """Each of the top models against the next one below it on the reference, plus `pairs`."""
    agg = _aggregates(con, reference, datasets, models, source)
    focus = _top_on_reference(agg, reference, top or DEFAULT_FOCUS)
    wanted = [(focus[i], focus[i + 1]) for i in range(len(focus) - 1)] + list(pairs or [])
    ranked = set(_top_on_reference(agg, reference, None))
    for a, b in pairs or []:
        for name in (a, b):
            if name not in ranked:
                raise InputError(
                    f"--pair: no {reference} result for model {name!r} in the selection"
                )
    population = list(dict.fromkeys([m for pair in wanted for m in pair]))
    population = sorted(population, key=lambda m: (-agg.column(reference)[agg.models.index(m)], m))
    rng = np.random.default_rng(seed)
    pi = _PerImage(con)
    variants = _variants(agg, reference)
    sampled = _resample(pi, agg, population, [reference, *variants], resamples, rng)
    rank_draws = {d: _ranks_with_missing(sampled.draws[d]) for d in variants}
    reference_tests = [
        _pair_test(pi, agg, a, b, reference, resamples, rng, alpha) for a, b in wanted
    ]
    ref_adjusted = adjust([t.p_value for t in reference_tests], adjust_method).p_values
    out = []
    for (a, b), ref, ref_p_adj in zip(wanted, reference_tests, ref_adjusted, strict=True):
        out.append(
            _one_gain(
                pi,
                agg,
                a,
                b,
                reference,
                ref,
                float(ref_p_adj),
                variants,
                sampled,
                rank_draws,
                resamples,
                rng,
                alpha,
                adjust_method,
            )
        )
    return out


def _ranks_with_missing(draws: np.ndarray) -> np.ndarray:
    """Ranks among the models present (missing models rank last)."""
    return ranks.ranks_of(np.where(np.isnan(draws), -np.inf, draws))


def _one_gain(
    pi: _PerImage,
    agg: Aggregates,
    a: str,
    b: str,
    reference: str,
    ref: Comparison,
    ref_p_adj: float,
    variants: list[str],
    sampled: _Draws,
    rank_draws: dict[str, np.ndarray],
    resamples: int,
    rng: np.random.Generator,
    alpha: float,
    adjust_method: str,
) -> MarginalGain:
    tests = [(d, t) for d in variants if (t := _pair_test(pi, agg, a, b, d, resamples, rng, alpha))]
    names = [d for d, _ in tests]
    floors = np.array([_mdd_for(t) for _, t in tests])
    judged = gains.verdict(
        ref.delta,
        ref_p_adj,
        names,
        np.array([t.delta for _, t in tests]),
        np.array([t.p_value for _, t in tests]),
        floors,
        alpha=alpha,
        method=adjust_method,
    )
    ia, ib = sampled.models.index(a), sampled.models.index(b)
    results = []
    for (d, t), o in zip(tests, judged.outcomes, strict=True):
        delta_draws = sampled.draws[d][:, ia] - sampled.draws[d][:, ib]
        flip = ranks.flip_probability(ref.delta, delta_draws)
        results.append(
            VariantResult(
                dataset=d,
                mode=t.mode,
                test=t.test,
                delta=t.delta,
                p_value=t.p_value,
                p_adjusted=o.p_adjusted,
                outcome=o.outcome,
                flip_probability=flip,
                flip_probability_se=_mc_error(flip, resamples),
                mdd=float(_mdd_for(t)),
                below_detectable=o.below_detectable,
            )
        )
    lottery_rows = []
    if names:
        acc_a = np.stack([sampled.draws[d][:, ia] for d in names], axis=1)
        acc_b = np.stack([sampled.draws[d][:, ib] for d in names], axis=1)
        rank_a = np.stack([rank_draws[d][:, ia] for d in names], axis=1)
        rank_b = np.stack([rank_draws[d][:, ib] for d in names], axis=1)
        for lp in lottery.lottery_probabilities(acc_a, acc_b, rank_a, rank_b):
            lottery_rows.append(
                LotteryRow(
                    lp.rule,
                    lp.probability,
                    _mc_error(lp.probability, resamples),
                    lp.index,
                    lp.by_subset_size,
                )
            )
    return MarginalGain(
        model=a,
        below=b,
        reference=reference,
        mode=ref.mode,
        test=ref.test,
        delta=ref.delta,
        p_value=ref.p_value,
        p_adjusted=ref_p_adj,
        ci_low=ref.ci_low,
        ci_high=ref.ci_high,
        ci_method=ref.ci_method,
        variants=results,
        p_all_variants=judged.p_all_variants,
        lottery=lottery_rows,
        verdict=judged.verdict,
        adjust_method=adjust_method,
    )


def _mc_error(p: float, resamples: int) -> float:
    return float(np.sqrt(p * (1 - p) / resamples))


def _mdd_for(test: Comparison) -> float:
    """Paired: at the pair's observed discordance. Aggregate-only: the discordance is unknown,
    so it is taken as if the two models erred independently, q = a(1-b) + b(1-a): real models'
    errors correlate, so q is smaller and this MDD errs towards "too small to detect"."""
    if test.mdd is not None:
        return test.mdd
    a, b = test.acc_a, test.acc_b
    q = max(a * (1 - b) + b * (1 - a), 1.0 / test.n_images)
    return float(minimum_detectable_difference(test.n_images, q))


# --------------------------------------------------------------------------- population


def rank_distribution(
    con: duckdb.DuckDBPyConnection,
    *,
    dataset: str = "imagenet",
    models: str | None = None,
    source: str | None = None,
    top: int | None = None,
    resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> RankDistribution:
    """P(rank = k), expected rank and a 95 % rank interval of the top models on one dataset."""
    agg = _aggregates(con, dataset, [dataset], models, source)
    focus = _top_on_reference(agg, dataset, top or DEFAULT_FOCUS)
    sampled = _resample(
        _PerImage(con), agg, focus, [dataset], resamples, np.random.default_rng(seed)
    )
    observed = agg.subset(focus).column(dataset)
    counts = agg.subset(focus).counts(dataset)
    dist = ranks.rank_distribution(observed, sampled.draws[dataset], alpha=alpha)
    if sampled.method[dataset] == IMAGE_BOOTSTRAP:
        low, high = percentile(sampled.draws[dataset], alpha=alpha)
        acc_ci = [(float(lo), float(hi)) for lo, hi in zip(low, high, strict=True)]
        acc_method = f"percentile bootstrap ({IMAGE_BOOTSTRAP})"
    else:
        acc_ci = [
            (ci.low, ci.high)
            for ci in (
                clopper_pearson(round(a * n), int(n), alpha=alpha)
                for a, n in zip(observed, counts, strict=True)
            )
        ]
        acc_method = "clopper-pearson (aggregate-only)"
    rows = [
        RankRow(
            model=m,
            accuracy=float(observed[i]),
            acc_ci_low=acc_ci[i][0],
            acc_ci_high=acc_ci[i][1],
            acc_ci_method=acc_method,
            rank=int(dist.observed_rank[i]),
            expected_rank=float(dist.expected_rank[i]),
            rank_low=int(dist.rank_low[i]),
            rank_high=int(dist.rank_high[i]),
            p_rank=[float(p) for p in dist.probabilities[i]],
        )
        for i, m in enumerate(focus)
    ]
    return RankDistribution(dataset, sampled.method[dataset], resamples, rows)


def effective_robustness(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    target: str,
    *,
    models: str | None = None,
    source: str | None = None,
    top: int | None = None,
    resamples: int = 1000,
    seed: int = 0,
    alpha: float = 0.05,
) -> RobustnessFit:
    """Logit-linear fit across every selected model with both results; rows for the top ones."""
    agg = _aggregates(con, reference, [target], models, source)
    if target not in agg.datasets:
        raise InputError(f"no results on dataset {target!r} in the selection")
    has_target = dict(zip(agg.models, ~np.isnan(agg.column(target)), strict=True))
    everyone = [m for m in _top_on_reference(agg, reference, None) if has_target[m]]
    if len(everyone) < 3:
        raise InputError(
            f"effective robustness on {target!r} needs at least 3 models with results on "
            f"{reference!r} and {target!r}, found {len(everyone)}"
        )
    sub = agg.subset(everyone)
    shown = everyone[: top or DEFAULT_FOCUS]
    fit = robustness.effective_robustness(
        sub.column(reference),
        sub.column(target),
        np.random.default_rng(seed),
        resamples=resamples,
        alpha=alpha,
        intervals_for=np.arange(len(shown)),
    )
    rows = [
        RobustnessRow(
            model=m,
            acc_reference=float(sub.column(reference)[i]),
            acc_target=float(sub.column(target)[i]),
            effective_robustness=float(fit.residual[i]),
            ci_low=float(fit.residual_low[i]),
            ci_high=float(fit.residual_high[i]),
        )
        for i, m in enumerate(shown)
    ]
    return RobustnessFit(
        reference,
        target,
        fit.n_models,
        fit.intercept,
        fit.slope,
        fit.slope_low,
        fit.slope_high,
        rows,
    )


def friedman(agg: Aggregates, focus: list[str], alpha: float) -> FriedmanResult | None:
    """Friedman / Iman-Davenport / Nemenyi over the datasets where every focus model has a
    result (complete blocks only)."""
    sub = agg.subset(focus)
    blocks = [d for d in agg.datasets if not np.isnan(sub.column(d)).any()]
    if len(blocks) < 2 or len(focus) < 2:
        return None
    result = friedman_test.friedman(np.stack([sub.column(d) for d in blocks]), alpha=alpha)
    return FriedmanResult(
        blocks,
        focus,
        [float(r) for r in result.mean_ranks],
        result.chi2,
        result.p_chi2,
        result.iman_davenport_f,
        result.p_iman_davenport,
        result.critical_difference,
        alpha,
    )


def unified_scores(agg: Aggregates, focus: list[str]) -> list[UnifiedScoreRow]:
    """Unified score over the datasets where every model of the population has a result;
    standardised across the whole selected population, reported for the focus models."""
    complete = [m for i, m in enumerate(agg.models) if not np.isnan(agg.accuracy[i]).any()]
    if len(complete) < 3:
        return []
    scores = robustness.unified_score(agg.subset(complete).accuracy)
    order = np.argsort(-scores, kind="stable")
    rank_of = {complete[j]: k + 1 for k, j in enumerate(order)}
    score_of = dict(zip(complete, scores, strict=True))
    return [UnifiedScoreRow(m, float(score_of[m]), rank_of[m]) for m in focus if m in score_of]


def detectable(agg: Aggregates) -> list[DetectableRow]:
    rows = []
    for d in agg.datasets:
        counts = agg.counts(d)
        n = int(np.max(counts)) if counts.size and np.max(counts) > 0 else 0
        if n:
            rows.append(
                DetectableRow(
                    d,
                    n,
                    {
                        f"{q:.2f}": float(minimum_detectable_difference(n, q))
                        for q in MDD_DISCORDANCES
                    },
                )
            )
    return rows


def build_report(con: duckdb.DuckDBPyConnection, options: ReportOptions) -> Report:
    """Everything `lottery report` prints, for the CLI and the explorer alike."""
    o = options
    agg = _aggregates(con, o.reference, o.datasets, o.models, o.source)
    focus = _top_on_reference(agg, o.reference, o.top or DEFAULT_FOCUS)
    common = {"models": o.models, "source": o.source, "seed": o.seed, "alpha": o.alpha}
    agreement = rank_agreement(
        con,
        reference=o.reference,
        datasets=o.datasets,
        top=o.top,
        resamples=o.resamples,
        **common,
    )
    gains_rows = marginal_gains(
        con,
        reference=o.reference,
        datasets=o.datasets,
        top=o.top,
        resamples=o.resamples,
        adjust_method=o.adjust_method,
        pairs=o.pairs,
        **common,
    )
    distribution = rank_distribution(
        con, dataset=o.reference, top=o.top, resamples=o.resamples, **common
    )
    fits = [
        effective_robustness(con, o.reference, d, top=o.top, resamples=o.resamples, **common)
        for d in _variants(agg, o.reference)
        if np.count_nonzero(~np.isnan(agg.column(d)) & ~np.isnan(agg.column(o.reference))) >= 3
    ]
    notes = [
        "Inference is conditional on the checkpoints: one training run per model.",
        f"Marginal gains, rank distributions and the unified score cover the top {len(focus)} "
        f"models on {o.reference}.",
    ]
    return Report(
        options=o,
        rank_agreement=agreement,
        marginal_gains=gains_rows,
        rank_distribution=distribution,
        friedman=friedman(agg, focus, o.alpha),
        unified_score=unified_scores(agg, focus),
        effective_robustness=fits,
        detectable=detectable(agg),
        notes=notes,
    )
