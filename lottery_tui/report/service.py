"""The statistics service the CLI (`lottery report`, `lottery compare`) and the explorer call.

Every function takes an open DuckDB connection (read-only is enough), loads what it needs via
`report.data` and returns dataclasses whose field names match the JSON output. Safe to call from
a worker thread with that thread's own connection. All randomness comes from `seed`.
Each question lives in its own module (`agreement`, `marginal`, `comparisons`, `ranking`,
`robustness_fit`, `population`); this module is the one place callers import from.

Two modes, always labelled: "paired" when both models have per-image predictions on a dataset
(McNemar, paired bootstrap, shared image draws for val and ReaL), "aggregate-only" otherwise
(unpaired two-proportion test, independent binomial simulation): never worded as paired.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb

from lottery_tui.report.agreement import LARGE_POPULATION_DRAWS, RankAgreementRow, rank_agreement
from lottery_tui.report.comparisons import Comparison, compare
from lottery_tui.report.context import ReportContext
from lottery_tui.report.labels import AGGREGATE, BINOMIAL, IMAGE_BOOTSTRAP, PAIRED
from lottery_tui.report.marginal import LotteryRow, MarginalGain, VariantResult, marginal_gains
from lottery_tui.report.population import (
    MDD_DISCORDANCES,
    DetectableRow,
    FriedmanResult,
    UnifiedScoreRow,
    detectable,
    friedman,
    unified_scores,
)
from lottery_tui.report.ranking import RankDistribution, RankRow, rank_distribution
from lottery_tui.report.robustness_fit import RobustnessFit, RobustnessRow, effective_robustness
from lottery_tui.report.selection import DEFAULT_FOCUS
from lottery_tui.report.summary import ReportSummary, summarize

__all__ = [
    "AGGREGATE",
    "BINOMIAL",
    "DEFAULT_FOCUS",
    "IMAGE_BOOTSTRAP",
    "LARGE_POPULATION_DRAWS",
    "MDD_DISCORDANCES",
    "PAIRED",
    "Comparison",
    "DetectableRow",
    "FriedmanResult",
    "LotteryRow",
    "MarginalGain",
    "RankAgreementRow",
    "RankDistribution",
    "RankRow",
    "Report",
    "ReportOptions",
    "ReportSummary",
    "RobustnessFit",
    "RobustnessRow",
    "UnifiedScoreRow",
    "VariantResult",
    "build_report",
    "compare",
    "detectable",
    "effective_robustness",
    "friedman",
    "marginal_gains",
    "rank_agreement",
    "rank_distribution",
    "summarize",
    "unified_scores",
]


@dataclass
class ReportOptions:
    reference: str = "imagenet"
    datasets: list[str] | None = None
    models: str | None = None
    source: str | None = None
    pretraining: str | None = None  # lottery_tui.store.pretraining.PRETRAINING
    protocol: str | None = None  # lottery_tui.store.pretraining.PROTOCOLS
    top: int | None = None
    resamples: int = 1000
    seed: int = 0
    alpha: float = 0.05
    adjust_method: str = "holm"
    pairs: list[tuple[str, str]] = field(default_factory=list)  # extra gains to judge: (A, B)


@dataclass
class Report:
    options: ReportOptions
    summary: ReportSummary
    focus: list[str]  # the top models on the reference that gains and rank uncertainty cover
    n_ranked: int  # models with a reference result in the selection
    rank_agreement: list[RankAgreementRow]
    marginal_gains: list[MarginalGain]
    rank_distribution: RankDistribution | None
    friedman: FriedmanResult | None
    unified_score: list[UnifiedScoreRow]
    effective_robustness: list[RobustnessFit]
    detectable: list[DetectableRow]
    notes: list[str]


def build_report(con: duckdb.DuckDBPyConnection, options: ReportOptions) -> Report:
    """Everything `lottery report` prints, for the CLI and the explorer alike."""
    o = options
    context = ReportContext.load(
        con,
        o.reference,
        o.datasets,
        o.models,
        o.source,
        pretraining=o.pretraining,
        protocol=o.protocol,
    )
    selection = context.selection
    agg = selection.agg
    focus = selection.focus(o.top)
    common = {
        "models": o.models,
        "source": o.source,
        "top": o.top,
        "resamples": o.resamples,
        "seed": o.seed,
        "alpha": o.alpha,
        "context": context,
    }
    agreement = rank_agreement(con, reference=o.reference, datasets=o.datasets, **common)
    gains_rows = marginal_gains(
        con,
        reference=o.reference,
        datasets=o.datasets,
        adjust_method=o.adjust_method,
        pairs=o.pairs,
        **common,
    )
    distribution = rank_distribution(con, dataset=o.reference, **common)
    fits = [
        effective_robustness(con, o.reference, d, **common)
        for d in selection.variants
        if len(selection.ranked_with(d)) >= 3
    ]
    notes = ["Inference is conditional on the checkpoints: one training run per model."]
    return Report(
        options=o,
        summary=summarize(gains_rows),
        focus=focus,
        n_ranked=len(selection.ranked),
        rank_agreement=agreement,
        marginal_gains=gains_rows,
        rank_distribution=distribution,
        friedman=friedman(agg, focus, o.alpha),
        unified_score=unified_scores(agg, focus),
        effective_robustness=fits,
        detectable=detectable(agg, o.alpha),
        notes=notes,
    )
