"""Charts in the terminal: a `ChartSpec` drawn with textual-plotext.

Views describe *what* to draw (`chartspec.py`); only this module knows plotext, so the plotting
library can be replaced without touching a view.
"""

from __future__ import annotations

from dataclasses import replace

from rich.text import Text
from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from lottery_tui.safe_text import safe_text
from lottery_tui.tui.chartspec import PALETTE, ChartSpec
from lottery_tui.tui.names import fit_names

LEGEND_COLUMN = 38
"""Characters per legend entry: two columns at 80, three at 120."""
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


class ChartPanel(Vertical):
    """A caption line over a plot; `draw(spec)` replaces what is shown."""

    DEFAULT_CSS = """
    ChartPanel { height: 1fr; }
    ChartPanel > PlotextPlot { height: 1fr; }
    ChartPanel > .caption { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    ChartPanel > .legend { height: auto; max-height: 6; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spec: ChartSpec | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="caption", markup=False)
        yield PlotextPlot()
        yield Static("", classes="legend")

    def _legend(self, spec: ChartSpec) -> Text:
        """Key, colour and name of each line, in columns of equal width; names cut in the
        middle to the column when they must be, never two alike."""
        width = max(20, self.size.width - 2)
        columns = max(1, min(len(spec.legend), width // LEGEND_COLUMN))
        cell = width // columns
        key_width = max((len(k) for k, _, _ in spec.legend), default=1)
        names = fit_names([n for _, n, _ in spec.legend], max(3, cell - key_width - 4))
        text = Text()
        for i, (key, name, color) in enumerate(spec.legend):
            entry = Text.assemble(("● ", rich_color(color)), f"{key:>{key_width}} {names[name]}")
            last_in_row = (i + 1) % columns == 0
            if not last_in_row:
                entry.pad_right(cell - len(entry))
            text.append_text(entry)
            if last_in_row and i + 1 < len(spec.legend):
                text.append("\n")
        return text

    def show_message(self, text: str) -> None:
        self.query_one(".caption", Static).update(safe_text(text))

    def draw(self, spec: ChartSpec, caption: str = "") -> None:
        self.spec = spec
        spec = safe_spec(spec)
        self.show_message(caption or spec.title)
        legend = self.query_one(".legend", Static)
        legend.display = bool(spec.legend)
        legend.update(self._legend(spec))
        plt = self.query_one(PlotextPlot).plt
        plt.clear_figure()
        plt.title(spec.title)
        plt.xlabel(spec.xlabel)
        plt.ylabel(spec.ylabel)
        for i, s in enumerate(spec.series):
            color = s.color or PALETTE[i % len(PALETTE)]
            if s.kind == "line":
                plt.plot(s.x, s.y, label=s.label, marker=s.marker, color=color)
            elif s.kind == "bar":
                plt.bar(s.x, s.y, label=s.label, color=color)
            else:
                plt.scatter(s.x, s.y, label=s.label, marker=s.marker, color=color)
        if spec.xticks is not None:
            plt.xticks(*spec.xticks)
        if spec.yticks is not None:
            plt.yticks(*spec.yticks)
        if spec.xlim is not None:
            plt.xlim(*spec.xlim)
        for x, y, text, color in spec.labels:
            plt.text(text, x, y, color=color)
        self.query_one(PlotextPlot).refresh()
