"""Resampled accuracies: the joint image bootstrap where per-image data allow, binomial
simulation from aggregates elsewhere, each labelled with how it was made."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis.bootstrap import binomial_accuracies, resample_accuracies
from lottery_tui.report.data import Aggregates, aligned_image_set, known_datasets
from lottery_tui.report.labels import BINOMIAL, IMAGE_BOOTSTRAP
from lottery_tui.report.per_image import PerImage


@dataclass
class Draws:
    """B x M resampled accuracies per dataset (NaN for missing models) and how they were made."""

    models: list[str]
    draws: dict[str, np.ndarray]
    method: dict[str, str]


def resample(
    pi: PerImage,
    agg: Aggregates,
    models: list[str],
    datasets: list[str],
    resamples: int,
    rng: np.random.Generator,
) -> Draws:
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
        image_set = aligned_image_set(
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
    return Draws(models, draws, method)


def mc_error(p: float, resamples: int) -> float:
    """Monte-Carlo error sqrt(p(1-p)/B) of a probability estimated from B draws."""
    return float(np.sqrt(p * (1 - p) / resamples))
