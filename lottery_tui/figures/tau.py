"""`tau`: does the reference ranking carry over? Kendall tau-b per variant, with its interval
over models and its interval over test images (where shown)."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from analysis.intervals import level_label
from lottery_tui.figures import style

if TYPE_CHECKING:
    from matplotlib.figure import Figure

    from lottery_tui.report.service import Report


def draw(report: Report, width: str) -> Figure:
    rows = report.rank_agreement
    level = level_label(report.options.alpha)
    figure = style.new_figure(width, 0.9 + style.ROW_HEIGHT * 1.6 * len(rows))
    ax = figure.add_subplot()
    y = np.arange(len(rows))[::-1].astype(float)
    tau = np.array([r.kendall_tau_b for r in rows])
    over_models = np.array([[r.ci_low, r.ci_high] for r in rows])
    over_images = np.array([[r.image_ci_low, r.image_ci_high] for r in rows])
    ax.hlines(
        y,
        *over_models.T,
        color=style.colour(5),
        linewidth=2.2,
        label=style.wrap(f"{level} CI over models ({rows[0].ci_method})", width),
    )
    if np.isfinite(over_images).any():
        ax.hlines(
            y - 0.25,
            *over_images.T,
            color=style.colour(6),
            linewidth=1.0,
            label=style.wrap(
                f"{level} CI over test images ({_method(rows, 'image_ci_low', 'image_ci_method')})",
                width,
            ),
        )
    ax.plot(tau, y, "o", color=style.colour(0), markersize=3.5, label="Kendall tau-b")
    ax.set_yticks(y, [f"{style.name(r.dataset)} (n = {r.n_models})" for r in rows])
    ax.set_xlabel(
        style.wrap(
            f"Kendall tau-b with the {style.name(report.selection.reference)} ranking",
            width,
            style.FONT_SIZE,
            margin=style.LABEL_MARGIN,
        )
    )
    ax.set_title(
        style.wrap(
            f"Rank agreement with {style.name(report.selection.reference)}, {level} intervals",
            width,
            style.FONT_SIZE,
            margin=style.LABEL_MARGIN,
        )
    )
    ax.axvline(0, color=style.GREY, linewidth=0.5)
    ax.set_ylim(-0.8, len(rows) - 0.4)
    figure.legend(loc="outside lower center", ncols=1, frameon=False)
    return figure


def _method(rows: list, value: str, method: str) -> str:
    """The method named by the first row where `value` is a number (the rows that have one
    share it; the others say why they have none)."""
    return next(getattr(r, method) for r in rows if np.isfinite(getattr(r, value)))
