"""What the app asks of every view it shows (the list of views is `registry.py`)."""

from __future__ import annotations

from textual.widget import Widget

from lottery_tui.tui.scope import Scope
from lottery_tui.tui.widgets.arrow_table import shown


class ExplorerView(Widget):
    """A tab's view. The app calls these on the UI thread; a view overrides what it needs."""

    def activate(self) -> None:
        """The view is shown: start what it computes for the app's scope, unless done already."""

    def scope_changed(self, old: Scope, new: Scope) -> None:
        """The app's scope changed (R, S, T): a shown view recomputes now, a hidden one when
        next shown (its `activate` compares the scope it computed for)."""
        if shown(self):
            self.activate()

    def store_changed(self) -> None:
        """The store has new results: what was computed is stale."""

    def action_filter(self) -> None:
        """`/` before anything has focus: the view's filter, where it has one."""
