"""The explorer app: six views in tabs, a footer of keys, help, the command palette.

All database and statistics work runs in thread workers owned by the views; workers post
messages (`messages.py`) and the handlers here and in the views own all UI state.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import signal
import sys
import threading
from concurrent.futures import Future
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.widget import Widget
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane, Tabs, TextArea

from lottery_tui.tui.database import ExplorerDatabase

if TYPE_CHECKING:
    from textual.command import Provider
from lottery_tui.tui.queries import (
    DEFAULT_REFERENCE,
    DatasetInfo,
    ResultsGrid,
    SourceInfo,
    list_datasets,
    list_sources,
    reference_grid,
)
from lottery_tui.tui.views.results import ResultsView
from lottery_tui.tui.widgets.arrow_table import ArrowTable, shown

VIEWS = (
    ("results", "Results"),
    ("rankings", "Rankings"),
    ("lottery", "Lottery"),
    ("plots", "Plots"),
    ("sql", "SQL"),
    ("runs", "Runs"),
)
LAZY_VIEWS = {
    "rankings": ("lottery_tui.tui.views.rankings", "RankingsView"),
    "lottery": ("lottery_tui.tui.views.lottery", "LotteryView"),
    "plots": ("lottery_tui.tui.views.plots", "PlotsView"),
    "sql": ("lottery_tui.tui.views.sql", "SqlView"),
}
VIEW_KEYS = Binding.Group("Views", compact=True)
TTY_CHECK_SECONDS = 2.0


def warm_table_measuring() -> None:
    """Pay the Arrow table's one-time set-up (its width-measuring compute functions, ~0.3 s)
    in a thread while Textual starts and the store is queried, not after the data arrives."""
    from decimal import Decimal

    import pyarrow as pa
    from textual_fastdatatable import ArrowBackend

    sample = pa.table(  # the column types of the Results table: each type warms its own kernels
        {
            "model": ["name"],
            "top1": pa.array([Decimal("80.123")], pa.decimal128(6, 3)),
            "rank": pa.array([1], pa.int32()),
            "p": [0.5],
        }
    )
    ArrowBackend(sample).column_content_widths  # noqa: B018 - computed for its side effect


def explorer_commands() -> type[Provider]:
    from lottery_tui.tui.commands import ExplorerCommands

    return ExplorerCommands


class LotteryApp(App[int]):
    """Is an ImageNet gain real, or a benchmark-lottery win? Keyboard-first, over SSH."""

    TITLE = "lottery"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    COMMANDS = App.COMMANDS | {explorer_commands}  # imported when the palette first opens
    ENABLE_COMMAND_PALETTE = True
    AUTO_FOCUS = None  # the Results table takes focus when its data arrives
    BINDINGS: ClassVar[list[BindingType]] = [
        *(
            Binding(str(i), f"show_view('{key}')", label, id=f"view.{key}", group=VIEW_KEYS)
            for i, (key, label) in enumerate(VIEWS, start=1)
        ),
        Binding("R", "pick_reference", "Reference", id="app.reference"),
        Binding("S", "pick_source", "Source", id="app.source"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("f1", "help", "Help", show=False, id="app.help_f1"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("escape", "leave_text", "Leave text box", show=False, id="app.leave_text"),
    ]

    def __init__(
        self,
        db: str | None = None,
        *,
        reference: str = DEFAULT_REFERENCE,
        source: str | None = None,
        cursor_blink: bool = True,
        watch_tty: bool = True,
    ) -> None:
        super().__init__()
        self.database = ExplorerDatabase(db)
        self.reference = reference
        self.source = source
        self.cursor_blink = cursor_blink
        self.watch_tty = watch_tty
        self.marked_models: list[str] = []
        self._first_results: Future[ResultsGrid] = Future()
        self._first_results_taken = False
        threading.Thread(target=self._prepare_first_screen, daemon=True).start()
        threading.Thread(target=warm_table_measuring, daemon=True).start()
        self._views: dict[str, Widget] = {}
        self.current_model: str | None = None

    def _prepare_first_screen(self) -> None:
        """Query the Results table while Textual itself starts up: DuckDB runs without the
        GIL, so the first screen arrives sooner than from a worker started after mounting."""
        try:
            with self.database.cursor() as cur:
                grid = reference_grid(cur, self.reference)
        except Exception as exc:  # handed to the Results view, which shows it in place
            self._first_results.set_exception(exc)
        else:
            self._first_results.set_result(grid)

    @property
    def scope(self) -> tuple[str, str | None]:
        """What the statistics views are computed for: results for another scope are stale."""
        return self.reference, self.source

    def take_first_results(self, reference: str) -> ResultsGrid | None:
        """The Results grid prepared at start-up, once (None afterwards: reloads query anew).
        Blocks until it is ready: call it from a worker thread."""
        if self._first_results_taken or reference != self.reference:
            return None
        self._first_results_taken = True
        return self._first_results.result()

    def compose(self) -> ComposeResult:
        # Only Results is built at start-up; the other views (and their imports: plotext, the
        # statistics, the runs machinery) are built the first time they are shown.
        with TabbedContent(id="views", initial="results"):
            for i, (key, label) in enumerate(VIEWS, start=1):
                with TabPane(f"{i} {label}", id=key):
                    if key == "results":
                        yield ResultsView(id="results-view")
        yield Footer(compact=True)

    def _build_view(self, key: str) -> Widget:
        if key == "runs":
            return self._runs_view()
        module_name, class_name = LAZY_VIEWS[key]
        view_class = getattr(importlib.import_module(module_name), class_name)
        return view_class(id=f"{key}-view")

    def _runs_view(self) -> Widget:
        """The runs engineer's `RunsView`; if it cannot be imported, say so in its place."""
        try:
            from lottery_tui.tui.views.runs import RunsView
        except ImportError as exc:
            return Static(f"Runs view unavailable: {exc}", id="runs-view")
        return RunsView(db=self.database.db, release_store=self.database.released, id="runs-view")

    def on_mount(self) -> None:
        # Views are switched with 1-6; keeping focus out of the tab bar keeps it on the data.
        self.query_one("#views Tabs", Tabs).can_focus = False
        if self.watch_tty:
            self._watch_terminal()

    def _watch_terminal(self) -> None:
        """Exit when the terminal goes away, so no explorer spins on a dead TTY after SSH drops."""
        with contextlib.suppress(NotImplementedError, RuntimeError, ValueError):
            asyncio.get_running_loop().add_signal_handler(signal.SIGHUP, self._hang_up)
        self.set_interval(TTY_CHECK_SECONDS, self._check_tty)

    def _hang_up(self) -> None:
        self.exit(129)

    def _check_tty(self) -> None:
        stream = sys.__stdin__
        if stream is None:
            return
        try:
            os.tcgetpgrp(stream.fileno())
        except OSError:
            self.exit(129)

    async def action_quit(self) -> None:
        self.exit(0)

    def on_unmount(self) -> None:
        self.database.close()

    def action_show_view(self, key: str) -> None:
        self.query_one("#views", TabbedContent).active = key

    def _focus_view(self, key: str) -> None:
        """Give the keys to the first focusable widget of view `key`, if it is still the one
        shown (a late callback must not pull focus into a view the user has left)."""
        if self.query_one("#views", TabbedContent).active != key:
            return
        pane = self.query_one(f"#{key}", TabPane)
        focusable = [w for w in pane.query("*") if w.focusable and shown(w)]
        if focusable:
            focusable[0].focus()

    def action_leave_text(self) -> None:
        """Esc in an editor or input: digits type text there, so hand the keys back to the view."""
        if not isinstance(self.focused, Input | TextArea):
            return
        pane_id = self.query_one("#views", TabbedContent).active
        pane = self.query_one(f"#{pane_id}", TabPane)
        others = [
            w
            for w in pane.query("*")
            if w.focusable and shown(w) and not isinstance(w, Input | TextArea)
        ]
        self.set_focus(others[0] if others else None)

    def action_pick_reference(self) -> None:
        """Choose the reference dataset from those the Results table already lists."""
        grid = self.query_one(ResultsView).grid
        if grid is not None and grid.reference == self.reference:
            self._open_reference_picker(grid.datasets)
        else:  # no grid (e.g. an unknown reference): list the datasets off the UI thread
            self._list_datasets_for_picker()

    @work(thread=True, exclusive=True, exit_on_error=False, group="reference-picker")
    def _list_datasets_for_picker(self) -> None:
        try:
            with self.database.cursor() as cur:
                datasets = list_datasets(cur, self.reference)
        except Exception as exc:
            self.call_from_thread(self.notify, f"cannot list datasets: {exc}", severity="error")
            return
        self.call_from_thread(self._open_reference_picker, datasets)

    def _open_reference_picker(self, datasets: list[DatasetInfo]) -> None:
        from lottery_tui.tui.screens.reference import ReferenceScreen

        def chosen(reference: str | None) -> None:
            if reference is not None:
                self.set_reference(reference)

        self.push_screen(ReferenceScreen(datasets, self.reference), chosen)

    def set_reference(self, reference: str) -> None:
        """Take deltas, rank changes, rankings and verdicts against `reference` from now on:
        Results reloads at once, the statistics views when next shown (or now, if shown)."""
        if reference == self.reference:
            return
        self.reference = reference
        results = self.query_one(ResultsView)
        results.table.loading = True
        results.load(reference)
        self._rescope_statistics()
        self.notify(f"reference: {reference}", timeout=3)

    def action_pick_source(self) -> None:
        """Choose the import source the statistics views use (listed off the UI thread)."""
        self._list_sources_for_picker()

    @work(thread=True, exclusive=True, exit_on_error=False, group="source-picker")
    def _list_sources_for_picker(self) -> None:
        try:
            with self.database.cursor() as cur:
                sources = list_sources(cur)
        except Exception as exc:
            self.call_from_thread(self.notify, f"cannot list sources: {exc}", severity="error")
            return
        self.call_from_thread(self._open_source_picker, sources)

    def _open_source_picker(self, sources: list[SourceInfo]) -> None:
        from lottery_tui.tui.screens.source import SourceScreen

        def chosen(source: str | None) -> None:
            if source is not None:
                self.set_source(source or None)

        self.push_screen(SourceScreen(sources, self.source), chosen)

    def set_source(self, source: str | None) -> None:
        """Compute Rankings, Lottery and Plots over the models from `source` (None: all) from
        now on: when next shown, or now if shown. Results lists every model whatever the source."""
        if source == self.source:
            return
        self.source = source
        self.query_one(ResultsView).show_note()
        self._rescope_statistics()
        self.notify(f"source: {source or 'all sources'}", timeout=3)

    def _rescope_statistics(self) -> None:
        """The scope changed: the statistics views recompute when next shown (now if shown)."""
        active = self.query_one("#views", TabbedContent).active
        for key in ("rankings", "lottery"):
            view = self._views.get(key)
            if view is not None:
                view.started = False
                if key == active and view.is_mounted:
                    view.activate()
        plots = self._views.get("plots")
        if plots is not None and active == "plots" and plots.is_mounted:
            plots.activate()

    def on_runs_view_results_ingested(self) -> None:
        """New results in the store: reload the tables and recompute statistics when next shown."""
        self.query_one(ResultsView).load(self.reference)
        for view in self.query("#rankings-view, #lottery-view"):
            view.started = False

    @on(TabbedContent.TabActivated)
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Build the view on its first showing, tell it it is shown, and give it the keys."""
        key = event.pane.id or ""
        if key == "results":  # composed at start-up, loads itself
            self.call_after_refresh(self._focus_view, key)
            return
        if key in self._views:
            view = self._views[key]
            if not view.is_mounted:  # the first activation is still mounting it
                return
        else:
            # Recorded before the await: a second activation while this one mounts must not
            # build a second copy of the view.
            view = self._views[key] = self._build_view(key)
            await event.pane.mount(view)
        if hasattr(view, "activate"):
            view.activate()
        self.call_after_refresh(self._focus_view, key)

    def action_help(self) -> None:
        from lottery_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def show_model_detail(self, model: str) -> None:
        from lottery_tui.tui.screens.detail import ModelDetailScreen

        self.push_screen(ModelDetailScreen(model))

    @on(ArrowTable.ExportRequested)
    def _export(self, event: ArrowTable.ExportRequested) -> None:
        from lottery_tui.tui.screens.export import ExportScreen

        self.push_screen(ExportScreen(event.data, event.title))
