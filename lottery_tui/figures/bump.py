"""`bump`: the rank of each top model on every dataset where all of them have a result (the
Friedman test's blocks), reference first; names at the right, spread so no two collide."""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np
from scipy import stats

from lottery_tui.figures import style

if TYPE_CHECKING:
    from matplotlib.axes import Axes
    from matplotlib.figure import Figure
    from matplotlib.text import Text

    from lottery_tui.report.data import Aggregates
    from lottery_tui.report.service import Report

LABEL_GAP = 1.15  # label spacing, in label heights
NAME_SHARE = 0.5  # share of the figure's width the names take, right of the plot
LINE_HEIGHT = (style.FONT_SIZE - 1) * 1.25 / 72  # inches per line of a name
LEFT, BOTTOM, TOP = 0.45, 1.25, 0.45  # inches for the rank axis, the dataset names, the title


def block_ranks(report: Report, population: Aggregates) -> tuple[list[str], np.ndarray]:
    """The datasets drawn (reference first) and the models x datasets ranks among the top
    models (1 = best, ties averaged as in the Friedman test)."""
    fr = report.friedman
    reference = report.selection.reference
    datasets = [reference] + [d for d in fr.datasets if d != reference]
    accuracy = population.subset(fr.models)
    ranks = np.column_stack([stats.rankdata(-accuracy.column(d)) for d in datasets])
    return datasets, ranks


def draw(report: Report, population: Aggregates, width: str) -> Figure:
    datasets, ranks = block_ranks(report, population)
    models = report.friedman.models
    n = len(models)
    shown = report.names()
    names = [
        style.wrap(style.name(shown[m]), width, margin=style.WIDTHS[width] * (1 - NAME_SHARE) + 0.1)
        for m in models
    ]
    lines = sum(name.count("\n") + 1 for name in names)
    plot_height = max(style.ROW_HEIGHT * n, LINE_HEIGHT * LABEL_GAP * lines)
    height = plot_height + BOTTOM + TOP
    figure = style.new_figure(width, height, layout=None)
    inches = style.WIDTHS[width]
    figure.subplots_adjust(
        left=LEFT / inches, right=1 - NAME_SHARE, bottom=BOTTOM / height, top=1 - TOP / height
    )
    ax = figure.add_subplot()
    x = np.arange(len(datasets))
    for i in range(n):
        ax.plot(
            x,
            ranks[i],
            marker="o",
            markersize=2.5,
            color=style.colour(i),
            linestyle=style.linestyle(i),
            gid="bump-line",
        )
    ax.set_xticks(x, [style.name(d) for d in datasets], rotation=45, ha="right")
    ax.set_yticks(np.arange(1, n + 1))
    ax.set_ylim(n + 0.5, 0.5)
    ax.set_ylabel(f"rank among the top {n} on {style.name(report.selection.reference)} (1 = best)")
    ax.set_title(
        style.wrap(
            f"Ranks of the top {n} across the {len(datasets)} datasets where all have results "
            "(ties share the mean rank)",
            width,
            style.FONT_SIZE,
            margin=inches * NAME_SHARE,
        )
    )
    labels = [
        ax.text(
            x[-1] + 0.3,
            ranks[i, -1],
            name,
            color=style.colour(i),
            va="center",
            ha="left",
            fontsize=style.FONT_SIZE - 1,
            gid="bump-label",
        )
        for i, name in enumerate(names)
    ]
    place_labels(figure, ax, labels, ranks[:, -1])
    return figure


def place_labels(figure: Figure, ax: Axes, labels: list[Text], wanted: np.ndarray) -> None:
    """Move the labels vertically, as little as possible, until none overlaps: measure them
    with the renderer (again if the axis had to grow to hold them). The layout is fixed
    (`subplots_adjust`) and the rank axis's limits are set, so text extents need no draw of
    the figure, only its renderer."""
    renderer = figure.canvas.get_renderer()
    for _ in range(3):
        to_data = ax.transData.inverted()
        heights = []
        for label in labels:
            box = label.get_window_extent(renderer)
            (_, y0), (_, y1) = to_data.transform([(box.x0, box.y0), (box.x0, box.y1)])
            heights.append(abs(y1 - y0) * LABEL_GAP)
        half = np.asarray(heights) / 2
        placed = spread(np.asarray(wanted, dtype=float), np.asarray(heights))
        for label, y in zip(labels, placed, strict=True):
            label.set_y(y)
        bottom, top = ax.get_ylim()  # inverted: rank 1 at the top
        needed = (max(bottom, float(np.max(placed + half))), min(top, float(np.min(placed - half))))
        if needed == (bottom, top):
            break
        ax.set_ylim(*needed)


def spread(wanted: np.ndarray, heights: np.ndarray) -> np.ndarray:
    """Positions as close to `wanted` as a top-down pass allows, with each pair of neighbours
    at least half their heights' sum apart, then centred on the wanted positions' middle."""
    order = np.argsort(wanted, kind="stable")
    placed = np.empty_like(wanted)
    previous, previous_height = -np.inf, 0.0
    for i in order:
        placed[i] = max(wanted[i], previous + (previous_height + heights[i]) / 2)
        previous, previous_height = placed[i], heights[i]
    shift = np.mean(placed - wanted)
    return placed - max(shift, 0.0) if len(order) else placed
