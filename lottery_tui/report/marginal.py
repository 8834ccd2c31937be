"""Marginal gains: is each ImageNet gain near the top real on the variants, or a lottery win?"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis import gains, lottery, ranks
from analysis.multiplicity import adjust
from lottery_tui.errors import InputError
from lottery_tui.report import families
from lottery_tui.report.comparisons import Comparison, mdd_for, pair_test
from lottery_tui.report.context import ReportContext
from lottery_tui.report.data import Aggregates
from lottery_tui.report.draws import Draws, mc_error, resample
from lottery_tui.report.labels import IMAGE_BOOTSTRAP, UNADJUSTED, resampling_label
from lottery_tui.report.per_image import PerImage
from lottery_tui.report.selection import Options
from lottery_tui.store.identity import ModelRef


@dataclass
class VariantResult:
    dataset: str
    mode: str
    test: str
    delta: float
    ci_low: float
    ci_high: float
    ci_method: str
    p_value: float
    p_adjusted: float
    outcome: str
    flip_probability: float
    flip_probability_se: float  # Monte-Carlo error sqrt(p(1-p)/B)
    mdd: float
    below_detectable: bool
    flip_method: str = IMAGE_BOOTSTRAP  # how the flip probability's draws were made


@dataclass
class LotteryRow:
    rule: str
    probability: float
    monte_carlo_se: float  # sqrt(L(1-L)/B): resampling error of L, not a confidence interval
    index: float
    by_subset_size: list[float]
    method: str = IMAGE_BOOTSTRAP  # how the draws were made (resampling_label)


@dataclass
class MarginalGain:
    model: ModelRef
    below: ModelRef
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
    adjacent: bool  # an adjacent pair of the reference ranking (else named with --pair)
    better_on_reference: ModelRef | None  # the higher reference score's model (None: a tie)


@dataclass(frozen=True)
class _GainContext:
    """What every gain of one call shares: the data, the bootstrap worlds and the settings."""

    pi: PerImage
    agg: Aggregates
    reference: str
    variants: list[str]
    sampled: Draws
    rank_draws: dict[str, np.ndarray]
    options: Options


Pair = tuple[ModelRef, ModelRef]


def gain_pairs(focus: list[ModelRef], pairs: list[Pair] | None) -> list[tuple[Pair, bool]]:
    """Adjacent pairs of the focus, then each named pair not already listed in that order: a
    named pair that is an adjacent pair reversed ("is B really better than A?") is listed too,
    never dropped. Flags which are adjacent; `reference_family` counts a pair and its mirror
    once."""
    adjacent = [(focus[i], focus[i + 1]) for i in range(len(focus) - 1)]
    seen = set(adjacent)
    out = [(pair, True) for pair in adjacent]
    for pair in pairs or []:
        if pair not in seen:
            seen.add(pair)
            out.append((pair, False))
    return out


def reference_family(wanted: list[Pair], p_values: list[float], method: str) -> np.ndarray:
    """Adjusted reference p-values with each comparison counted once: a pair and its mirror are
    one test (McNemar and the unpaired test are symmetric), so both get its adjusted p."""
    keys = [frozenset(pair) for pair in wanted]
    first = dict(zip(reversed(keys), reversed(p_values), strict=True))  # first occurrence wins
    unique = list(first)
    adjusted = dict(zip(unique, adjust([first[k] for k in unique], method).p_values, strict=True))
    return np.array([adjusted[k] for k in keys])


def marginal_gains(
    ctx: ReportContext,
    options: Options,
    *,
    top: int | None = None,
    pairs: list[tuple[str, str]] | None = None,
) -> list[MarginalGain]:
    """Each of the top models against the next one below it on the reference, plus `pairs`
    (each model written `SOURCE:NAME` or as a name one selected source has)."""
    pi, agg, reference = ctx.per_image, ctx.agg, ctx.reference
    focus = ctx.focus(top)
    extra = [(agg.find(a), agg.find(b)) for a, b in pairs or []]
    ranked = set(ctx.ranked)
    for a, b in extra:
        if a == b:
            raise InputError(f"--pair: {a.qualified!r} is compared with itself; name two models")
        for ref in (a, b):
            if ref not in ranked:
                raise InputError(
                    f"--pair: no {reference} result for model {ref.qualified!r} in the selection"
                )
    listed = gain_pairs(focus, extra)
    wanted = [pair for pair, _ in listed]
    chosen = {m for pair in wanted for m in pair}
    population = [m for m in ctx.ranked if m in chosen]
    # the defaults count one independent family once; datasets named with --datasets count as given
    variants = (
        ctx.variants
        if ctx.selection.datasets is not None
        else families.independent(ctx.variants, agg.roles, reference)
    )
    sampled = resample(ctx, population, [reference, *variants], options)
    rank_draws = {d: _ranks_with_missing(sampled.draws[d]) for d in variants}
    reference_tests = [pair_test(pi, agg, a, b, reference, options) for a, b in wanted]
    ref_adjusted = reference_family(
        wanted, [t.p_value for t in reference_tests], options.adjustment
    )
    shared = _GainContext(pi, agg, reference, variants, sampled, rank_draws, options)
    return [
        _one_gain(shared, (a, b, is_adjacent), ref, float(ref_p_adj))
        for ((a, b), is_adjacent), ref, ref_p_adj in zip(
            listed, reference_tests, ref_adjusted, strict=True
        )
    ]


def _ranks_with_missing(draws: np.ndarray) -> np.ndarray:
    """Ranks among the models present (missing models rank last)."""
    return ranks.ranks_of(np.where(np.isnan(draws), -np.inf, draws))


def _one_gain(
    ctx: _GainContext, pair: tuple[ModelRef, ModelRef, bool], ref: Comparison, ref_p_adj: float
) -> MarginalGain:
    a, b, is_adjacent = pair
    pi, agg, options = ctx.pi, ctx.agg, ctx.options
    resamples, alpha = options.resamples, options.alpha
    sampled, rank_draws = ctx.sampled, ctx.rank_draws
    tests = [(d, t) for d in ctx.variants if (t := pair_test(pi, agg, a, b, d, options))]
    names = [d for d, _ in tests]
    floors = np.array([mdd_for(t, alpha) for _, t in tests])
    judged = gains.verdict(
        ref.delta,
        ref_p_adj,
        names,
        np.array([t.delta for _, t in tests]),
        np.array([t.p_value for _, t in tests]),
        floors,
        alpha=alpha,
        method=options.adjustment,
    )
    ia, ib = sampled.column[a], sampled.column[b]
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
                ci_low=t.ci_low,
                ci_high=t.ci_high,
                ci_method=f"{t.ci_method}; {UNADJUSTED.format(adjust=ctx.options.adjustment)}",
                p_value=t.p_value,
                p_adjusted=o.p_adjusted,
                outcome=o.outcome,
                flip_probability=flip,
                flip_probability_se=mc_error(flip, resamples),
                mdd=float(mdd_for(t, alpha)),
                below_detectable=o.below_detectable,
                flip_method=resampling_label([sampled.method[d]]),
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
                    mc_error(lp.probability, resamples),
                    lp.index,
                    lp.by_subset_size,
                    resampling_label([sampled.method[d] for d in names]),
                )
            )
    return MarginalGain(
        model=a,
        below=b,
        reference=ctx.reference,
        mode=ref.mode,
        test=ref.test,
        delta=ref.delta,
        p_value=ref.p_value,
        p_adjusted=ref_p_adj,
        ci_low=ref.ci_low,
        ci_high=ref.ci_high,
        ci_method=f"{ref.ci_method}; {UNADJUSTED.format(adjust=ctx.options.adjustment)}",
        variants=results,
        p_all_variants=judged.p_all_variants,
        lottery=lottery_rows,
        verdict=judged.verdict,
        adjust_method=options.adjustment,
        adjacent=is_adjacent,
        better_on_reference=a if ref.delta > 0 else b if ref.delta < 0 else None,
    )
