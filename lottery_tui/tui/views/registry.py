"""The explorer's views, defined once: the tabs, the digit keys, the command palette, help and
the lazy build all read this list, so the next view is one entry here and its module."""

from __future__ import annotations

import importlib
from dataclasses import dataclass

from textual.binding import Binding


@dataclass(frozen=True)
class ViewSpec:
    """One view: its pane id, tab label, class (imported on first showing), one line of
    what it shows (the command palette's help), and whether it is built with the store's path
    and a way to release the explorer's connection (it writes to the store)."""

    key: str
    label: str
    module: str
    class_name: str
    summary: str
    uses_store: bool = False

    def view_class(self) -> type:
        return getattr(importlib.import_module(self.module), self.class_name)

    def bindings(self) -> list[Binding]:
        """The view's own key bindings (for `?`), read from its class."""
        return [b for b in getattr(self.view_class(), "BINDINGS", []) if isinstance(b, Binding)]


VIEWS: tuple[ViewSpec, ...] = (
    ViewSpec(
        "results",
        "Results",
        "lottery_tui.tui.views.results",
        "ResultsView",
        "models x datasets, sort, filter, detail",
    ),
    ViewSpec(
        "rankings",
        "Rankings",
        "lottery_tui.tui.views.rankings",
        "RankingsView",
        "rank agreement per dataset and the bump view",
    ),
    ViewSpec(
        "lottery",
        "Lottery",
        "lottery_tui.tui.views.lottery",
        "LotteryView",
        "marginal-gain verdicts and paired comparison",
    ),
    ViewSpec(
        "plots",
        "Plots",
        "lottery_tui.tui.views.plots",
        "PlotsView",
        "reference vs variant scatter, rank distribution",
    ),
    ViewSpec(
        "sql", "SQL", "lottery_tui.tui.views.sql", "SqlView", "read-only console with history"
    ),
    ViewSpec(
        "runs",
        "Runs",
        "lottery_tui.tui.views.runs",
        "RunsView",
        "probe runs and their state",
        uses_store=True,
    ),
)
FIRST_VIEW = VIEWS[0].key
"""Built at start-up (it needs one SQL query); the others are built when first shown."""
BY_KEY = {spec.key: spec for spec in VIEWS}
