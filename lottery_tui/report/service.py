"""The statistics service the Python API (`lottery_tui.api`), and through it the CLI, and the
explorer call.

A `Selection` (what) and `Options` (how) describe every call; `build_report` loads one
`ReportContext` from an open DuckDB connection (read-only is enough) and asks every question
of it; each question takes a context first. Results are dataclasses whose field names match
the JSON output. Safe to call from a worker thread with that thread's own connection. All
randomness comes from `Options.seed`, one stream per unit of work (`report.streams`).
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
from lottery_tui.report.comparisons import Comparison, Comparisons, compare
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
from lottery_tui.report.selection import COMPARE_RESAMPLES, DEFAULT_FOCUS, Options, Selection
from lottery_tui.report.summary import ReportSummary, summarize
from lottery_tui.store.identity import ModelRef, display_names
from lottery_tui.store.readers import protocol_counts

__all__ = [
    "AGGREGATE",
    "BINOMIAL",
    "COMPARE_RESAMPLES",
    "DEFAULT_FOCUS",
    "IMAGE_BOOTSTRAP",
    "LARGE_POPULATION_DRAWS",
    "MDD_DISCORDANCES",
    "PAIRED",
    "Comparison",
    "Comparisons",
    "DetectableRow",
    "FriedmanResult",
    "LotteryRow",
    "MarginalGain",
    "Options",
    "RankAgreementRow",
    "RankDistribution",
    "RankRow",
    "Report",
    "ReportContext",
    "ReportSummary",
    "RobustnessFit",
    "RobustnessRow",
    "Selection",
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
class Report:
    selection: Selection
    options: Options
    top: int | None  # --top as given (None: DEFAULT_FOCUS for gains, every model for agreement)
    pairs: list[tuple[str, str]]  # extra gains judged (--pair), as named
    summary: ReportSummary
    focus: list[ModelRef]  # the top models on the reference that gains and rank uncertainty cover
    n_ranked: int  # models with a reference result in the selection
    rank_agreement: list[RankAgreementRow]
    marginal_gains: list[MarginalGain]
    rank_distribution: RankDistribution | None
    friedman: FriedmanResult | None
    unified_score: list[UnifiedScoreRow]
    effective_robustness: list[RobustnessFit]
    detectable: list[DetectableRow]
    notes: list[str]
    # every selected identity with a result: what display names are made over (not in the JSON)
    identities: list[ModelRef] = field(default_factory=list, metadata={"written": False})

    def names(self) -> dict[ModelRef, str]:
        """The text each identity is shown as, by the one rule (`identity.display_names`):
        made here, when the report is written, never stored in its rows."""
        return display_names(self.identities)


def build_report(
    con: duckdb.DuckDBPyConnection,
    selection: Selection,
    options: Options,
    *,
    top: int | None = None,
    pairs: list[tuple[str, str]] | None = None,
) -> Report:
    """Everything `lottery report` prints: one load, one joint draw per image set, every
    question asked of the same context."""
    ctx = ReportContext.load(con, selection, share_draws=True)
    return report_of(ctx, options, top=top, pairs=pairs)


def protocol_mix_note(ctx: ReportContext, focus: list[ModelRef]) -> str | None:
    """A warning when the models studied were evaluated under different protocols (a fine-tuned
    model beside a linear probe, a released head beside one trained here): their ranking then
    compares protocols as much as pretraining."""
    ids = [m.model_id for m in focus]
    counts = {p: n for p, n in protocol_counts(ctx.con, ids).items() if p != "unknown"}
    if len(counts) < 2:
        return None
    listed = ", ".join(f"{p} ({n})" for p, n in counts.items())
    return (
        f"The models studied mix evaluation protocols: {listed}; their ranking compares "
        "protocols as much as pretraining (--protocol keeps one)."
    )


def report_of(
    ctx: ReportContext,
    options: Options,
    *,
    top: int | None = None,
    pairs: list[tuple[str, str]] | None = None,
) -> Report:
    """The report of a loaded context (the API keeps the context's population for figures)."""
    selection = ctx.selection
    agg = ctx.agg
    focus = ctx.focus(top)
    gains_rows = marginal_gains(ctx, options, top=top, pairs=pairs)
    fits = [
        effective_robustness(ctx, d, options, top=top)
        for d in ctx.variants
        if len(ctx.ranked_with(d)) >= 3
    ]
    notes = ["Inference is conditional on the checkpoints: one training run per model."]
    mixed = protocol_mix_note(ctx, focus)
    if mixed:
        notes.append(mixed)
    return Report(
        selection=selection,
        options=options,
        top=top,
        pairs=[tuple(pair) for pair in pairs or []],
        summary=summarize(gains_rows),
        focus=focus,
        n_ranked=len(ctx.ranked),
        rank_agreement=rank_agreement(ctx, options, top=top),
        marginal_gains=gains_rows,
        rank_distribution=rank_distribution(ctx, options, top=top),
        friedman=friedman(agg, focus, options.alpha),
        unified_score=unified_scores(agg, focus),
        effective_robustness=fits,
        detectable=detectable(agg, options.alpha),
        notes=notes,
        identities=list(agg.models),
    )
