"""Command-palette provider (ctrl+p): every view and the main actions, found by typing."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider

from lottery_tui.tui.views.registry import VIEWS


class ExplorerCommands(Provider):
    """Views and actions of the explorer, so nothing depends on remembering a key."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        scope = app.scope
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (
                f"Show {view.label}",
                f"{view.label}: {view.summary}",
                partial(app.action_show_view, view.key),
            )
            for view in VIEWS
        ]
        commands += [
            ("Help", "Keys and views", app.action_help),
            (
                "Choose the reference dataset",
                f"Δ, rank change, Rankings and Lottery against it (now {scope.reference})",
                app.action_pick_reference,
            ),
            (
                "Choose the source",
                "Rankings, Lottery and Plots over one import source's models "
                f"(now {scope.source or 'all sources'})",
                app.action_pick_source,
            ),
            (
                "Filter by pretraining or protocol",
                "Results and statistics over e.g. self-supervised linear probes only (T; now "
                f"{scope.pretraining or 'any'} pretraining, {scope.protocol or 'any'} protocol)",
                app.action_pick_tags,
            ),
            (
                "Gain per variant",
                "Outcome on each variant and lottery index of the gain under the cursor (Lottery)",
                self._gain_detail,
            ),
            (
                "Compare two models",
                "Paired comparison per dataset (Lottery view)",
                partial(app.run_action, "show_view('lottery')"),
            ),
            (
                "Export the table",
                "Write what the table shows to .csv, .md or .parquet (e)",
                partial(self._on_table, "export"),
            ),
            (
                "Sort by the cursor column",
                "Again: flip the order (s)",
                partial(self._on_table, "sort"),
            ),
            ("Copy the cell", "OSC 52: works over SSH (y)", partial(self._on_table, "copy_cell")),
            (
                "Copy the row",
                "Tab-separated, with its header (Y)",
                partial(self._on_table, "copy_row"),
            ),
            ("Filter models by name", "Results view (/)", self._filter),
            ("Launch probe runs", "Runs view (l)", partial(app.run_view_action, "runs", "launch")),
            ("Screenshot", "Save the screen as SVG in the current directory", app.save_screen_svg),
            ("Quit", "Leave the explorer", app.exit),
        ]
        return commands

    def _on_table(self, action: str) -> None:
        """Run a table action on the table the keys were on (else the view's first table)."""
        table = self.app.current_table()
        if table is None:
            self.app.notify("no table in this view", timeout=2)
        else:
            self.app.call_later(self.app.run_action, action, table)

    def _filter(self) -> None:
        self.app.action_show_view("results")
        self.app.call_later(self.app.run_action, "filter", self.app.query_one("#results-view"))

    def _gain_detail(self) -> None:
        self.app.action_show_view("lottery")
        view = self.app.query("#lottery-view")
        if view:
            view.first().action_gain_detail()

    async def discover(self) -> Hits:
        for name, help_text, callback in self._commands():
            yield DiscoveryHit(name, callback, help=help_text)

    async def search(self, query: str) -> Hits:
        matcher = self.matcher(query)
        for name, help_text, callback in self._commands():
            score = matcher.match(name)
            if score > 0:
                yield Hit(score, matcher.highlight(name), callback, help=help_text)
