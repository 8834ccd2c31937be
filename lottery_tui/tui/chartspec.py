"""What the explorer's charts show, as data (no Textual, no plotext: testable alone).

Colours are fixed per series (no random colours), which keeps snapshots deterministic.
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from typing import Literal

import pyarrow as pa

from lottery_tui.tui.names import fit_names
from lottery_tui.tui.widgets.display import counted

PALETTE = (
    "cyan",
    "orange",
    "green",
    "magenta",
    "yellow",
    "blue",
    "red",
    "white",
    "bright-cyan",
    "bright-green",
    "bright-magenta",
    "bright-yellow",
)


LABEL_WIDTH = 22
LABEL_ROOM = 1.4
"""Room right of the last dataset, in dataset steps, for the line labels (width unknown)."""
LABEL_SHARE, MIN_LABEL, MAX_LABEL = 0.3, 12, 40
"""With the plot's width known: the labels' share of it, in characters at least and at most."""


@dataclass(frozen=True)
class Series:
    x: list[float]
    y: list[float]
    label: str | None = None
    kind: Literal["scatter", "line", "bar"] = "scatter"
    marker: str = "dot"
    color: str | None = None


@dataclass(frozen=True)
class ChartSpec:
    title: str
    xlabel: str = ""
    ylabel: str = ""
    series: list[Series] = field(default_factory=list)
    xticks: tuple[list[float], list[str]] | None = None
    yticks: tuple[list[float], list[str]] | None = None
    xlim: tuple[float, float] | None = None
    labels: list[tuple[float, float, str, str]] = field(default_factory=list)
    """Text placed at (x, y) in a colour: line labels beside the lines."""
    legend: list[tuple[str, str, str]] = field(default_factory=list)
    """(key, full name, colour) per line, when the labels beside the lines cut names."""


def label_room(n_datasets: int, plot_width: int | None) -> tuple[int, float]:
    """Characters for each line label and the x room (in dataset steps) that holds them.

    Without a width the room is fixed; with one, the labels get a share of it, so names are
    cut no shorter than needed at 80 columns and not at all on a wide terminal.
    """
    if plot_width is None:
        return LABEL_WIDTH, LABEL_ROOM
    width = max(MIN_LABEL, min(MAX_LABEL, int(plot_width * LABEL_SHARE)))
    steps = max(1.0, n_datasets - 1 + 0.1)
    per_step = max(1.0, (plot_width - width) / steps)
    return width, width / per_step + 0.1


def bump_spec(
    ranks: pa.Table, dataset_labels: list[str], title: str, *, plot_width: int | None = None
) -> ChartSpec:
    """One line per model through its rank on each dataset, rank 1 on top, names at the right.

    `ranks` has columns model, dataset_index, rank; models keep their reference order. Lines are
    drawn at y = -rank so rank 1 is highest; the y ticks are labelled with the rank itself.
    `plot_width` (characters) sizes the labels' room; the title may be empty (the caption
    above the chart can say it, which leaves one more row to the lines).
    """
    label_width, room = label_room(len(dataset_labels), plot_width)
    rows = ranks.to_pylist()
    order: list[str] = []
    for row in rows:
        if row["model"] not in order:
            order.append(row["model"])
    last_x = float(len(dataset_labels) - 1)
    series, labels, legend = [], [], []
    key_width = len(str(len(order))) + 1
    short = fit_names(order, max(3, label_width - key_width))  # cut in the middle, all distinct
    for i, model in enumerate(order):
        points = sorted((r["dataset_index"], r["rank"]) for r in rows if r["model"] == model)
        color = PALETTE[i % len(PALETTE)]
        xs = [float(p[0]) for p in points]
        ys = [-float(p[1]) for p in points]
        series.append(Series(x=xs, y=ys, kind="line", marker="braille", color=color))
        legend.append((str(i + 1), model, color))
        if xs and xs[-1] == last_x:
            labels.append((last_x + 0.1, ys[-1], f"{i + 1} {short[model]}", color))
    n = len(order)
    return ChartSpec(
        title=title,
        series=series,
        xticks=([float(k) for k in range(len(dataset_labels))], dataset_labels),
        yticks=([-float(k) for k in range(1, n + 1)], [str(k) for k in range(1, n + 1)]),
        xlim=(-0.1, last_x + room),
        labels=labels,
        # only when a label beside the lines is cut or missing: else it would say it twice
        legend=legend if len(labels) < n or any(short[m] != m for m in order) else [],
    )


def _logit(p_percent: float) -> float:
    p = min(max(p_percent / 100.0, 1e-4), 1 - 1e-4)
    return math.log(p / (1 - p))


def scatter_spec(
    points: pa.Table,
    reference_label: str,
    target_label: str,
    fit: tuple[float, float] | None,
    highlight: list[str],
) -> ChartSpec:
    """Top-1 on the target against the reference on logit axes, the fitted line, marked models.

    On logit axes the effective-robustness fit logit(acc_d) = a + b*logit(acc_0) is a straight
    line; ticks are labelled in percent so the axes still read as accuracies.
    """
    models = points.column("model").to_pylist()
    xs = [_logit(v) for v in points.column("ref_top1").to_pylist()]
    ys = [_logit(v) for v in points.column("top1").to_pylist()]
    series = [Series(x=xs, y=ys, label=counted(len(models), "model"), color="blue")]
    if fit is not None and xs:
        a, b = fit
        lo, hi = min(xs), max(xs)
        series.append(
            Series(
                x=[lo, hi],
                y=[a + b * lo, a + b * hi],
                label="logit fit",
                kind="line",
                marker="braille",
                color="orange",
            )
        )
    for i, model in enumerate(m for m in highlight if m in models):
        k = models.index(model)
        series.append(
            Series(
                x=[xs[k]], y=[ys[k]], label=model, marker="X", color=PALETTE[(i + 2) % len(PALETTE)]
            )
        )
    return ChartSpec(
        title=f"top-1: {target_label} vs {reference_label} (logit axes)",
        xlabel=f"{reference_label} top-1 %",
        ylabel=f"{target_label} top-1 %",
        series=series,
        xticks=_percent_ticks(xs),
        yticks=_percent_ticks(ys),
    )


def _percent_ticks(values: list[float]) -> tuple[list[float], list[str]] | None:
    if not values:
        return None
    candidates = [1, 2, 5, 10, 20, 30, 40, 50, 60, 70, 80, 90, 95, 98, 99]
    lo, hi = min(values), max(values)
    chosen = [p for p in candidates if lo <= _logit(p) <= hi]
    return [_logit(p) for p in chosen], [str(p) for p in chosen]


MAX_RANK_TICKS = 10


def rank_ticks(ranks: list[int]) -> tuple[list[float], list[str]] | None:
    """Whole-number ticks over the ranks drawn (a rank is never `1.5`), at most
    `MAX_RANK_TICKS` of them, evenly spaced."""
    if not ranks:
        return None
    low, high = min(ranks), max(ranks)
    step = max(1, math.ceil((high - low + 1) / MAX_RANK_TICKS))
    values = list(range(low, high + 1, step))
    return [float(v) for v in values], [str(v) for v in values]


def distribution_spec(ranks: list[int], probabilities: list[float], model: str) -> ChartSpec:
    """P(rank = k) for one model as bars, the rank axis in whole numbers."""
    return ChartSpec(
        title=f"rank distribution of {model}",
        xlabel="rank",
        ylabel="probability",
        series=[
            Series(x=[float(r) for r in ranks], y=list(probabilities), kind="bar", color="cyan")
        ],
        xticks=rank_ticks([int(r) for r in ranks]),
    )
