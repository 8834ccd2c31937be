"""`?`: the keys of every view, from `help.md` beside this module."""

from __future__ import annotations

from pathlib import Path
from typing import ClassVar

from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import VerticalScroll
from textual.screen import ModalScreen
from textual.widgets import Markdown

from lottery_tui.tui.views.registry import BY_KEY, ViewSpec

HELP_TEXT = (Path(__file__).with_name("help.md")).read_text(encoding="utf-8")
GENERATED = ("runs",)
"""Views whose keys are listed from their own bindings (they change with the view, and a
list written here would fall behind)."""


def keys_of(spec: ViewSpec) -> str:
    """A Markdown table of a view's key bindings, as its class declares them."""
    try:
        bindings = spec.bindings()
    except ImportError as exc:
        return f"\n## {spec.label}\n\nunavailable: {exc}\n"
    rows = [
        f"| {' / '.join(f'`{k.strip()}`' for k in b.key.split(','))} | {b.description} |"
        for b in bindings
        if b.description
    ]
    return "\n".join([f"\n## {spec.label} view\n", "| key | does |", "|---|---|", *rows, ""])


def help_text() -> str:
    return HELP_TEXT + "".join(keys_of(BY_KEY[key]) for key in GENERATED)


class HelpScreen(ModalScreen[None]):
    AUTO_FOCUS = "VerticalScroll"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q,question_mark,f1", "dismiss", "Close", id="help.close"),
    ]
    DEFAULT_CSS = """
    HelpScreen { align: center middle; }
    HelpScreen > VerticalScroll {
        width: 90%; max-width: 100; height: 90%; border: round $primary; background: $surface;
    }
    """

    def compose(self) -> ComposeResult:
        with VerticalScroll():
            yield Markdown(help_text())
