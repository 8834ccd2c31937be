"""Where each top model ranks once test-set noise is accounted for: P(rank = k) on one dataset."""

from __future__ import annotations

from dataclasses import dataclass, field

from analysis import ranks
from analysis.intervals import clopper_pearson, percentile
from lottery_tui.report.context import ReportContext
from lottery_tui.report.draws import resample
from lottery_tui.report.labels import IMAGE_BOOTSTRAP
from lottery_tui.report.selection import Options
from lottery_tui.store.identity import ModelRef


@dataclass
class RankRow:
    # written as its display name, and in full (SOURCE:NAME) as `identity` (report.render.plain)
    model: ModelRef = field(metadata={"qualified_as": "identity"})
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
    alpha: float  # the rank and accuracy intervals are at level 1 - alpha
    rows: list[RankRow]


def rank_distribution(
    ctx: ReportContext, options: Options, *, top: int | None = None
) -> RankDistribution:
    """P(rank = k), expected rank and a (1 - alpha) rank interval of the top models on the
    context's reference."""
    agg, dataset, alpha, resamples = ctx.agg, ctx.reference, options.alpha, options.resamples
    focus = ctx.focus(top)
    sampled = resample(ctx, focus, [dataset], options)
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
    return RankDistribution(dataset, sampled.method[dataset], resamples, alpha, rows)
