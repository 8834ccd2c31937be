"""A modal list to pick one value from, the current one marked: the `R`, `S` and `T` pickers."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import OptionList, Static
from textual.widgets.option_list import Option


class PickerScreen(ModalScreen[str | None]):
    """`choices` are (value, label) pairs; Enter dismisses with the value, Esc with None."""

    AUTO_FOCUS = "OptionList"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Cancel", id="picker.cancel"),
    ]
    DEFAULT_CSS = """
    PickerScreen { align: center middle; }
    PickerScreen > Vertical {
        width: 90%; max-width: 72; height: auto; max-height: 90%;
        border: round $primary; background: $surface; padding: 0 1;
    }
    PickerScreen Static { height: auto; }
    PickerScreen OptionList { height: auto; max-height: 16; }
    """

    def __init__(
        self,
        prompt: str,
        choices: list[tuple[str, str]],
        current: str,
        marked: set[str] | None = None,
    ) -> None:
        """`current` gets the cursor; `marked` (default: just `current`) get the mark."""
        super().__init__()
        self.prompt = prompt
        self.choices = choices
        self.current = current
        self.marked = {current} if marked is None else marked

    def compose(self) -> ComposeResult:
        options = [  # an empty value (e.g. "all sources") cannot be an option id
            Option(f"{'● ' if value in self.marked else '  '}{label}", id=value or None)
            for value, label in self.choices
        ]
        with Vertical():
            yield Static(self.prompt)
            yield OptionList(*options)

    def on_mount(self) -> None:
        values = [value for value, _ in self.choices]
        if values:
            current = values.index(self.current) if self.current in values else 0
            self.query_one(OptionList).highlighted = current

    @on(OptionList.OptionSelected)
    def _chosen(self, event: OptionList.OptionSelected) -> None:
        event.stop()
        self.dismiss(self.choices[event.option_index][0])
