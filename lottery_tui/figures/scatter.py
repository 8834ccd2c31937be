"""`scatter`: top-1 on a variant against top-1 on the reference, both on logit axes (the
ImageNet testbed's effective-robustness plot): every selected model with both results, the
logit-linear population fit with its bootstrap band, the top models highlighted."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy.special import expit, logit

from analysis import robustness
from analysis.intervals import level_label
from lottery_tui.errors import InputError
from lottery_tui.figures import style
from lottery_tui.report.streams import stream

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lottery_tui.report.data import Aggregates
    from lottery_tui.report.robustness_fit import RobustnessFit
    from lottery_tui.report.service import Report

GRID = 200  # points along the fitted line


def fit_for(report: Report, target: str | None) -> RobustnessFit:
    """The report's fit on `target` (None: the first variant with one)."""
    fits = {fit.target: fit for fit in report.effective_robustness}
    if target is None:
        return report.effective_robustness[0]
    if target not in fits:
        raise InputError(
            f"--target: no effective-robustness fit on {target!r}; choose from {', '.join(fits)}"
        )
    return fits[target]


def points(
    report: Report, population: Aggregates, reference: str, target: str
) -> tuple[list, np.ndarray]:
    """Every model (identity) with both results (the models the fit was made on) and its two
    accuracies, drawn in the order of the names the report shows (deterministic bytes)."""
    both = ~np.isnan(population.column(reference)) & ~np.isnan(population.column(target))
    shown = report.names()
    rows = sorted(np.flatnonzero(both), key=lambda i: shown[population.models[i]])
    models = [population.models[i] for i in rows]
    xy = np.column_stack([population.column(reference)[rows], population.column(target)[rows]])
    return models, xy


def draw(report: Report, population: Aggregates, width: str, *, target: str | None) -> Figure:
    o = report.options
    fit = fit_for(report, target)
    models, xy = points(report, population, fit.reference, fit.target)
    focus = set(report.focus)
    top = np.array([m in focus for m in models])
    figure = style.new_figure(width, style.WIDTHS[width] * 0.95)
    ax = figure.add_subplot()
    ax.set_xscale("logit")
    ax.set_yscale("logit")
    low, high = xy.min(axis=0), xy.max(axis=0)
    grid = np.linspace(low[0], high[0], GRID)
    band_low, band_high = robustness.line_band(
        xy[:, 0],
        xy[:, 1],
        grid,
        stream(o.seed, "robustness", fit.reference, fit.target),  # the fit's own draws
        resamples=o.resamples,
        alpha=o.alpha,
    )
    level = level_label(o.alpha)
    ax.fill_between(
        grid,
        band_low,
        band_high,
        color=style.colour(2),
        alpha=0.35,
        linewidth=0,
        label=f"{level} band (bootstrap over models, {o.resamples} resamples)",
    )
    line = expit(fit.intercept + fit.slope * logit(grid))
    ax.plot(
        grid,
        line,
        color=style.colour(5),
        label=(f"logit-linear fit over {fit.n_models} models, slope {fit.slope:.3f}"),
    )
    span = (min(low.min(), high.min()), max(low.max(), high.max()))
    ax.plot(span, span, linestyle=":", color=style.GREY, linewidth=0.6, label="y = x")
    ax.scatter(
        *xy[~top].T,
        s=4,
        color=style.GREY,
        alpha=0.6,
        linewidths=0,
        label="selected models",
        gid="scatter-population",
    )
    ax.scatter(
        *xy[top].T,
        s=14,
        color=style.colour(6),
        marker="D",
        linewidths=0,
        label=f"top {len(focus)} on {style.name(fit.reference)}",
        gid="scatter-focus",
    )
    ax.set_xlabel(f"top-1 on {style.name(fit.reference)} (logit scale)")
    ax.set_ylabel(f"top-1 on {style.name(fit.target)} (logit scale)")
    ax.set_title(
        style.wrap(
            f"Effective robustness: {style.name(fit.target)} against {style.name(fit.reference)}, "
            f"{len(models)} models",
            width,
            style.FONT_SIZE,
        )
    )
    ax.legend(loc="upper left", frameon=False, fontsize=style.FONT_SIZE - 1.5)
    return figure
