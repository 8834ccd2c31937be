"""Effective robustness: how far each model sits above the logit-linear trend from the
reference to a target dataset."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

from analysis import robustness
from lottery_tui.errors import InputError
from lottery_tui.report.context import ReportContext
from lottery_tui.report.selection import DEFAULT_FOCUS, Options
from lottery_tui.report.streams import stream
from lottery_tui.store.identity import ModelRef


@dataclass
class RobustnessRow:
    model: ModelRef
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


def effective_robustness(
    ctx: ReportContext, target: str, options: Options, *, top: int | None = None
) -> RobustnessFit:
    """Logit-linear fit from the context's reference to `target` across every selected model
    with both results; rows for the top `top` (default DEFAULT_FOCUS)."""
    reference = ctx.reference
    if target not in ctx.agg.datasets:
        raise InputError(f"no results on dataset {target!r} in the selection")
    everyone = ctx.ranked_with(target)
    if len(everyone) < 3:
        raise InputError(
            f"effective robustness on {target!r} needs at least 3 models with results on "
            f"{reference!r} and {target!r}, found {len(everyone)}"
        )
    sub = ctx.agg.subset(everyone)
    shown = everyone[: top or DEFAULT_FOCUS]
    fit = robustness.effective_robustness(
        sub.column(reference),
        sub.column(target),
        stream(options.seed, "robustness", reference, target),
        resamples=options.resamples,
        alpha=options.alpha,
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
