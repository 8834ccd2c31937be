"""What the explorer's charts show, as data (no Textual, no plotext: testable alone).

Colours are fixed per series (no random colours), which keeps snapshots deterministic. Models a
chart singles out (a bump line, a marked point) get a key (`chart_keys`): the key is drawn in
the chart and the legend gives the full name, so no name has to fit beside a point.
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
    """Drawn bars first, then lines, then points (`ChartPanel`), so no fit hides a point."""
    xticks: tuple[list[float], list[str]] | None = None
    yticks: tuple[list[float], list[str]] | None = None
    xlim: tuple[float, float] | None = None
    ylim: tuple[float, float] | None = None
    labels: list[tuple[float, float, str, str]] = field(default_factory=list)
    """Text placed at (x, y) in a colour: line labels beside the lines, one per plot row."""
    legend: list[tuple[str, str, str]] = field(default_factory=list)
    """(key, full name, colour) per line, marked point or other series: the panel's legend
    names each whole, since labels in the chart are keys or cut names."""
    rows_needed: int = 0
    """Plot rows the chart needs to keep its lines apart (one per rank); the panel says when
    it has fewer."""


KEYS = "123456789abcdefghijklmnopqrstuvwxyz"
"""One character per singled-out model: a marked point is drawn as its key."""


def chart_keys(n: int) -> list[str]:
    """Keys for `n` models: one character each while there are enough, else numbers."""
    return list(KEYS[:n]) if n <= len(KEYS) else [str(i + 1) for i in range(n)]


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
    """One line per model through its rank on each dataset, rank 1 on top, numbered, with the
    number and name beside each line's end and every name in the legend.

    `ranks` has columns model, dataset_index, rank; models keep their reference order; datasets
    where none of them has a result are left out. Lines are
    drawn at y = -rank so rank 1 is highest; the y ticks are labelled with the rank itself.
    `plot_width` (characters) sizes the labels' room; the title may be empty (the caption
    above the chart can say it, which leaves one more row to the lines).
    """
    rows = ranks.to_pylist()
    # only datasets where some of these models rank: an empty column would end every line
    # before the right edge, where the labels go
    kept = sorted({r["dataset_index"] for r in rows})
    position = {d: k for k, d in enumerate(kept)}
    dataset_labels = [dataset_labels[d] for d in kept]
    rows = [{**r, "dataset_index": position[r["dataset_index"]]} for r in rows]
    label_width, room = label_room(len(dataset_labels), plot_width)
    order: list[str] = []
    for row in rows:
        if row["model"] not in order:
            order.append(row["model"])
    last_x = float(len(dataset_labels) - 1)
    series, legend = [], []
    key_width = len(str(len(order))) + 1
    short = fit_names(order, max(3, label_width - key_width))  # cut in the middle, all distinct
    ending: dict[float, list[int]] = {}  # rank on the last dataset -> the lines ending there
    for i, model in enumerate(order):
        points = sorted((r["dataset_index"], r["rank"]) for r in rows if r["model"] == model)
        color = PALETTE[i % len(PALETTE)]
        xs = [float(p[0]) for p in points]
        ys = [-float(p[1]) for p in points]
        series.append(Series(x=xs, y=ys, kind="line", marker="braille", color=color))
        legend.append((str(i + 1), model, color))
        if xs and xs[-1] == last_x:
            ending.setdefault(ys[-1], []).append(i)
    labels = [
        (last_x + 0.1, y, _end_label(lines, order, short), PALETTE[lines[0] % len(PALETTE)])
        for y, lines in ending.items()
    ]
    n = len(order)
    return ChartSpec(
        title=title,
        series=series,
        xticks=([float(k) for k in range(len(dataset_labels))], dataset_labels),
        yticks=([-float(k) for k in range(1, n + 1)], [str(k) for k in range(1, n + 1)]),
        xlim=(-0.1, last_x + room),
        ylim=(-float(n), -1.0) if n > 1 else None,
        labels=labels,
        legend=legend,  # a label beside the lines may be cut, shared or missing (no last point)
        rows_needed=n,
    )


def _end_label(lines: list[int], order: list[str], short: dict[str, str]) -> str:
    """The label at the end of the lines that end on one rank: the key and name of one line,
    the keys alone of lines tied there (the legend names them), so no two labels share a row."""
    if len(lines) == 1:
        return f"{lines[0] + 1} {short[order[lines[0]]]}"
    return ",".join(str(i + 1) for i in lines)


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
    Every model is one braille dot (a cell holds up to 8 apart), drawn over the fit line; a
    marked model is drawn as its key (`chart_keys`, the same on every variant) and named in
    the legend, which also names a marked model without a result here. The axes span the
    points, so the line never moves them.
    """
    models = points.column("model").to_pylist()
    xs = [_logit(v) for v in points.column("ref_top1").to_pylist()]
    ys = [_logit(v) for v in points.column("top1").to_pylist()]
    series = [
        Series(x=xs, y=ys, label=counted(len(models), "model"), marker="braille", color="blue")
    ]
    box = _extent(xs), _extent(ys)
    legend = [("⠂", counted(len(models), "model"), "blue")]
    if fit is not None and xs:
        segment = _clip_line(*fit, *box)
        if segment is not None:
            series.append(
                Series(
                    x=list(segment[0]),
                    y=list(segment[1]),
                    label="logit fit",
                    kind="line",
                    marker="braille",
                    color="orange",
                )
            )
            legend.append(("⠤", "logit fit (effective robustness)", "orange"))
    marked = list(dict.fromkeys(highlight))  # a model keeps its key on every variant
    for i, (key, model) in enumerate(zip(chart_keys(len(marked)), marked, strict=True)):
        color = PALETTE[(i + 2) % len(PALETTE)]
        if model not in models:  # marked, but not drawn: say so rather than leave it out
            legend.append((key, f"{model} · no result on {target_label}", color))
            continue
        k = models.index(model)
        series.append(Series(x=[xs[k]], y=[ys[k]], label=model, marker=key, color=color))
        legend.append((key, model, color))
    return ChartSpec(
        title=f"top-1: {target_label} vs {reference_label} (logit axes)",
        xlabel=f"{reference_label} top-1 %",
        ylabel=f"{target_label} top-1 %",
        series=series,
        xticks=_percent_ticks(xs),
        yticks=_percent_ticks(ys),
        xlim=box[0] if xs else None,
        ylim=box[1] if ys else None,
        legend=legend,
    )


def _extent(values: list[float]) -> tuple[float, float]:
    """The values' range, widened a little (and never empty) so no point sits on the frame."""
    if not values:
        return 0.0, 1.0
    lo, hi = min(values), max(values)
    pad = max(hi - lo, 1e-3) * 0.02
    return lo - pad, hi + pad


def _clip_line(
    a: float, b: float, xbox: tuple[float, float], ybox: tuple[float, float]
) -> tuple[tuple[float, float], tuple[float, float]] | None:
    """The part of y = a + b x inside the box, as ((x0, x1), (y0, y1)); None if it misses."""
    x0, x1 = xbox
    if b != 0:
        ends = sorted(((ybox[0] - a) / b, (ybox[1] - a) / b))
        x0, x1 = max(x0, ends[0]), min(x1, ends[1])
    elif not ybox[0] <= a <= ybox[1]:
        return None
    if x0 >= x1:
        return None
    return (x0, x1), (a + b * x0, a + b * x1)


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
