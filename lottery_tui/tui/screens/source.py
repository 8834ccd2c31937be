"""`S`: choose the import source the statistics views work on. The shipped store mixes 1,556
aggregate-only timm models with 15 models that have per-image predictions; only the latter give
paired (McNemar, paired bootstrap) verdicts, and over all models the timm ones crowd them out."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from lottery_tui.tui.queries import SourceInfo

ALL_SOURCES = ""
"""What the picker returns for "all sources" (None stays "cancelled")."""


class SourceScreen(ModalScreen[str | None]):
    """ "All sources" then the store's sources, the current one marked; Enter chooses, Esc
    cancels. Returns the source's name, `ALL_SOURCES`, or None when cancelled."""

    AUTO_FOCUS = "#source-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Cancel", id="source.cancel"),
    ]
    DEFAULT_CSS = """
    SourceScreen { align: center middle; }
    SourceScreen > Vertical {
        width: 90%; max-width: 72; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    SourceScreen Static { height: auto; }
    SourceScreen OptionList { height: auto; max-height: 16; }
    """

    def __init__(self, sources: list[SourceInfo], current: str | None) -> None:
        super().__init__()
        self.choices: list[str] = [ALL_SOURCES, *(s.name for s in sources)]
        self.sources = sources
        self.current = current or ALL_SOURCES

    def compose(self) -> ComposeResult:
        labels = ["all sources"] + [f"{s.name} ({s.n_models:,} models)" for s in self.sources]
        options = [
            Option(f"{'● ' if choice == self.current else '  '}{label}")
            for choice, label in zip(self.choices, labels, strict=True)
        ]
        with Vertical():
            yield Static("Source: Rankings, Lottery and Plots use only its models")
            yield OptionList(*options, id="source-list")

    def on_mount(self) -> None:
        current = self.choices.index(self.current) if self.current in self.choices else 0
        self.query_one(OptionList).highlighted = current

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[event.option_index])
