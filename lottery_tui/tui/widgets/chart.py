"""Charts in the terminal: a `ChartSpec` drawn with textual-plotext.

Views describe *what* to draw (`chartspec.py`); only this module knows plotext, so the plotting
library can be replaced without touching a view.
"""

from __future__ import annotations

from textual.app import ComposeResult
from textual.containers import Vertical
from textual.widgets import Static
from textual_plotext import PlotextPlot

from lottery_tui.tui.chartspec import PALETTE, ChartSpec


class ChartPanel(Vertical):
    """A caption line over a plot; `draw(spec)` replaces what is shown."""

    DEFAULT_CSS = """
    ChartPanel { height: 1fr; }
    ChartPanel > PlotextPlot { height: 1fr; }
    ChartPanel > .caption { height: 1; color: $text-muted; padding: 0 1; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.spec: ChartSpec | None = None

    def compose(self) -> ComposeResult:
        yield Static("", classes="caption")
        yield PlotextPlot()

    def show_message(self, text: str) -> None:
        self.query_one(".caption", Static).update(text)

    def draw(self, spec: ChartSpec, caption: str = "") -> None:
        self.spec = spec
        self.show_message(caption or spec.title)
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
