"""Report and comparison as JSON (for scripts) or markdown (for a paper's appendix).

Accuracies and deltas are fractions in JSON and percentage points in markdown. Every interval
and adjusted p-value is printed with the name of its method; aggregate-only rows say so.
"""

from __future__ import annotations

import dataclasses
import json
import math
from typing import Any

from lottery_tui.report.service import PAIRED, Comparison, Report


def plain(value: Any) -> Any:
    """Dataclasses, numpy scalars and NaN to JSON-ready Python values (NaN becomes null)."""
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        return {f.name: plain(getattr(value, f.name)) for f in dataclasses.fields(value)}
    if isinstance(value, dict):
        return {str(k): plain(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def report_json(report: Report) -> str:
    return json.dumps(plain(report), indent=2) + "\n"


def compare_json(a: str, b: str, rows: list[Comparison]) -> str:
    return json.dumps({"model_a": a, "model_b": b, "comparisons": plain(rows)}, indent=2) + "\n"


def _pp(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:+.{digits}f}"


def _pct(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}"


def _p(x: float | None) -> str:
    if x is None or not math.isfinite(x):
        return "n/a"
    if x < 1e-300:
        return "< 1e-300"
    return f"{x:.2e}" if x < 1e-3 else f"{x:.4f}"


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def report_markdown(report: Report) -> str:
    o = report.options
    out = [
        f"# Benchmark-lottery report: reference {o.reference}",
        "",
        f"Selection: models `{o.models or '*'}`, source `{o.source or 'all'}`, "
        f"top {o.top or 'all'}; {o.resamples} bootstrap resamples, seed {o.seed}, "
        f"alpha {o.alpha}, multiplicity: {o.adjust_method}.",
        "",
        f"**Summary.** {report.summary.text()}",
        "",
    ]
    out += [f"- {note}" for note in report.notes] + [""]
    out += ["## Rank agreement with the reference", ""]
    if report.rank_agreement:
        out += _table(
            [
                "dataset",
                "models",
                "Kendall tau-b",
                "p",
                "95% CI over models",
                "95% CI over test images",
                "noise ceiling",
                "Spearman",
                "mode",
            ],
            [
                [
                    r.dataset,
                    str(r.n_models),
                    _f(r.kendall_tau_b),
                    f"{_p(r.p_value)} ({r.p_method})",
                    f"[{_f(r.ci_low)}, {_f(r.ci_high)}] {r.ci_method}",
                    f"[{_f(r.image_ci_low)}, {_f(r.image_ci_high)}] {r.image_ci_method}",
                    _f(r.noise_ceiling),
                    _f(r.spearman_rho),
                    r.mode,
                ]
                for r in report.rank_agreement
            ],
        )
    else:
        out += ["No other dataset has results for at least 3 of the selected models.", ""]
    out += ["## Marginal gains on the reference", ""]
    out += _table(
        ["model", "vs next below", "gain (pp)", "95% CI (pp)", "test", "p", "p adj.", "verdict"],
        [
            [
                g.model,
                g.below,
                _pp(g.delta),
                f"[{_pp(g.ci_low)}, {_pp(g.ci_high)}]",
                f"{g.test} ({g.mode})",
                _p(g.p_value),
                f"{_p(g.p_adjusted)} ({g.adjust_method})",
                f"**{g.verdict}**",
            ]
            for g in report.marginal_gains
        ],
    )
    for g in report.marginal_gains:
        if not g.variants:
            continue
        out += [f"### {g.model} vs {g.below}: {g.verdict}", ""]
        out += _table(
            [
                "variant",
                "gain (pp)",
                "95% CI (pp)",
                "test",
                "p",
                f"p adj. ({g.adjust_method})",
                "outcome",
                "flip prob.",
                "MDD (pp)",
            ],
            [
                [
                    v.dataset,
                    _pp(v.delta),
                    f"[{_pp(v.ci_low)}, {_pp(v.ci_high)}] {v.ci_method}",
                    f"{v.test} ({v.mode})",
                    _p(v.p_value),
                    _p(v.p_adjusted),
                    v.outcome,
                    _f(v.flip_probability, 2),
                    f"{_pct(v.mdd)}" + (" (reference gain below)" if v.below_detectable else ""),
                ]
                for v in g.variants
            ],
        )
        out.append(
            f"Better on every variant (intersection-union test): p = {_p(g.p_all_variants)}. "
            + "Lottery index (0 robust, 1 coin flip) by aggregation rule: "
            + ", ".join(f"{lp.rule} {_f(lp.index, 2)}" for lp in g.lottery)
            + "."
        )
        out.append("")
    if report.rank_distribution is not None:
        rd = report.rank_distribution
        out += [f"## Rank uncertainty on {rd.dataset} ({rd.method}, {rd.resamples} resamples)", ""]
        out += _table(
            [
                "model",
                "top-1 (%)",
                "95% CI (%)",
                "rank",
                "expected rank",
                "95% rank interval",
                "P(rank 1)",
            ],
            [
                [
                    r.model,
                    _pct(r.accuracy),
                    f"[{_pct(r.acc_ci_low)}, {_pct(r.acc_ci_high)}] {r.acc_ci_method}",
                    str(r.rank),
                    _f(r.expected_rank, 2),
                    f"[{r.rank_low}, {r.rank_high}]",
                    _f(r.p_rank[0], 3),
                ]
                for r in rd.rows
            ],
        )
    if report.friedman is not None:
        fr = report.friedman
        out += ["## Friedman test over datasets", ""]
        out.append(
            f"{len(fr.models)} models on {len(fr.datasets)} datasets ({', '.join(fr.datasets)}): "
            f"chi2_F = {_f(fr.chi2, 2)} (p = {_p(fr.p_chi2)}), Iman-Davenport F = "
            f"{_f(fr.iman_davenport_f, 2)} (p = {_p(fr.p_iman_davenport)}); Nemenyi critical "
            f"difference at alpha {fr.alpha}: {_f(fr.critical_difference, 2)} mean ranks."
        )
        out.append("")
    if report.unified_score:
        out += ["## Unified cross-dataset score", ""]
        out.append(
            "U = mean over datasets of the standardised logit accuracy (see docs/statistics.md)."
        )
        out.append("")
        out += _table(
            ["model", "U", "rank by U"],
            [[r.model, _f(r.score), str(r.rank)] for r in report.unified_score],
        )
    if report.effective_robustness:
        out += ["## Effective robustness (logit-linear fit across the population)", ""]
        out += _table(
            ["variant", "models in fit", "slope (95% CI)", "best residual in focus (pp)"],
            [
                [
                    f.target,
                    str(f.n_models),
                    f"{_f(f.slope, 2)} [{_f(f.slope_low, 2)}, {_f(f.slope_high, 2)}]",
                    _most_robust(f),
                ]
                for f in report.effective_robustness
            ],
        )
    out += ["## Minimum detectable difference (80 % power, two-sided 5 %)", ""]
    out += _table(
        ["dataset", "images", *[f"q = {q}" for q in report.detectable[0].mdd]]
        if report.detectable
        else ["dataset"],
        [
            [d.dataset, str(d.n_images), *[_pct(v) for v in d.mdd.values()]]
            for d in report.detectable
        ],
    )
    return "\n".join(out)


def _most_robust(fit) -> str:
    if not fit.rows:
        return "n/a"
    best = max(fit.rows, key=lambda r: r.effective_robustness)
    return f"{best.model} {_pp(best.effective_robustness)}"


def compare_markdown(a: str, b: str, rows: list[Comparison]) -> str:
    """Paired columns (n10/n01, mid-p) appear only when some dataset has per-image data."""
    any_paired = any(r.mode == PAIRED for r in rows)
    header = ["dataset", "images", "A (%)", "B (%)", "delta (pp)"]
    header += ["n10 / n01"] if any_paired else []
    header += ["test", "p"] + (["mid-p"] if any_paired else []) + ["95% CI (pp)", "p adj."]
    body = []
    for r in rows:
        row = [r.dataset, str(r.n_images), _pct(r.acc_a), _pct(r.acc_b), _pp(r.delta)]
        if any_paired:
            row.append(f"{r.n10} / {r.n01}" if r.mode == PAIRED else "n/a")
        row += [f"{r.test} ({r.mode})", _p(r.p_value)]
        if any_paired:
            row.append(_p(r.p_mid) if r.mode == PAIRED else "n/a")
        row += [
            f"[{_pp(r.ci_low)}, {_pp(r.ci_high)}] {r.ci_method}",
            f"{_p(r.p_adjusted)} ({r.adjust_method})",
        ]
        body.append(row)
    out = [f"# {a} vs {b}", "", *_table(header, body)]
    for r in rows:
        if r.mode != PAIRED and r.discordance_sweep:
            out.append(
                f"{r.dataset}: without per-image data the share q of images on which the two "
                "models disagree is unknown; were they scored on the same images, p would be "
                + ", ".join(
                    f"{_p(s['p_value'])} at q = {s['discordance']:.3f}"
                    for s in r.discordance_sweep[:: max(1, len(r.discordance_sweep) // 4)]
                )
                + "."
            )
    return "\n".join(out) + "\n"
