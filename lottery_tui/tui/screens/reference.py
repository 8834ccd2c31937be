"""`R`: choose the reference dataset that deltas, rank changes, rankings and verdicts are taken
against (the paper's reference is ImageNet val, but a gain can be judged against any dataset)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option

from lottery_tui.tui.queries import DatasetInfo


class ReferenceScreen(ModalScreen[str | None]):
    """The store's datasets, the current reference highlighted; Enter chooses, Esc cancels."""

    AUTO_FOCUS = "#reference-list"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Cancel", id="reference.cancel"),
    ]
    DEFAULT_CSS = """
    ReferenceScreen { align: center middle; }
    ReferenceScreen > Vertical {
        width: 90%; max-width: 72; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    ReferenceScreen Static { height: auto; }
    ReferenceScreen OptionList { height: auto; max-height: 16; }
    """

    def __init__(self, datasets: list[DatasetInfo], current: str) -> None:
        super().__init__()
        self.datasets = datasets
        self.current = current

    def compose(self) -> ComposeResult:
        options = [
            Option(
                f"{'● ' if d.dataset_id == self.current else '  '}{d.dataset_id} ({d.label}, "
                f"{d.n_models:,} models)",
                id=d.dataset_id,
            )
            for d in self.datasets
        ]
        with Vertical():
            yield Static("Reference dataset: Δ, rank change, Rankings and Lottery follow it")
            yield OptionList(*options, id="reference-list")

    def on_mount(self) -> None:
        ids = [d.dataset_id for d in self.datasets]
        if ids:
            self.query_one(OptionList).highlighted = (
                ids.index(self.current) if self.current in ids else 0
            )

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(event.option.id)
