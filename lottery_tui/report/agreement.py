"""Rank agreement: does the reference ranking carry over to each other dataset?"""

from __future__ import annotations

from dataclasses import dataclass

from analysis import rank_agreement as ra
from analysis.intervals import Interval
from lottery_tui.report.context import ReportContext
from lottery_tui.report.draws import resample
from lottery_tui.report.families import role_label
from lottery_tui.report.labels import (
    AGGREGATE,
    IMAGE_BOOTSTRAP,
    OVER_MODELS,
    PAIRED,
    TOP_SELECTED,
    TWINS_COUNTED_ONCE,
)
from lottery_tui.report.selection import Options
from lottery_tui.report.streams import stream
from lottery_tui.store.readers import image_size_twins

LARGE_POPULATION_DRAWS = 200  # image-bootstrap draws for tau when M > 64 (scipy tau per draw)
NO_IMAGE_INTERVAL = (
    "no interval over test images: aggregate-only data; independent binomials ignore that "
    "models err on the same images, so the bias correction would overshoot"
)


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
    mode: str
    role: str  # 'variant', or e.g. 'subset of imagenet' (store roles)


def rank_agreement(
    ctx: ReportContext, options: Options, *, top: int | None = None
) -> list[RankAgreementRow]:
    """Kendall tau-b of the reference against each other dataset over the models in both
    (the top `top` of them when given); a checkpoint at two image sizes counted once."""
    pi, agg, reference, alpha = ctx.per_image, ctx.agg, ctx.reference, options.alpha
    twin_ids = image_size_twins(ctx.con, [m.model_id for m in agg.models])
    twins = {m for m in agg.models if m.model_id in twin_ids}
    rows = []
    for target in ctx.variants:
        ranked = ctx.ranked_with(target)
        both = [m for m in ranked if m not in twins]
        dropped = len(ranked) - len(both)
        if top is not None:
            both = both[:top]
        notes = [OVER_MODELS]
        if top is not None:
            notes.append(TOP_SELECTED.format(top=top, reference=reference))
        if dropped:
            notes.append(TWINS_COUNTED_ONCE.format(n=dropped))
        if len(both) < 3:
            continue
        sub = agg.subset(both)
        rng = stream(options.seed, "models", reference, target)
        tau = ra.kendall(sub.column(reference), sub.column(target), rng, alpha=alpha)
        paired_mode = pi.has(reference, both) and pi.has(target, both)
        if paired_mode:
            draws_n = (
                options.resamples
                if len(both) <= ra.VECTOR_LIMIT
                else min(options.resamples, LARGE_POPULATION_DRAWS)
            )
            sampled = resample(ctx, both, [reference, target], options)
            image_ci, _ = ra.bootstrap_tau_interval(
                tau.kendall_tau_b,
                sampled.draws[reference][:draws_n],
                sampled.draws[target][:draws_n],
                method=f"{IMAGE_BOOTSTRAP}, {draws_n} draws",
                alpha=alpha,
            )
        else:
            image_ci = Interval(float("nan"), float("nan"), NO_IMAGE_INTERVAL)
        rows.append(
            RankAgreementRow(
                dataset=target,
                n_models=tau.n_models,
                kendall_tau_b=tau.kendall_tau_b,
                p_value=tau.p_value,
                p_method=tau.p_method,
                ci_low=tau.ci.low,
                ci_high=tau.ci.high,
                ci_method=f"{tau.ci.method} ({'; '.join(notes)})",
                spearman_rho=tau.spearman_rho,
                image_ci_low=image_ci.low,
                image_ci_high=image_ci.high,
                image_ci_method=image_ci.method,
                mode=PAIRED if paired_mode else AGGREGATE,
                role=role_label(target, agg.roles),
            )
        )
    return rows
