"""Resampled accuracies: the joint image bootstrap where per-image data allow, binomial
simulation from aggregates elsewhere, each labelled with how it was made.

One joint draw per report: with `ReportContext.share_draws` each image set (val and ReaL share
one) is resampled once, for every ranked model with per-image data there, and cached in the
context; each question slices the columns of its models, so rank agreement, marginal gains and
rank distributions see the same bootstrap worlds. Without it (a question asked alone) the draw
covers the question's own models. Each draw has its own random stream keyed by what it is
(`report.streams`): the image set, or one model on one dataset for binomials.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING

import numpy as np

from analysis.bootstrap import binomial_accuracies, resample_accuracies
from lottery_tui.report.data import aligned_image_set, known_datasets
from lottery_tui.report.labels import BINOMIAL, IMAGE_BOOTSTRAP
from lottery_tui.report.selection import Options
from lottery_tui.report.streams import stream
from lottery_tui.store.identity import ModelRef

if TYPE_CHECKING:
    from lottery_tui.report.context import ReportContext


@dataclass
class Draws:
    """B x M resampled accuracies per dataset (NaN for missing models) and how they were made."""

    models: list[ModelRef]
    draws: dict[str, np.ndarray]
    method: dict[str, str]
    column: dict[ModelRef, int] = field(init=False, repr=False)  # where a model's draws are

    def __post_init__(self) -> None:
        self.column = {m: j for j, m in enumerate(self.models)}


def resample(
    ctx: ReportContext, models: list[ModelRef], datasets: list[str], options: Options
) -> Draws:
    """Image bootstrap where every present model has per-image data (sliced from the image
    set's one joint draw); independent binomials at the aggregate accuracy elsewhere."""
    sub = ctx.agg.subset(models)
    b = options.resamples
    draws: dict[str, np.ndarray] = {}
    method: dict[str, str] = {}
    for d in datasets:
        acc, n = sub.column(d), sub.counts(d)
        present = [m for m, a in zip(models, acc, strict=True) if not np.isnan(a)]
        full = np.full((b, len(models)), np.nan)
        if ctx.per_image.has(d, present):
            universe, joint = _joint(ctx, d, present, options)
            column = {m: j for j, m in enumerate(universe)}
            cols = [j for j, a in enumerate(acc) if not np.isnan(a)]
            full[:, cols] = joint[:, [column[m] for m in present]]
            method[d] = IMAGE_BOOTSTRAP
        else:
            for j, m in enumerate(models):
                if not np.isnan(acc[j]) and n[j] > 0:
                    rng = stream(options.seed, "binomial", d, m.qualified)
                    full[:, j] = binomial_accuracies(acc[j : j + 1], n[j : j + 1], b, rng)[:, 0]
            method[d] = BINOMIAL
        draws[d] = full
    return Draws(models, draws, method)


def _universe(ctx: ReportContext, dataset: str, models: list[ModelRef]) -> tuple[ModelRef, ...]:
    """What the joint draw on `dataset` covers: every ranked model with per-image data there
    when the context shares its draws, else `models` (best first either way)."""
    if not ctx.share_draws:
        chosen = set(models)
        return tuple(m for m in ctx.ranked if m in chosen)
    return tuple(m for m in ctx.ranked if ctx.per_image.has(dataset, [m]))


def _joint(
    ctx: ReportContext, dataset: str, models: list[ModelRef], options: Options
) -> tuple[list[ModelRef], np.ndarray]:
    """The image set's joint draw (B x universe) for `dataset`, made on first use: the
    selected datasets on the same images with the same universe are drawn together (shared W)."""
    shares = known_datasets(ctx.con)
    base = shares.get(dataset) or dataset
    universe = _universe(ctx, dataset, models)
    group = [
        d
        for d in ctx.agg.datasets
        if (shares.get(d) or d) == base
        and ctx.per_image.has(d, universe)
        and _universe(ctx, d, models) == universe
    ]
    key = (tuple(group), universe, options.resamples, options.seed)
    if key not in ctx.draws_cache:
        loaded = {d: ctx.per_image.correct(d, list(universe)) for d in group}
        image_set = aligned_image_set(
            {d: c for d, (c, _) in loaded.items()}, {d: m for d, (_, m) in loaded.items()}
        )
        rng = stream(options.seed, "images", *group)
        ctx.draws_cache[key] = resample_accuracies(image_set, options.resamples, rng)
    return list(universe), ctx.draws_cache[key][dataset]


def mc_error(p: float, resamples: int) -> float:
    """Monte-Carlo error sqrt(p(1-p)/B) of a probability estimated from B draws."""
    return float(np.sqrt(p * (1 - p) / resamples))
