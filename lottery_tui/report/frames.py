"""A report's results as pandas DataFrames, for notebooks: each column says what it holds.

Fractions become percent (`_pct`, a model's accuracy) or percentage points (`_pp`, a gain);
interval columns carry their level (`ci95_low_pp`) and a `*_method` column names how they were
made; adjusted p-values name their adjustment (`p_adjusted_holm`). Models are shown by their
display names (`Report.names`), and in full (SOURCE:NAME) where a column says `identity`.
"""

from __future__ import annotations

import math

import pandas as pd

from lottery_tui.report.service import Report


def level_tag(alpha: float) -> str:
    """`ci95` for alpha 0.05, `ci99.9` for 0.001: the interval level in a column name."""
    return f"ci{100 * (1 - alpha):.10g}"


def _scaled(x: float, factor: float = 100.0) -> float:
    return x * factor if x is not None and math.isfinite(x) else float("nan")


def summary_frame(report: Report) -> pd.DataFrame:
    """One row: how the verdicts fall and what data they rest on (the report's summary line)."""
    s = report.summary
    row = {f"n_{verdict.replace(' ', '_')}": n for verdict, n in s.verdicts.items()}
    row.update(
        n_gains=sum(s.verdicts.values()),
        data=s.data,
        paired_tests=s.paired_tests,
        aggregate_tests=s.aggregate_tests,
        top=s.top,
        adjacent_pairs=s.adjacent_pairs,
        swapped_pairs_point_estimates=s.swapped_pairs,
        text=s.text(),
    )
    return pd.DataFrame([row])


def rank_agreement_frame(report: Report) -> pd.DataFrame:
    """Kendall tau-b per dataset with its interval over models and over test images."""
    ci = level_tag(report.options.alpha)
    return pd.DataFrame(
        [
            {
                "dataset": r.dataset,
                "n_models": r.n_models,
                "kendall_tau_b": r.kendall_tau_b,
                "p_value": r.p_value,
                "p_method": r.p_method,
                f"{ci}_low_over_models": r.ci_low,
                f"{ci}_high_over_models": r.ci_high,
                "ci_method_over_models": r.ci_method,
                f"{ci}_low_over_images": r.image_ci_low,
                f"{ci}_high_over_images": r.image_ci_high,
                "ci_method_over_images": r.image_ci_method,
                "spearman_rho": r.spearman_rho,
                "mode": r.mode,
                "role": r.role,
            }
            for r in report.rank_agreement
        ]
    )


def gains_frame(report: Report) -> pd.DataFrame:
    """One row per marginal gain on the reference: the gain, its interval, p and verdict."""
    ci = level_tag(report.options.alpha)
    adjusted = f"p_adjusted_{report.options.adjustment}"
    names = report.names()
    return pd.DataFrame(
        [
            {
                "model": names[g.model],
                "below": names[g.below],
                "reference": g.reference,
                "gain_pp": _scaled(g.delta),
                f"{ci}_low_pp": _scaled(g.ci_low),
                f"{ci}_high_pp": _scaled(g.ci_high),
                "ci_method": g.ci_method,
                "test": g.test,
                "mode": g.mode,
                "p_value": g.p_value,
                adjusted: g.p_adjusted,
                "p_all_variants": g.p_all_variants,
                "verdict": g.verdict,
                "adjacent": g.adjacent,
                "better_on_reference": names.get(g.better_on_reference),
            }
            for g in report.marginal_gains
        ]
    )


def rank_uncertainty_frame(report: Report) -> pd.DataFrame:
    """Each top model's accuracy and rank on the reference with their intervals."""
    dist = report.rank_distribution
    if dist is None:
        return pd.DataFrame()
    ci = level_tag(dist.alpha)
    names = report.names()
    return pd.DataFrame(
        [
            {
                "model": names[r.model],
                "identity": r.model.qualified,
                "top1_pct": _scaled(r.accuracy),
                f"top1_{ci}_low_pct": _scaled(r.acc_ci_low),
                f"top1_{ci}_high_pct": _scaled(r.acc_ci_high),
                "top1_ci_method": r.acc_ci_method,
                "rank": r.rank,
                "expected_rank": r.expected_rank,
                f"rank_{ci}_low": r.rank_low,
                f"rank_{ci}_high": r.rank_high,
                "rank_method": f"percentile of {dist.resamples} draws ({dist.method})",
            }
            for r in dist.rows
        ]
    )
