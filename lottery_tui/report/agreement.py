"""Rank agreement: does the reference ranking carry over to each other dataset?"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from analysis import rank_agreement as ra
from lottery_tui.report.draws import Draws, resample
from lottery_tui.report.labels import AGGREGATE, BINOMIAL, IMAGE_BOOTSTRAP, PAIRED
from lottery_tui.report.per_image import PerImage
from lottery_tui.report.selection import Selection

LARGE_POPULATION_DRAWS = 200  # simulation draws for tau when M > 64 (scipy tau per draw)


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
    selection = Selection.load(con, reference, datasets, models, source)
    agg = selection.agg
    rng = np.random.default_rng(seed)
    pi = PerImage(con)
    rows = []
    for target in selection.variants:
        both = selection.ranked_with(target)
        if top is not None:
            both = both[:top]
        if len(both) < 3:
            continue
        sub = agg.subset(both)
        tau = ra.kendall(sub.column(reference), sub.column(target), alpha=alpha)
        draws_n = (
            resamples if len(both) <= ra.VECTOR_LIMIT else min(resamples, LARGE_POPULATION_DRAWS)
        )
        sampled = resample(pi, agg, both, [reference, target], draws_n, rng)
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
                ci_method=f"{tau.ci.method} (over models)",
                spearman_rho=tau.spearman_rho,
                image_ci_low=image_ci.low,
                image_ci_high=image_ci.high,
                image_ci_method=image_ci.method,
                noise_ceiling=ceiling,
                mode=PAIRED if paired_mode else AGGREGATE,
            )
        )
    return rows


def _joint_method(sampled: Draws, reference: str, target: str, draws: int) -> str:
    kinds = {sampled.method[reference], sampled.method[target]}
    base = IMAGE_BOOTSTRAP if kinds == {IMAGE_BOOTSTRAP} else BINOMIAL
    return f"{base}, {draws} draws (over test images)"
