"""Report and comparison as JSON (for scripts) or markdown (for a paper's appendix).

Accuracies and deltas are fractions in JSON and percentage points in markdown. Every interval
and adjusted p-value is printed with the name of its method; aggregate-only rows say so. Rows
carry model identities; the text shown for them is made here, once per report
(`Report.names`).
"""

from __future__ import annotations

import dataclasses
import json
import math
import re
import textwrap
from typing import Any

from analysis import gains as gains_rule
from analysis.intervals import level_label
from lottery_tui.report.fit import columns_that_fit
from lottery_tui.report.numbers import format_p
from lottery_tui.report.service import DEFAULT_FOCUS, PAIRED, Comparison, Report
from lottery_tui.store.identity import ModelRef

PROSE_WIDTH = 100  # prose lines wrap here (or at a narrower terminal's width)
HEADING = re.compile(r"#+ ")
BOUND = re.compile(r"([<>]) (?=\d)")  # a bound written before its number, as format_p does
GLUE = "\x00"  # a space textwrap must not break at (never in the text itself)


def plain(value: Any, names: dict[ModelRef, str] | None = None) -> Any:
    """Dataclasses, numpy scalars and NaN to JSON-ready Python values (NaN becomes null); an
    identity becomes its display name in `names` (SOURCE:NAME without them). A field whose
    metadata says `written: False` is left out; `qualified_as: KEY` also writes the identity
    in full under KEY."""
    if isinstance(value, ModelRef):
        return value.qualified if names is None else names[value]
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        out = {}
        for f in dataclasses.fields(value):
            if not f.metadata.get("written", True):
                continue
            item = getattr(value, f.name)
            out[f.name] = plain(item, names)
            if key := f.metadata.get("qualified_as"):
                out[key] = item.qualified
        return out
    if isinstance(value, dict):
        return {str(k): plain(v, names) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [plain(v, names) for v in value]
    if hasattr(value, "item") and not isinstance(value, str):
        value = value.item()
    if isinstance(value, float) and not math.isfinite(value):
        return None
    return value


def report_json(report: Report) -> str:
    return json.dumps(plain(report, report.names()), indent=2) + "\n"


def compare_json(a: str, b: str, rows: list[Comparison]) -> str:
    return json.dumps({"model_a": a, "model_b": b, "comparisons": plain(rows)}, indent=2) + "\n"


def _pp(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:+.{digits}f}"


def _pct(x: float | None, digits: int = 2) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{100 * x:.{digits}f}"


def _f(x: float | None, digits: int = 3) -> str:
    return "n/a" if x is None or not math.isfinite(x) else f"{x:.{digits}f}"


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    lines += ["| " + " | ".join(row) + " |" for row in rows]
    return [*lines, ""]


def _ci(low: float | None, high: float | None, fmt=_pp) -> str:
    return f"[{fmt(low)}, {fmt(high)}]"


def _methods(label: str, pairs: list[tuple[str, str]]) -> str:
    """One line naming each method once with the rows it applies to (tables stay narrow)."""
    by_method: dict[str, list[str]] = {}
    for row, method in pairs:
        by_method.setdefault(method, []).append(row)
    if len(by_method) == 1:
        return f"{label}: {next(iter(by_method))}."
    return (
        f"{label}: " + "; ".join(f"{m} ({', '.join(rows)})" for m, rows in by_method.items()) + "."
    )


def _short_mode(mode: str) -> str:
    return "paired" if mode == PAIRED else "aggregate-only"


def _model_keys(report: Report) -> dict[ModelRef, str]:
    """Short keys so tables fit 100 characters: "#k" is rank k on the reference, "P1", "P2"...
    a model named only by --pair, outside the top studied."""
    keys = {m: f"#{i + 1}" for i, m in enumerate(report.focus)}
    for g in report.marginal_gains:
        for m in (g.model, g.below):
            if m not in keys:
                keys[m] = f"P{sum(k.startswith('P') for k in keys.values()) + 1}"
    return keys


def _variant_keys(report: Report) -> dict[str, str]:
    names = [v.dataset for g in report.marginal_gains for v in g.variants]
    return {d: f"v{i + 1}" for i, d in enumerate(dict.fromkeys(names))}


OUTCOME_CODES = {gains_rule.HOLDS: "+", gains_rule.REVERSES: "-", gains_rule.INCONCLUSIVE: "."}


def report_markdown(report: Report) -> str:
    s, o = report.selection, report.options
    level = level_label(o.alpha)
    names = report.names()
    keys = _model_keys(report)
    labels = {m: keys.get(m, name) for m, name in names.items()}  # in tables: a key, else the name
    rank_scope = (
        f"the top {report.top} models with results on both datasets"
        if report.top
        else "every selected model with results on both datasets"
    )
    out = [
        f"# Benchmark-lottery report: reference {s.reference}",
        "",
        f"Selection: models `{s.models or '*'}`, source `{s.source or 'all'}`, "
        f"pretraining `{s.pretraining or 'any'}`, protocol `{s.protocol or 'any'}`. "
        f"{report.n_ranked} models ranked on {s.reference}. Marginal gains, rank uncertainty, "
        f"Friedman and the unified score cover the top {len(report.focus)} of them"
        f"{' (--top)' if report.top else f' (default {DEFAULT_FOCUS}; --top N to change)'}; "
        f"rank agreement uses {rank_scope}. {o.resamples} bootstrap resamples, seed {o.seed}, "
        f"alpha {o.alpha} (intervals at {level}), multiplicity: {o.adjustment}.",
        "",
        "## Summary",
        "",
        report.summary.text(),
        "",
    ]
    out += [f"- {note}" for note in report.notes] + [""]
    out += _agreement_section(report, level)
    out += _gains_section(report, keys, names, level)
    out += _population_sections(report, labels, level)
    out += _appendix(report, labels, level)
    return "\n".join(_wrapped(out))


def _wrapped(lines: list[str], width: int = PROSE_WIDTH) -> list[str]:
    """Prose wrapped at `width` (list items indented under their text); tables and headings
    (`# `, `## `, ...; a line opening with a model key such as `#15` is prose) as they are."""
    out = []
    for line in lines:
        if len(line) <= width or line.startswith("|") or HEADING.match(line):
            out.append(line)
            continue
        indent = "  " if line.startswith("- ") else ""
        kept = BOUND.sub("\\1" + GLUE, line)  # "< 1e-300" stays one word: a number is never cut
        out += [
            piece.replace(GLUE, " ")
            for piece in textwrap.wrap(
                kept,
                width,
                subsequent_indent=indent,
                break_long_words=False,
                break_on_hyphens=False,
            )
        ]
    return out


def verdict_words(alpha: float, adjust_method: str) -> list[str]:
    """What each verdict means, said once (the rule itself: analysis/gains.py)."""
    meaning = {
        gains_rule.REAL_GAIN: "significant on the reference and significantly better on every "
        f"variant (intersection-union test: the largest of the variants' adjusted p < {alpha})",
        gains_rule.LOTTERY_WIN: "significant on the reference, but at least one variant "
        f"reverses the order (p adjusted over the gain's variants < {alpha})",
        gains_rule.UNCONFIRMED: "significant on the reference, reversed on no variant, but "
        "not shown better on every one",
        gains_rule.NOT_SIGNIFICANT: f"the reference gain is zero or its p ({adjust_method} "
        f"over the gains) is >= {alpha}, and no variant significantly reverses it",
        gains_rule.REVERSED_ON_VARIANTS: "the reference gain is not significant, and at least "
        f"one variant significantly reverses it (adjusted p < {alpha})",
        gains_rule.REFERENCE_NEGATIVE: "the second model scores higher on the reference "
        "(a --pair named the worse model first)",
    }
    return [f"- **{word}**: {meaning[word]}." for word in gains_rule.VERDICTS]


def _agreement_section(report: Report, level: str) -> list[str]:
    out = ["## Rank agreement with the reference", ""]
    rows = report.rank_agreement
    if not rows:
        return [*out, "No other dataset has results for at least 3 of the selected models.", ""]
    out += _table(
        ["dataset", "models", "data", "Kendall tau-b", "p", "Spearman"],
        [
            [
                r.dataset,
                str(r.n_models),
                _short_mode(r.mode),
                _f(r.kendall_tau_b),
                format_p(r.p_value),
                _f(r.spearman_rho),
            ]
            for r in rows
        ],
    )
    out.append(_methods("p-value of tau-b", [(r.dataset, r.p_method) for r in rows]))
    out.append(
        _methods(
            "Dataset role (one family counts once in the verdicts)",
            [(r.dataset, r.role) for r in rows],
        )
    )
    out.append("")
    out += _table(
        ["dataset", f"{level} CI over models", f"{level} CI over test images"],
        [
            [
                r.dataset,
                _ci(r.ci_low, r.ci_high, _f),
                _ci(r.image_ci_low, r.image_ci_high, _f),
            ]
            for r in rows
        ],
    )
    out.append(_methods("Interval over models", [(r.dataset, r.ci_method) for r in rows]))
    out.append(
        _methods("Interval over test images", [(r.dataset, r.image_ci_method) for r in rows])
    )
    return [*out, ""]


def _gains_section(
    report: Report, keys: dict[ModelRef, str], names: dict[ModelRef, str], level: str
) -> list[str]:
    o = report.options
    out = ["## Marginal gains on the reference", ""]
    out.append(f"Models (key: name, top-1 on {report.selection.reference}):")
    out.append("")
    accuracy = {}
    if report.rank_distribution is not None:
        accuracy = {r.model: r.accuracy for r in report.rank_distribution.rows}
    out += [
        f"- {k}: {names[m]}" + (f" ({_pct(accuracy[m])} %)" if m in accuracy else "")
        for m, k in keys.items()
    ]
    out.append("")
    gains = report.marginal_gains
    if not gains:
        return [*out, "No pair of models to judge.", ""]
    variants = _variant_keys(report)
    out += _table(
        ["gain", "gain (pp)", f"{level} CI (pp)", "p adj.", "verdict", "per variant"],
        [
            [
                _gain_key(g, keys),
                _pp(g.delta),
                _ci(g.ci_low, g.ci_high),
                format_p(g.p_adjusted),
                f"**{g.verdict}**",
                _outcome_codes(g, variants) or "n/a",
            ]
            for g in gains
        ],
    )
    out.append(
        _methods("Reference test", [(_gain_key(g, keys), f"{g.test} ({g.mode})") for g in gains])
    )
    out.append(_methods("Interval", [(_gain_key(g, keys), g.ci_method) for g in gains]))
    out += ["", "Verdicts:", "", *verdict_words(o.alpha, gains[0].adjust_method), ""]
    out.append(
        f"p adj.: {gains[0].adjust_method} over the {len(gains)} gains; per variant, in the order "
        + ", ".join(f"{k} = {d}" for d, k in variants.items())
        + f": + holds, - reverses the reference order (adjusted p < {o.alpha} over the gain's "
        "variants), "
        ". inconclusive, _ no result. Details per gain in the appendix."
    )
    for g in gains:
        if g.verdict == gains_rule.REFERENCE_NEGATIVE:
            significance = (
                "significantly"
                if gains_rule.significant(g.p_adjusted, o.alpha)
                else "not significantly"
            )
            out.append(
                f"{_gain_key(g, keys)}: the reference gain is negative: "
                f"{names[g.better_on_reference]} is {significance} better on "
                f"{report.selection.reference} "
                f"(p adj. = {format_p(g.p_adjusted)})."
            )
    return [*out, ""]


def _gain_key(g, keys: dict[ModelRef, str]) -> str:
    return f"{keys[g.model]} vs {keys[g.below]}"


def _outcome_codes(g, variants: dict[str, str]) -> str:
    outcome = {v.dataset: v.outcome for v in g.variants}
    return "".join(OUTCOME_CODES[outcome[d]] if d in outcome else "_" for d in variants)


def _population_sections(report: Report, labels: dict[ModelRef, str], level: str) -> list[str]:
    out: list[str] = []
    if report.rank_distribution is not None:
        rd = report.rank_distribution
        out += [f"## Rank uncertainty on {rd.dataset} ({rd.method}, {rd.resamples} resamples)", ""]
        out += _table(
            [
                "model",
                "top-1 (%)",
                f"{level} CI (%)",
                "rank",
                "expected rank",
                f"{level} rank interval",
                "P(rank 1)",
            ],
            [
                [
                    labels[r.model],
                    _pct(r.accuracy),
                    _ci(r.acc_ci_low, r.acc_ci_high, _pct),
                    str(r.rank),
                    _f(r.expected_rank, 2),
                    f"[{r.rank_low}, {r.rank_high}]",
                    _f(r.p_rank[0], 3),
                ]
                for r in rd.rows
            ],
        )
        out.append(
            _methods(
                "Accuracy interval",
                [(labels[r.model], r.acc_ci_method) for r in rd.rows],
            )
        )
        out.append("")
    if report.friedman is not None:
        fr = report.friedman
        out += ["## Friedman test over datasets", ""]
        out.append(
            f"{len(fr.models)} models on {len(fr.datasets)} datasets ({', '.join(fr.datasets)}): "
            f"chi2_F = {_f(fr.chi2, 2)} (p = {format_p(fr.p_chi2)}), Iman-Davenport F = "
            f"{_f(fr.iman_davenport_f, 2)} (p = {format_p(fr.p_iman_davenport)}); Nemenyi critical "
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
            [[labels[r.model], _f(r.score), str(r.rank)] for r in report.unified_score],
        )
    if report.effective_robustness:
        out += ["## Effective robustness (logit-linear fit across the population)", ""]
        out += _table(
            ["variant", "models in fit", f"slope ({level} CI)", "best residual in focus (pp)"],
            [
                [
                    f.target,
                    str(f.n_models),
                    f"{_f(f.slope, 2)} [{_f(f.slope_low, 2)}, {_f(f.slope_high, 2)}]",
                    _most_robust(f, labels),
                ]
                for f in report.effective_robustness
            ],
        )
    alpha_pct = f"{100 * report.options.alpha:g} %"
    out += [f"## Minimum detectable difference (80 % power, two-sided {alpha_pct})", ""]
    out += _table(
        ["dataset", "images", *[f"q = {q}" for q in report.detectable[0].mdd]]
        if report.detectable
        else ["dataset"],
        [
            [d.dataset, str(d.n_images), *[_pct(v) for v in d.mdd.values()]]
            for d in report.detectable
        ],
    )
    return out


def _appendix(report: Report, keys: dict[ModelRef, str], level: str) -> list[str]:
    """Each gain on every variant: the widest detail, after the overview."""
    judged = [g for g in report.marginal_gains if g.variants]
    if not judged:
        return []
    variants = _variant_keys(report)
    out = ["## Appendix: each gain on every variant", ""]
    for g in judged:
        out += [f"### {_gain_key(g, keys)}: {g.verdict}", ""]
        out += _table(
            [
                "variant",
                "gain (pp)",
                f"{level} CI (pp)",
                "p",
                "p adj.",
                "outcome",
                "flip prob.",
                "MDD (pp)",
            ],
            [
                [
                    variants[v.dataset],
                    _pp(v.delta),
                    _ci(v.ci_low, v.ci_high),
                    format_p(v.p_value),
                    format_p(v.p_adjusted),
                    v.outcome,
                    _f(v.flip_probability, 2),
                    _pct(v.mdd) + ("*" if v.below_detectable else ""),
                ]
                for v in g.variants
            ],
        )
        out.append(
            _methods("Test", [(variants[v.dataset], f"{v.test} ({v.mode})") for v in g.variants])
        )
        out.append(_methods("Interval", [(variants[v.dataset], v.ci_method) for v in g.variants]))
        out.append(
            _methods("Flip probability", [(variants[v.dataset], v.flip_method) for v in g.variants])
        )
        out.append(
            f"p adj.: {g.adjust_method} over this gain's variants. * the reference gain is below "
            "that variant's minimum detectable difference. "
            f"Better on every variant (intersection-union test): p = {format_p(g.p_all_variants)}. "
            + "Lottery index (0 robust, 1 coin flip) by aggregation rule: "
            + ", ".join(f"{lp.rule} {_f(lp.index, 2)}" for lp in g.lottery)
            + (f" ({g.lottery[0].method})" if g.lottery else "")
            + "."
        )
        out.append("")
    return out


def _most_robust(fit, labels: dict[ModelRef, str]) -> str:
    if not fit.rows:
        return "n/a"
    best = max(fit.rows, key=lambda r: r.effective_robustness)
    return f"{labels[best.model]} {_pp(best.effective_robustness)}"


def compare_verdict(rows: list[Comparison], alpha: float) -> str:
    """The comparison in one sentence: on how many datasets A is significantly better or worse
    (the project's one decision rule, adjusted p < alpha) and where it is inconclusive."""
    if not rows:
        return "Verdict: no dataset has results for both models."
    better = [r.dataset for r in rows if gains_rule.direction(r.delta, r.p_adjusted, alpha) > 0]
    worse = [r.dataset for r in rows if gains_rule.direction(r.delta, r.p_adjusted, alpha) < 0]
    unclear = [r.dataset for r in rows if r.dataset not in better + worse]
    n = len(rows)
    parts = [f"A is better on {len(better)} of {n} datasets", f"worse on {len(worse)}"]
    if worse:
        parts[-1] += f" ({', '.join(worse)})"
    parts.append(f"inconclusive on {', '.join(unclear) if unclear else 'none'}")
    family = f"{rows[0].adjust_method}-adjusted p < {alpha} over the {n} datasets compared"
    return f"Verdict: {'; '.join(parts)} ({family})."


# Columns by importance: a narrow terminal drops the last first.
_COMPARE_PRIORITY = (
    "dataset", "delta (pp)", "p adj.", "CI", "data", "A (%)", "B (%)", "p", "images",
    "n10 / n01", "mid-p",
)  # fmt: skip


def compare_markdown(
    a: str, b: str, rows: list[Comparison], alpha: float = 0.05, width: int | None = None
) -> str:
    """A verdict line, one table with each method named once below it, and wrapped prose.
    `alpha` is the level `compare` was run at (intervals are labelled with it); `width` is the
    terminal's: whole columns are dropped (and named) to fit it, None keeps them all."""
    level = level_label(alpha)
    any_paired = any(r.mode == PAIRED for r in rows)
    columns: dict[str, list[str]] = {
        "dataset": [r.dataset for r in rows],
        "images": [str(r.n_images) for r in rows],
        "A (%)": [_pct(r.acc_a) for r in rows],
        "B (%)": [_pct(r.acc_b) for r in rows],
        "delta (pp)": [_pp(r.delta) for r in rows],
    }
    if any_paired:
        columns["n10 / n01"] = [f"{r.n10} / {r.n01}" if r.mode == PAIRED else "n/a" for r in rows]
    columns["data"] = [_short_mode(r.mode) for r in rows]
    columns["p"] = [format_p(r.p_value) for r in rows]
    if any_paired:
        columns["mid-p"] = [format_p(r.p_mid) if r.mode == PAIRED else "n/a" for r in rows]
    columns["CI"] = [_ci(r.ci_low, r.ci_high) for r in rows]
    columns["p adj."] = [format_p(r.p_adjusted) for r in rows]
    headers = {"CI": f"{level} CI (pp)"}
    dropped = _fit_markdown(columns, headers, width, _COMPARE_PRIORITY)
    text_width = min(width, PROSE_WIDTH) if width else PROSE_WIDTH
    out = [f"# {a} vs {b}", "", *_wrapped([compare_verdict(rows, alpha)], text_width), ""]
    out += _table(
        [headers.get(name, name) for name in columns],
        [[cells[i] for cells in columns.values()] for i in range(len(rows))],
    )
    notes = [
        f"A = {a}, B = {b}; delta = A - B in percentage points.",
        _methods("Test", [(r.dataset, r.test) for r in rows]),
        _methods("Interval", [(r.dataset, r.ci_method) for r in rows]),
    ]
    if rows:
        notes.append(f"p adj.: {rows[0].adjust_method} over the {len(rows)} datasets.")
    if dropped:
        notes.append(
            f"{len(dropped)} column{'s' if len(dropped) > 1 else ''} not shown at {width} "
            f"columns: {', '.join(dropped)}; --wide shows all."
        )
    out += _wrapped(notes, text_width)
    swept = [r for r in rows if r.mode != PAIRED and r.discordance_sweep]
    if swept:
        out += [
            "",
            *_wrapped(
                [
                    "Without per-image data the share q of images on which the two models "
                    "disagree is unknown; were they scored on the same images, the exact "
                    "binomial p of a paired test would be:"
                ],
                text_width,
            ),
        ]
        out += [
            line
            for r in swept
            for line in _packed(
                f"- {r.dataset}:",
                [
                    f"{format_p(s['p_value'])} at q = {s['discordance']:.3g}"
                    for s in r.discordance_sweep[:: max(1, len(r.discordance_sweep) // 4)]
                ],
                text_width,
            )
        ]
    return "\n".join(out) + "\n"


def _packed(head: str, items: list[str], width: int) -> list[str]:
    """`head` and the items, comma-separated, as lines of at most `width` characters where the
    items allow; an item is never split across lines (continuation lines indented)."""
    lines = [head]
    for i, item in enumerate(items):
        piece = item + ("," if i < len(items) - 1 else "")
        if len(lines[-1]) + 1 + len(piece) > width and lines[-1].strip():
            lines.append("  " + piece)
        else:
            lines[-1] += " " + piece
    return lines


def _fit_markdown(
    columns: dict[str, list[str]], headers: dict[str, str], width: int | None, priority
) -> list[str]:
    """Drop whole columns from `columns` in place until the markdown table's widest line fits
    `width` (`report.fit`); the headers of those dropped, in table order."""
    if width is None:
        return []

    def table_width(names: list[str]) -> int:
        rows = [[columns[n][i] for n in names] for i in range(len(columns[names[0]]))]
        return max(len(line) for line in _table([headers.get(n, n) for n in names], rows))

    _, dropped = columns_that_fit(list(columns), priority, width, table_width)
    for name in dropped:
        del columns[name]
    return [headers.get(n, n) for n in dropped]
