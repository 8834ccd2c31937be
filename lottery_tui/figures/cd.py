"""`cd`: the critical-difference diagram of the Friedman/Nemenyi test (Demsar 2006, drawn as
autorank draws it): mean ranks on an axis, the CD as a bar, and thick lines joining models
whose mean ranks differ by less than the CD."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from lottery_tui.figures import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lottery_tui.report.service import Report

NAME_SHARE = 0.3  # share of the figure's width each side's names take
STEP = 0.5  # vertical space per name line, in axis units


def cliques(mean_ranks: np.ndarray, cd: float) -> list[tuple[int, int]]:
    """Maximal runs (first, last index in rank order) of at least two models whose mean ranks
    lie within the CD of each other: the groups the test cannot tell apart."""
    order = np.sort(mean_ranks)
    runs = []
    for i in range(order.size):
        j = int(np.searchsorted(order, order[i] + cd, side="left")) - 1
        if j > i and not any(a <= i and j <= b for a, b in runs):
            runs.append((i, j))
    return runs


def draw(report: Report, width: str) -> Figure:
    fr = report.friedman
    ranks = np.asarray(fr.mean_ranks)
    order = np.argsort(ranks, kind="stable")
    k = ranks.size
    shown = report.names()
    names = [
        style.wrap(
            f"{style.name(shown[fr.models[i]])} ({ranks[i]:.2f})",
            width,
            margin=style.WIDTHS[width] * (1 - NAME_SHARE),
        )
        for i in order
    ]
    left, right = order[: (k + 1) // 2], order[(k + 1) // 2 :]
    rows = max(
        sum(names[j].count("\n") + 1 for j in range(len(left))),
        sum(names[j].count("\n") + 1 for j in range(len(left), k)),
    )
    figure = style.new_figure(width, 1.0 + 0.12 * rows)
    ax = figure.add_subplot()
    ax.set_axis_off()
    ax.hlines(0, 1, k, color="black", linewidth=0.8)
    for r in range(1, k + 1):
        ax.vlines(r, 0, 0.15, color="black", linewidth=0.6)
        ax.text(r, 0.25, str(r), ha="center", va="bottom", fontsize=style.FONT_SIZE - 1)
    cd = fr.critical_difference
    ax.hlines(1.4, 1, 1 + cd, color="black", linewidth=1.2, gid="cd-bar")
    ax.vlines([1, 1 + cd], 1.3, 1.5, color="black", linewidth=0.8)
    ax.text(
        1 + cd / 2,
        1.6,
        f"CD = {cd:.3f} (Nemenyi, alpha = {fr.alpha:g}, {len(fr.datasets)} datasets)",
        ha="center",
        va="bottom",
    )
    y = -0.6
    for side, members, x_text, align in ((0, left, 1 - 0.3, "right"), (1, right, k + 0.3, "left")):
        y = -0.6
        for j, i in enumerate(members):
            label = names[j + side * len(left)]
            lines = label.count("\n") + 1
            y -= STEP * (lines + 1) / 2
            ax.vlines(ranks[i], y, 0, color=style.colour(j), linewidth=0.6)
            ax.hlines(y, ranks[i], x_text, color=style.colour(j), linewidth=0.6)
            ax.text(
                x_text, y, label, ha=align, va="center", fontsize=style.FONT_SIZE - 1, gid="cd-name"
            )
            y -= STEP * (lines - 1) / 2
    for n, (a, b) in enumerate(cliques(ranks, cd)):
        sorted_ranks = np.sort(ranks)
        level = -0.15 - 0.12 * n
        ax.hlines(
            level,
            sorted_ranks[a] - 0.03,
            sorted_ranks[b] + 0.03,
            color="black",
            linewidth=2.0,
            gid="cd-clique",
        )
    ax.set_xlim(1 - 0.3, k + 0.3)
    ax.set_title(
        style.wrap(
            f"Mean ranks over {len(fr.datasets)} datasets (1 = best); "
            f"Friedman p = {fr.p_chi2:.3g}, "
            f"Iman-Davenport p = {fr.p_iman_davenport:.3g}",
            width,
            style.FONT_SIZE,
        )
    )
    return figure
