"""`c` in Lottery: choose any two models in scope to compare (paired where both have per-image
data on a dataset, unpaired elsewhere)."""

from __future__ import annotations

from typing import ClassVar

from textual import on
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.suggester import SuggestFromList
from textual.widgets import Input, Static


class PairScreen(ModalScreen[tuple[str, str] | None]):
    """Two inputs that complete model names (→ accepts); Enter on the second compares."""

    AUTO_FOCUS = "#pair-a"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="pair.cancel"),
    ]
    DEFAULT_CSS = """
    PairScreen { align: center middle; }
    PairScreen > Vertical {
        width: 90%; max-width: 90; height: auto; border: round $primary; background: $surface;
        padding: 0 1;
    }
    PairScreen Static { height: auto; }
    """

    def __init__(self, candidates: list[str], accepted: set[str], preset: list[str]) -> None:
        super().__init__()
        self.candidates = candidates  # every model in the view's scope, as the explorer shows it
        self.accepted = accepted  # those names and the bare names only one of them has
        self.preset = preset + [""] * (2 - len(preset))

    def compose(self) -> ComposeResult:
        suggester = SuggestFromList(self.candidates, case_sensitive=False)
        shown = ", ".join(self.candidates[:6]) + (" …" if len(self.candidates) > 6 else "")
        with Vertical():
            yield Static("Compare model A, then model B (→ completes a name)")
            yield Input(self.preset[0], placeholder="model A", suggester=suggester, id="pair-a")
            yield Input(self.preset[1], placeholder="model B", suggester=suggester, id="pair-b")
            yield Static(
                f"{len(self.candidates)} models in scope: {shown or 'none'}",
                id="pair-status",
                classes="status",
            )

    def on_mount(self) -> None:
        for box in self.query(Input):
            box.cursor_blink = self.app.cursor_blink

    @on(Input.Submitted, "#pair-a")
    def _next(self) -> None:
        self.query_one("#pair-b", Input).focus()

    @on(Input.Submitted, "#pair-b")
    def _done(self) -> None:
        a = self.query_one("#pair-a", Input).value.strip()
        b = self.query_one("#pair-b", Input).value.strip()
        status = self.query_one("#pair-status", Static)
        if not a or not b or a == b:
            status.update("choose two different models")
            return
        unknown = [m for m in (a, b) if m not in self.accepted]
        if unknown:
            status.update(f"no model {unknown[0]} in scope")
            return
        self.dismiss((a, b))
