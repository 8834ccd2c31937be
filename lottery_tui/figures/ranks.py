"""`ranks`: where each top model ranks on the reference once test-set noise is counted:
P(rank = k) as shades, the expected rank, and the (1 - alpha) rank interval."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analysis.intervals import level_label
from lottery_tui.figures import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lottery_tui.report.service import Report

LABEL_SHARE = 0.45  # share of the figure's width the model names take


def draw(report: Report, width: str) -> Figure:
    dist = report.rank_distribution
    rows = dist.rows
    n = len(rows)
    level = level_label(dist.alpha)
    shown = report.names()
    names = [
        style.wrap(
            style.name(shown[r.model]), width, margin=style.WIDTHS[width] * (1 - LABEL_SHARE)
        )
        for r in rows
    ]
    lines = sum(name.count("\n") + 1 for name in names)
    figure = style.new_figure(width, 1.4 + max(style.ROW_HEIGHT * n, 0.1 * lines))
    ax = figure.add_subplot()
    p = np.array([r.p_rank for r in rows])
    shades = ax.imshow(
        p,
        cmap="Greys",
        vmin=0,
        vmax=1,
        aspect="auto",
        extent=(0.5, p.shape[1] + 0.5, n - 0.5, -0.5),
    )
    y = np.arange(n)
    ax.hlines(
        y,
        [r.rank_low - 0.3 for r in rows],
        [r.rank_high + 0.3 for r in rows],
        color=style.colour(5),
        linewidth=1.2,
        label=f"{level} rank interval",
    )
    ax.plot(
        [r.expected_rank for r in rows],
        y,
        "o",
        color=style.colour(6),
        markersize=3,
        label="expected rank",
        gid="ranks-expected",
    )
    ax.plot(
        [r.rank for r in rows],
        y,
        "|",
        color=style.colour(1),
        markersize=6,
        markeredgewidth=1.2,
        label="observed rank",
    )
    ax.set_yticks(y, names)
    ax.set_xticks(np.arange(1, p.shape[1] + 1))
    ax.set_xlabel(f"rank on {style.name(dist.dataset)} among these {n} models (1 = best)")
    ax.set_title(
        style.wrap(
            f"Rank uncertainty on {style.name(dist.dataset)}: {level} intervals, {dist.method}, "
            f"{dist.resamples} resamples",
            width,
            style.FONT_SIZE,
            margin=style.WIDTHS[width] * LABEL_SHARE,
        )
    )
    figure.colorbar(shades, ax=ax, label="P(rank = k)", shrink=0.6)
    figure.legend(loc="outside lower center", ncols=3, frameon=False)
    return figure
