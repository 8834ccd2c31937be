"""A against B, dataset by dataset: paired tests where both have per-image predictions,
unpaired (and labelled so) where only aggregates exist."""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from analysis import paired
from analysis.multiplicity import adjust
from analysis.power import minimum_detectable_difference
from lottery_tui.errors import InputError
from lottery_tui.report.data import Aggregates, load_aggregates
from lottery_tui.report.labels import AGGREGATE, PAIRED
from lottery_tui.report.per_image import PerImage
from lottery_tui.report.selection import Options, Selection
from lottery_tui.report.streams import stream
from lottery_tui.store.identity import ModelFilter, ModelRef, display_names, resolve_model


@dataclass
class Comparison:
    dataset: str
    mode: str
    test: str
    n_images: int
    acc_a: float
    acc_b: float
    delta: float
    n10: int | None
    n01: int | None
    p_exact: float | None
    p_mid: float | None
    p_value: float
    ci_low: float
    ci_high: float
    ci_method: str
    wald_low: float | None
    wald_high: float | None
    newcombe_low: float | None
    newcombe_high: float | None
    mdd: float | None
    p_adjusted: float = float("nan")
    adjust_method: str = "holm"
    discordance_sweep: list[dict[str, float]] = field(default_factory=list)


@dataclass
class Comparisons:
    """`lottery compare A B`: the two identities (written SOURCE:NAME) and one row per dataset."""

    model_a: ModelRef
    model_b: ModelRef
    rows: list[Comparison]
    alpha: float


def pair_test(
    pi: PerImage, agg: Aggregates, a: ModelRef, b: ModelRef, dataset: str, options: Options
) -> Comparison | None:
    """One dataset, A vs B: paired when both have per-image predictions there, else unpaired.
    The bootstrap has its own stream, keyed by the two identities and the dataset."""
    alpha, resamples = options.alpha, options.resamples
    ia, ib = agg.position[a], agg.position[b]
    col = agg.datasets.index(dataset)
    acc_a, acc_b = agg.accuracy[ia, col], agg.accuracy[ib, col]
    if np.isnan(acc_a) or np.isnan(acc_b):
        return None
    if pi.has(dataset, [a, b]):
        correct, mask = pi.correct(dataset, [a, b])
        if mask is not None:
            correct = correct[mask]
        counts = paired.PairedCounts.from_correct(correct[:, 0], correct[:, 1])
        test = paired.mcnemar(counts.n10, counts.n01)
        rng = stream(options.seed, "pair", a.qualified, b.qualified, dataset)
        boot = paired.bootstrap_interval(counts, resamples, rng, alpha=alpha)
        wald = paired.wald_interval(counts, alpha=alpha)
        newcombe = paired.newcombe_interval(counts, alpha=alpha)
        return Comparison(
            dataset=dataset,
            mode=PAIRED,
            test="exact McNemar",
            n_images=counts.n,
            acc_a=counts.acc_a,
            acc_b=counts.acc_b,
            delta=counts.delta,
            n10=counts.n10,
            n01=counts.n01,
            p_exact=test.p_exact,
            p_mid=test.p_mid,
            p_value=test.p_exact,
            ci_low=boot.low,
            ci_high=boot.high,
            ci_method=f"{boot.method}, {resamples} draws",
            wald_low=wald.low,
            wald_high=wald.high,
            newcombe_low=newcombe.low,
            newcombe_high=newcombe.high,
            mdd=float(
                minimum_detectable_difference(
                    counts.n, max(counts.discordance, 1 / counts.n), alpha=alpha
                )
            ),
        )
    n_a, n_b = int(agg.n_images[ia, col]), int(agg.n_images[ib, col])
    if n_a <= 0 or n_b <= 0:
        return None
    k_a, k_b = round(acc_a * n_a), round(acc_b * n_b)
    test = paired.unpaired_two_proportion(k_a, n_a, k_b, n_b, alpha=alpha)
    return Comparison(
        dataset=dataset,
        mode=AGGREGATE,
        test="two-proportion z-test",
        n_images=min(n_a, n_b),
        acc_a=k_a / n_a,
        acc_b=k_b / n_b,
        delta=test.delta,
        n10=None,
        n01=None,
        p_exact=None,
        p_mid=None,
        p_value=test.p_value,
        ci_low=test.ci.low,
        ci_high=test.ci.high,
        ci_method=test.ci.method,
        wald_low=None,
        wald_high=None,
        newcombe_low=None,
        newcombe_high=None,
        mdd=None,
        discordance_sweep=[
            {"discordance": s.discordance, "p_value": s.p_value} for s in test.sweep
        ],
    )


def compare(
    con: duckdb.DuckDBPyConnection,
    a: str | ModelRef,
    b: str | ModelRef,
    selection: Selection,
    options: Options,
) -> Comparisons:
    """A vs B on each dataset of the selection where both have results; p-values adjusted
    over those datasets.

    A and B are identities (the explorer hands back the row it showed), `SOURCE:NAME` or names
    one source (among the selection's source and tags) has; only their rows and per-image
    predictions are read. The selection's reference and model glob do not apply: the two
    models are named."""
    keep = ModelFilter(selection.source, selection.pretraining, selection.protocol)
    refs = [resolve_model(con, spec, keep) for spec in (a, b)]
    if refs[0] == refs[1]:
        said = [spec.qualified if isinstance(spec, ModelRef) else spec for spec in (a, b)]
        raise InputError(
            f"{said[0]!r} and {said[1]!r} are the same model; compare two different models"
        )
    a, b = refs
    shown = display_names(refs)
    datasets = None if selection.datasets is None else list(selection.datasets)
    try:
        agg = load_aggregates(con, datasets=datasets, refs=refs)
    except InputError:
        raise InputError(f"no results for {shown[a]!r} or {shown[b]!r} in the selection") from None
    for ref in refs:
        if ref not in agg.position:
            raise InputError(f"no results for model {ref.qualified!r} in the selection")
    pi = PerImage(con, agg)
    rows = [row for d in agg.datasets if (row := pair_test(pi, agg, a, b, d, options)) is not None]
    if not rows:
        raise InputError(f"{shown[a]!r} and {shown[b]!r} share no dataset in the selection")
    adjusted = adjust([r.p_value for r in rows], options.adjustment)
    for row, p in zip(rows, adjusted.p_values, strict=True):
        row.p_adjusted = float(p)
        row.adjust_method = adjusted.method
    return Comparisons(a, b, rows, options.alpha)


def mdd_for(test: Comparison, alpha: float = 0.05) -> float:
    """Paired: at the pair's observed discordance. Aggregate-only: the discordance is unknown,
    so it is taken as if the two models erred independently, q = a(1-b) + b(1-a): real models'
    errors correlate, so q is smaller and this MDD errs towards "too small to detect"."""
    if test.mdd is not None:
        return test.mdd
    a, b = test.acc_a, test.acc_b
    q = max(a * (1 - b) + b * (1 - a), 1.0 / test.n_images)
    return float(minimum_detectable_difference(test.n_images, q, alpha=alpha))
