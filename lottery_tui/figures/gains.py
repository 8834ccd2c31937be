"""`gains`: a forest plot of each marginal gain, one row per dataset (the reference first):
the difference in top-1 with its interval, the outcome on each variant marked, the verdict and
the multiplicity adjustment named."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analysis import gains as rule
from analysis.intervals import level_label
from lottery_tui.figures import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lottery_tui.report.service import Report

REFERENCE = "reference"
OUTCOMES = {  # marker and colour per outcome: shape and colour both differ
    REFERENCE: ("s", style.colour(0)),
    rule.HOLDS: ("o", style.colour(5)),
    rule.REVERSES: ("X", style.colour(6)),
    rule.INCONCLUSIVE: ("D", style.GREY),
}


def draw(report: Report, width: str) -> Figure:
    gains = report.marginal_gains
    level = level_label(report.options.alpha)
    names = report.names()
    headers = [
        style.wrap(
            style.name(f"{names[g.model]} − {names[g.below]}: {g.verdict}"),
            width,
            margin=style.LABEL_MARGIN,
            em=0.8,
        )
        for g in gains
    ]
    n_rows = sum(h.count("\n") + 2 + len(g.variants) for h, g in zip(headers, gains, strict=True))
    figure = style.new_figure(width, 1.3 + style.ROW_HEIGHT * n_rows)
    ax = figure.add_subplot()
    labels, ticks = [], []
    drawn: dict[str, list[tuple[float, float, float, float]]] = {o: [] for o in OUTCOMES}
    y = float(n_rows)
    for header, g in zip(headers, gains, strict=True):
        lines = header.count("\n") + 1
        y -= lines
        ax.text(
            0.01,
            y + (lines - 1) / 2,
            header,
            transform=ax.get_yaxis_transform(),
            ha="left",
            va="center",
            fontweight="bold",
            gid="gain-header",
            in_layout=False,
        )
        rows = [(g.reference, REFERENCE, g.delta, g.ci_low, g.ci_high)] + [
            (v.dataset, v.outcome, v.delta, v.ci_low, v.ci_high) for v in g.variants
        ]
        for dataset, outcome, delta, low, high in rows:
            y -= 1
            drawn[outcome].append((y, 100 * delta, 100 * low, 100 * high))
            ticks.append(y)
            labels.append(style.name(dataset))
    for outcome, (marker, colour) in OUTCOMES.items():  # one artist per outcome: fast to save
        ys, deltas, lows, highs = np.array(drawn[outcome]).reshape(-1, 4).T
        ax.hlines(ys, lows, highs, color=colour, linewidth=1.0)
        ax.plot(
            deltas,
            ys,
            marker,
            color=colour,
            markersize=3,
            linestyle="none",
            label=outcome,
            gid=f"gain-{outcome}",
        )
    ax.axvline(0, color=style.GREY, linewidth=0.5)
    ax.set_yticks(ticks, labels)
    ax.set_ylim(-0.5, n_rows - 0.5)
    methods = sorted({v.ci_method for g in gains for v in g.variants} | {gains[0].ci_method})
    ax.set_xlabel(
        style.wrap(
            "difference in top-1, higher − lower model (percentage points); "
            f"{level} intervals: " + "; ".join(methods),
            width,
            style.FONT_SIZE,
            margin=style.LABEL_MARGIN,
        )
    )
    ax.set_title(
        style.wrap(
            f"Marginal gains on {style.name(report.selection.reference)}, {level} intervals; "
            f"outcomes at alpha = {report.options.alpha:g}, p adjusted by {gains[0].adjust_method} "
            f"over the variants",
            width,
            style.FONT_SIZE,
            margin=style.LABEL_MARGIN,
        )
    )
    figure.legend(loc="outside lower center", ncols=len(OUTCOMES), frameon=False)
    return figure
