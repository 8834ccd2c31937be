"""Charts in the terminal: a `ChartSpec` drawn with textual-plotext.

Views describe *what* to draw (`chartspec.py`); only this module knows plotext, so the plotting
library can be replaced without touching a view.
"""

from __future__ import annotations

from dataclasses import replace
from typing import Any

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from lottery_tui.safe_text import safe_text
from lottery_tui.tui.chartspec import PALETTE, ChartSpec
from lottery_tui.tui.names import fit_names

LEGEND_GAP, LEGEND_ROWS = 3, 6
"""Spaces between two legend columns; the most rows the legend takes from the plot."""
RICH_COLORS = {"orange": "dark_orange"}
"""plotext colour names that Rich spells otherwise (its `bright-x` is Rich's `bright_x`)."""


def rich_color(plotext_color: str) -> str:
    return RICH_COLORS.get(plotext_color, plotext_color.replace("-", "_"))


def safe_spec(spec: ChartSpec) -> ChartSpec:
    """`spec` with control characters escaped in every text it draws: model and dataset names
    come from users' files, and plotext's output is read back as ANSI, so a raw escape sequence
    in a name would restyle the plot or shift its columns."""

    def ticks(pair: tuple[list[float], list[str]] | None) -> tuple[list[float], list[str]] | None:
        return None if pair is None else (pair[0], [safe_text(t) for t in pair[1]])

    return replace(
        spec,
        title=safe_text(spec.title),
        xlabel=safe_text(spec.xlabel),
        ylabel=safe_text(spec.ylabel),
        series=[replace(s, label=s.label and safe_text(s.label)) for s in spec.series],
        xticks=ticks(spec.xticks),
        yticks=ticks(spec.yticks),
        labels=[(x, y, safe_text(text), color) for x, y, text, color in spec.labels],
        legend=[(key, safe_text(name), color) for key, name, color in spec.legend],
    )


DRAW_ORDER = {"bar": 0, "line": 1, "scatter": 2}
"""Bars under lines under points: a later series overwrites the cells it shares with an
earlier one, so points drawn last are never hidden by a fit line."""


def plot_rows(spec: ChartSpec, height: int) -> int:
    """Rows inside the frame of a plot `height` rows high: plotext takes two for the frame,
    one for the x ticks, one for a title and one for the axis labels."""
    return height - 3 - bool(spec.title) - bool(spec.xlabel or spec.ylabel)


def rows_note(spec: ChartSpec, height: int) -> str:
    """What the caption adds when the plot has fewer rows than its lines need apart."""
    rows = plot_rows(spec, height)
    if spec.rows_needed <= rows:
        return ""
    return f" · {spec.rows_needed} lines in {max(rows, 0)} rows: - for fewer"


def row_labels(spec: ChartSpec, rows: int) -> list[tuple[float, float, str, str]]:
    """The spec's labels, those that would fall within a row of each other in a plot of
    `rows` rows merged into one (their keys, the text before the first space), so no two
    overlap however short the plot; the legend names every key."""
    if spec.ylim is None or rows < 2 or not spec.labels:
        return spec.labels
    low, high = spec.ylim
    per_row = (high - low) / (rows - 1)
    merged: list[tuple[float, float, str, str]] = []
    for x, y, text, color in sorted(spec.labels, key=lambda label: -label[1]):
        if merged and merged[-1][1] - y < per_row:
            mx, my, mtext, mcolor = merged[-1]
            keys = f"{mtext.split(' ')[0]},{text.split(' ')[0]}"
            merged[-1] = (mx, my, keys, mcolor)
        else:
            merged.append((x, y, text, color))
    return merged


def apply_spec(plt: Any, spec: ChartSpec, rows: int = 0) -> None:
    """Draw `spec` on a plotext figure (`ChartPanel`'s plot, or a bare one in a test) whose
    plot has `rows` rows inside its frame (0: unknown, labels as the spec places them)."""
    plt.clear_figure()
    plt.title(spec.title)
    plt.xlabel(spec.xlabel)
    plt.ylabel(spec.ylabel)
    # no labels to plotext: its legend box would cover points; the panel's legend says it
    ordered = sorted(enumerate(spec.series), key=lambda item: DRAW_ORDER[item[1].kind])
    for i, s in ordered:
        color = s.color or PALETTE[i % len(PALETTE)]
        if s.kind == "line":
            plt.plot(s.x, s.y, marker=s.marker, color=color)
        elif s.kind == "bar":
            plt.bar(s.x, s.y, color=color)
        else:
            plt.scatter(s.x, s.y, marker=s.marker, color=color)
    if spec.xticks is not None:
        plt.xticks(*spec.xticks)
    if spec.yticks is not None:
        plt.yticks(*spec.yticks)
    if spec.xlim is not None:
        plt.xlim(*spec.xlim)
    if spec.ylim is not None:
        plt.ylim(*spec.ylim)
    for x, y, text, color in row_labels(spec, rows) if rows else spec.labels:
        plt.text(text, x, y, color=color)


def _flow(widths: list[int], width: int) -> list[list[int]]:
    """Entries (by index) laid out left to right, `LEGEND_GAP` apart, a new row when the next
    would pass `width`."""
    rows: list[list[int]] = []
    used = width + 1
    for i, w in enumerate(widths):
        if rows and used + LEGEND_GAP + w <= width:
            rows[-1].append(i)
            used += LEGEND_GAP + w
        else:
            rows.append([i])
            used = w
    return rows


class FittedPlot(PlotextPlot):
    """A plot that has its panel refit the labels when its own height changes (a caption or
    legend that grows or shrinks inside the panel resizes the plot, not the panel)."""

    def on_resize(self) -> None:
        panel = self.parent
        if isinstance(panel, ChartPanel):
            panel.on_resize()


class ChartPanel(Vertical):
    """A caption line over a plot; `draw(spec)` replaces what is shown. A view that shows it
    alone makes it focusable (`can_focus`), so the view's keys still reach the view."""

    DEFAULT_CSS = """
    ChartPanel { height: 1fr; }
    ChartPanel > PlotextPlot { height: 1fr; }
    ChartPanel > .caption { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    ChartPanel > .legend { height: auto; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spec: ChartSpec | None = None
        self.caption = ""

    def compose(self) -> ComposeResult:
        yield Static("", classes="caption", markup=False)
        yield FittedPlot()
        yield Static("", classes="legend")

    def _legend(self, spec: ChartSpec) -> Text:
        """Key, colour and name of each line or marked point, entries side by side as long as
        they fit whole (the legend is where keys and cut labels are named); only if that takes
        more than `LEGEND_ROWS` rows, equal columns with names cut in the middle, never two
        alike."""
        width = max(20, self.size.width - 2)
        key_width = max((len(k) for k, _, _ in spec.legend), default=1)
        names = {n: n for _, n, _ in spec.legend}
        rows = _flow([key_width + 3 + len(n) for _, n, _ in spec.legend], width)
        cell = None
        if len(rows) > LEGEND_ROWS:
            columns = -(-len(spec.legend) // LEGEND_ROWS)
            cell = width // columns
            names = fit_names(names, max(3, cell - key_width - 3 - LEGEND_GAP))
            rows = [
                list(range(i, min(i + columns, len(spec.legend))))
                for i in range(0, len(spec.legend), columns)
            ]
        text = Text()
        for r, row in enumerate(rows):
            for j, i in enumerate(row):
                key, name, color = spec.legend[i]
                entry = Text.assemble(
                    ("● ", rich_color(color)), f"{key:>{key_width}} {names[name]}"
                )
                if j + 1 < len(row):
                    entry.pad_right((cell or len(entry) + LEGEND_GAP) - len(entry))
                text.append_text(entry)
            if r + 1 < len(rows):
                text.append("\n")
        return text

    def show_message(self, text: str) -> None:
        """A line in place of the caption (loading, an error) until the next `draw`."""
        self.caption = ""
        self._set_caption(text)

    def _set_caption(self, text: str) -> None:
        self.query_one(".caption", Static).update(safe_text(text))

    def _fit_to_size(self) -> None:
        """Labels, legend columns and the caption's rows note for the plot's size now (a
        hidden panel, as in a view not shown yet, has none)."""
        if self.spec is None or not self.caption:
            return
        spec, plot = safe_spec(self.spec), self.query_one(PlotextPlot)
        self.query_one(".legend", Static).update(self._legend(spec))
        if spec.labels:
            apply_spec(plot.plt, spec, plot_rows(spec, plot.size.height))
            plot.refresh()
        self._set_caption(self.caption + rows_note(spec, plot.size.height))

    def on_resize(self) -> None:
        self.call_after_refresh(self._fit_to_size)  # the plot's new height is laid out then

    def draw(self, spec: ChartSpec, caption: str = "") -> None:
        self.spec = spec
        spec = safe_spec(spec)
        self.caption = caption or spec.title
        legend = self.query_one(".legend", Static)
        legend.display = bool(spec.legend)
        legend.update(self._legend(spec))
        apply_spec(self.query_one(PlotextPlot).plt, spec)
        self.query_one(PlotextPlot).refresh()
        self._set_caption(self.caption)
        self.call_after_refresh(self._fit_to_size)
