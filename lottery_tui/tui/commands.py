"""Command-palette provider (ctrl+p): every view and the main actions, found by typing."""

from __future__ import annotations

from collections.abc import Callable
from functools import partial

from textual.command import DiscoveryHit, Hit, Hits, Provider


class ExplorerCommands(Provider):
    """Views and actions of the explorer, so nothing depends on remembering a key."""

    def _commands(self) -> list[tuple[str, str, Callable[[], object]]]:
        app = self.app
        views = [
            ("results", "Results: models x datasets, sort, filter, detail"),
            ("rankings", "Rankings: rank agreement per dataset and the bump view"),
            ("lottery", "Lottery: marginal-gain verdicts and paired comparison"),
            ("plots", "Plots: reference vs variant scatter, rank distribution"),
            ("sql", "SQL: read-only console with history and export"),
            ("runs", "Runs: probe runs and their state"),
        ]
        commands: list[tuple[str, str, Callable[[], object]]] = [
            (
                f"Show {key.title() if key != 'sql' else 'SQL'}",
                help_text,
                partial(app.action_show_view, key),
            )
            for key, help_text in views
        ]
        commands += [
            ("Help", "Keys and views", app.action_help),
            (
                "Choose the reference dataset",
                f"Δ, rank change, Rankings and Lottery against it (now {app.reference})",
                app.action_pick_reference,
            ),
            (
                "Choose the source",
                "Rankings, Lottery and Plots over one import source's models "
                f"(now {app.source or 'all sources'})",
                app.action_pick_source,
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
            ("Quit", "Leave the explorer", app.exit),
        ]
        return commands

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
