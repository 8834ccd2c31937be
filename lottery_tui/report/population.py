"""Summaries over the whole selected population: Friedman test, unified score, and the
smallest difference each dataset can detect."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis import friedman as friedman_test
from analysis import robustness
from analysis.power import minimum_detectable_difference
from lottery_tui.report import families
from lottery_tui.report.data import Aggregates
from lottery_tui.store.identity import ModelRef

MDD_DISCORDANCES = (0.05, 0.10, 0.20)


@dataclass
class FriedmanResult:
    datasets: list[str]
    models: list[ModelRef]
    mean_ranks: list[float]
    chi2: float
    p_chi2: float
    iman_davenport_f: float
    p_iman_davenport: float
    critical_difference: float
    alpha: float


@dataclass
class UnifiedScoreRow:
    model: ModelRef
    score: float
    rank: int


@dataclass
class DetectableRow:
    dataset: str
    n_images: int
    mdd: dict[str, float]


def friedman(agg: Aggregates, focus: list[ModelRef], alpha: float) -> FriedmanResult | None:
    """Friedman / Iman-Davenport / Nemenyi over the datasets where every focus model has a
    result (complete blocks only), one block per family: datasets sharing images (val, its
    -clean subsets, ReaL) or drawn from one pool (V2's versions) are not independent blocks."""
    sub = agg.subset(focus)
    complete = [d for d in agg.datasets if not np.isnan(sub.column(d)).any()]
    blocks = families.one_per_family(complete, agg.roles)
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


def unified_scores(agg: Aggregates, focus: list[ModelRef]) -> list[UnifiedScoreRow]:
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


def detectable(agg: Aggregates, alpha: float = 0.05) -> list[DetectableRow]:
    """The minimum detectable difference of each dataset at 80 % power, two-sided at alpha."""
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
                        f"{q:.2f}": float(minimum_detectable_difference(n, q, alpha=alpha))
                        for q in MDD_DISCORDANCES
                    },
                )
            )
    return rows
