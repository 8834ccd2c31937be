"""The explorer app: six views in tabs, a footer of keys, help, the command palette.

All database and statistics work runs in thread workers owned by the views; workers post
messages (`messages.py`) and the handlers here and in the views own all UI state.
"""

from __future__ import annotations

import asyncio
import contextlib
import importlib
import os
import sys
import threading
from concurrent.futures import Future
from dataclasses import replace
from pathlib import Path
from typing import TYPE_CHECKING, ClassVar

from textual import events, on, work
from textual.app import App, ComposeResult
from textual.binding import Binding, BindingType
from textual.message import Message
from textual.reactive import reactive
from textual.widgets import Footer, Input, Static, TabbedContent, TabPane, Tabs, TextArea

from lottery_tui.safe_text import safe_text
from lottery_tui.tui.database import ExplorerDatabase
from lottery_tui.tui.gains import GainsCache
from lottery_tui.tui.keys import SerialKey, SerialKeys
from lottery_tui.tui.messages import OpenScreen, ResultsLoaded
from lottery_tui.tui.scope import Scope

if TYPE_CHECKING:
    from collections.abc import Iterable

    from textual.app import SystemCommand
    from textual.command import Provider
    from textual.notifications import SeverityLevel
    from textual.screen import Screen
from lottery_tui.store.explore import (
    DEFAULT_REFERENCE,
    DatasetInfo,
    ResultsGrid,
    SourceInfo,
    list_datasets,
    list_sources,
    reference_grid,
)
from lottery_tui.tui.terminal import LOST_TERMINAL_CODE, watch_terminal
from lottery_tui.tui.views.base import ExplorerView
from lottery_tui.tui.views.registry import BY_KEY, FIRST_VIEW, VIEWS
from lottery_tui.tui.views.results import ResultsView
from lottery_tui.tui.widgets.arrow_table import ArrowTable, shown

VIEW_KEYS = Binding.Group("Views", compact=True)
SCOPE_KEYS = Binding.Group("Scope", compact=True)
STORE_CHECK_SECONDS = 2.0
"""How often the explorer looks whether another process changed the store (two `stat` calls)."""


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


PRELOADED = (
    "lottery_tui.report.service",  # scipy.stats, pandas and the statistics layer (~0.7 s)
    "lottery_tui.report.summary",
    "lottery_tui.tui.stats",
    *(view.module for view in VIEWS),  # plotext, the runs machinery
)
"""Imported in a thread once the first screen is painted, so the first `2`, `3`, `4` or `R`
does not wait for them (0.7-0.95 s quiet, 3-4 s on a loaded machine)."""
PRELOAD_AFTER_SECONDS = 1.0
"""Seconds after the first paint before the imports start: they hold the GIL for long stretches,
and the first keys (`/` and a name) should find the UI thread alone, as before."""


def preload_modules() -> None:
    """Import what the statistics views need, off the UI thread (a module that fails to import
    is left to the view that needs it, which says why in its place)."""
    for name in PRELOADED:
        with contextlib.suppress(Exception):
            importlib.import_module(name)


class Views(TabbedContent):
    """The tabs of views. Textual shows the tab of a widget when it receives focus; keys now
    move focus faster than those events arrive, so a stale one must not pull the view back."""

    def _on_tab_pane_focused(self, event: TabPane.Focused) -> None:
        focused = self.app.focused
        if focused is None or event.tab_pane not in focused.ancestors:
            event.stop()
            event.prevent_default()  # Textual calls each class's handler: skip the base one


def _stdin_is_a_terminal() -> bool:
    """Only a terminal can go away under the explorer: under `textual serve` (the browser mode)
    stdin is a pipe, which the web driver watches itself."""
    stream = sys.__stdin__
    try:
        return stream is not None and os.isatty(stream.fileno())
    except (OSError, ValueError):
        return False


class Unavailable(ExplorerView, Static):
    """In place of a view whose module cannot be imported (say, the runs machinery's)."""


def explorer_commands() -> type[Provider]:
    from lottery_tui.tui.commands import ExplorerCommands

    return ExplorerCommands


class LotteryApp(App[int]):
    """Is an ImageNet gain real, or a benchmark-lottery win? Keyboard-first, over SSH."""

    TITLE = "lottery"
    CSS_PATH = Path(__file__).with_name("app.tcss")  # absolute: subclasses live elsewhere
    COMMANDS = App.COMMANDS | {explorer_commands}  # imported when the palette first opens
    ENABLE_COMMAND_PALETTE = True
    scope: reactive[Scope] = reactive(Scope, init=False)
    """What the views are computed for; views follow it (`watch_scope`), results of another
    scope are dropped."""
    AUTO_FOCUS = None  # the Results table takes focus when its data arrives
    BINDINGS: ClassVar[list[BindingType]] = [
        # Keys that move focus are priority bindings: they act when the app reads them, so
        # keys arriving in the same batch (over SSH, `send-keys -l`) go where they send focus.
        *(
            Binding(
                str(i),
                f"show_view('{view.key}')",
                view.label,
                id=f"view.{view.key}",
                group=VIEW_KEYS,
                priority=True,
            )
            for i, view in enumerate(VIEWS, start=1)
        ),
        # The footer fits 80 columns: the scope keys as one group ("RST Scope": reference,
        # source, tags), then quit and help.
        Binding("R", "pick_reference", "Ref", id="app.reference", group=SCOPE_KEYS),
        Binding("S", "pick_source", "Source", id="app.source", group=SCOPE_KEYS),
        Binding("T", "pick_tags", "Tags", id="app.tags", group=SCOPE_KEYS),
        # `/` before any widget has focus (the first keys after start-up): the shown view's filter.
        Binding("slash", "filter_view", "Filter", show=False, id="app.filter"),
        Binding("q", "quit", "Quit", id="app.quit"),
        Binding("question_mark", "help", "Help", id="app.help"),
        Binding("f1", "help", "Help", show=False, id="app.help_f1"),
        Binding(  # ctrl+p, as in every Textual app, listed in `?`: the footer has no room
            "ctrl+p", "command_palette", "Palette", show=False, priority=True, id="app.palette"
        ),
        Binding(
            "escape",
            "leave_text",
            "Leave text box",
            show=False,
            id="app.leave_text",
            priority=True,
        ),
    ]

    def __init__(
        self,
        db: str | None = None,
        *,
        reference: str = DEFAULT_REFERENCE,
        source: str | None = None,
        pretraining: str | None = None,
        protocol: str | None = None,
        cursor_blink: bool = True,
        watch_tty: bool = True,
    ) -> None:
        super().__init__()
        self.database = ExplorerDatabase(db)
        self.set_reactive(LotteryApp.scope, Scope(reference, source, pretraining, protocol))
        self._first_scope = self.scope  # what the grid prepared at start-up is for
        self.cursor_blink = cursor_blink
        self.watch_tty = watch_tty
        self.marked_models: list[str] = []
        self._first_results: Future[ResultsGrid] = Future()
        self._first_results_taken = False
        threading.Thread(target=self._prepare_first_screen, daemon=True).start()
        threading.Thread(target=warm_table_measuring, daemon=True).start()
        self._views: dict[str, ExplorerView] = {FIRST_VIEW: ResultsView(id=f"{FIRST_VIEW}-view")}
        self.current_model: str | None = None
        self._keys = SerialKeys(self)
        self.gains = GainsCache()  # the Lottery view's verdicts and the summary line share them
        self._after_shown: dict[str, str] = {}  # view -> action to run once it is shown
        self._preloading = False

    async def on_event(self, event: events.Event) -> None:
        """Keys from the terminal go out one at a time (see `keys.py`); the rest as Textual
        handles them. A key back from the focused widget meets the app's bindings here."""
        if isinstance(event, SerialKey) and event.is_forwarded:
            await super().on_event(event)
            self._keys.finish(event)
        elif (
            isinstance(event, events.Key)
            and not isinstance(event, SerialKey)
            and not event.is_forwarded
            and event._sender is self  # read from the terminal (or a Pilot)
        ):
            if self._keys.read(event):
                await self.give_out_keys()
        else:
            await super().on_event(event)

    async def give_out_keys(self) -> None:
        """Hand out queued keys until one is in flight (forwarded to a widget)."""
        while (key := self._keys.next_key()) is not None:
            await super().on_event(key)  # priority bindings act here, or it is forwarded
            if not key.is_forwarded:
                self._keys.finish(key)

    def _prepare_first_screen(self) -> None:
        """Query the Results table while Textual itself starts up: DuckDB runs without the
        GIL, so the first screen arrives sooner than from a worker started after mounting."""
        try:
            with self.database.cursor() as cur:
                grid = reference_grid(cur, self.scope.reference, self.scope.tags)
        except Exception as exc:  # handed to the Results view, which shows it in place
            self._first_results.set_exception(exc)
        else:
            self._first_results.set_result(grid)

    @property
    def reference(self) -> str:
        return self.scope.reference

    @property
    def source(self) -> str | None:
        return self.scope.source

    def take_first_results(self, scope: Scope) -> ResultsGrid | None:
        """The Results grid prepared at start-up for `scope`, once (None afterwards, or for
        another scope: reloads query anew). Blocks until it is ready: call it from a worker."""
        if self._first_results_taken or scope != self._first_scope:
            return None
        self._first_results_taken = True
        return self._first_results.result()

    def compose(self) -> ComposeResult:
        # Only Results is built at start-up; the other views (and their imports: plotext, the
        # statistics, the runs machinery) are built the first time they are shown.
        with Views(id="views", initial=FIRST_VIEW):
            for i, view in enumerate(VIEWS, start=1):
                with TabPane(f"{i} {view.label}", id=view.key):
                    if view.key in self._views:
                        yield self._views[view.key]
                    else:  # in the first frame after its digit, until the view is built
                        yield Static(f"⧗ opening {view.label}: {view.summary}…", classes="opening")
        # Textual's palette key sits docked over the footer's end (a stray character at 80
        # columns): it is an ordinary binding here instead.
        yield Footer(compact=True, show_command_palette=False)

    def _build_view(self, key: str) -> ExplorerView:
        """View `key` as its registry entry says; if it cannot be imported, say so in place."""
        spec = BY_KEY[key]
        try:
            view_class = spec.view_class()
        except ImportError as exc:
            return Unavailable(f"{spec.label} view unavailable: {exc}", id=f"{key}-view")
        if spec.uses_store:  # it opens the store itself, and writes to it
            return view_class(
                db=self.database.db, release_store=self.database.released, id=f"{key}-view"
            )
        return view_class(id=f"{key}-view")

    def on_mount(self) -> None:
        # Views are switched with 1-6; keeping focus out of the tab bar keeps it on the data.
        self.query_one("#views Tabs", Tabs).can_focus = False
        if self.watch_tty and _stdin_is_a_terminal():
            self._watch_terminal()
        self._store_stamps: list[tuple[int, ...]] = []
        self.set_interval(STORE_CHECK_SECONDS, self._check_store)

    def _check_store(self) -> None:
        self._stamp_store()

    @work(thread=True, exclusive=True, exit_on_error=False, group="store-watch")
    def _stamp_store(self) -> None:
        """Reload when another process (an import, `lottery runs sync`) changed the store: once
        its files have stopped changing for one interval, so a running import is not chased."""
        stamp = self.database.stamp()
        stamps = self._store_stamps  # [as last loaded, seen changed once]
        if not stamps:
            stamps.append(stamp)
        elif stamp == stamps[0]:
            del stamps[1:]
        elif stamps[1:] == [stamp]:
            stamps[:] = [stamp]
            self.call_from_thread(self.reload_store_data, "the store changed: reloaded")
        else:
            stamps[1:] = [stamp]

    def _watch_terminal(self) -> None:
        """Exit when the terminal goes away, so no explorer outlives it (`tui/terminal.py`)."""
        loop = asyncio.get_running_loop()
        watch_terminal(lambda: loop.call_soon_threadsafe(self.exit, LOST_TERMINAL_CODE))

    async def action_quit(self) -> None:
        self.exit(0)

    def on_unmount(self) -> None:
        self.database.close()

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """Digits type into a text box and Esc is the box's own until it has focus: the
        priority bindings apply only where they cannot take a character from the user."""
        typing = isinstance(self.focused, Input | TextArea)
        if action == "show_view":
            return not typing and self.screen is self.screen_stack[0]
        if action == "leave_text":  # a filter box's own Esc clears it (the view's binding)
            return (
                typing
                and not self.focused.has_class("filter")
                and self.screen is self.screen_stack[0]
            )
        return True

    def action_show_view(self, key: str) -> None:
        """Show view `key` and give it the keys now (synchronously: keys typed with the digit
        must reach the new view, not the hidden one)."""
        self.query_one("#views", TabbedContent).active = key
        view = self._views.get(key)
        if view is not None and view.is_mounted:
            view.activate()  # now: its caption says what it computes at once
            self._focus_view(key)
        else:  # built on its first showing: the keys typed after the digit wait for it
            self.screen.set_focus(None)
            self._keys.hold()

    def action_filter_view(self) -> None:
        """Open the shown view's filter (its own `/` binding acts whenever the view has focus)."""
        view = self._views.get(self.query_one("#views", TabbedContent).active)
        if view is not None and view.is_mounted:
            view.action_filter()

    def _focus_view(self, key: str) -> None:
        """Give the keys to view `key`'s first focusable widget, skipping filter boxes (only `/`
        enters those), if it is still the one shown (a late callback must not pull focus into a
        view the user has left)."""
        if self.query_one("#views", TabbedContent).active != key:
            return
        if self.screen is not self.screen_stack[0]:
            return  # a dialog is open: it keeps the keys
        pane = self.query_one(f"#{key}", TabPane)
        focusable = [
            w for w in pane.query("*") if w.focusable and shown(w) and not w.has_class("filter")
        ]
        if focusable:
            self.screen.set_focus(focusable[0])

    def action_leave_text(self) -> None:
        """Esc in an editor or input: digits type text there, so hand the keys back to the view."""
        pane_id = self.query_one("#views", TabbedContent).active
        pane = self.query_one(f"#{pane_id}", TabPane)
        others = [
            w
            for w in pane.query("*")
            if w.focusable and shown(w) and not isinstance(w, Input | TextArea)
        ]
        self.screen.set_focus(others[0] if others else None)

    def action_pick_reference(self) -> None:
        """Choose the reference dataset among those with results from the chosen source (all
        sources: every dataset), in the store's order (listed off the UI thread)."""
        self._list_datasets_for_picker(self.scope.source)

    @work(thread=True, exclusive=True, exit_on_error=False, group="reference-picker")
    def _list_datasets_for_picker(self, source: str | None) -> None:
        try:
            with self.database.cursor() as cur:
                datasets = list_datasets(cur, None, source)
        except Exception as exc:
            self.call_from_thread(
                self.notify, f"cannot list datasets: {exc}", severity="error", markup=False
            )
            return
        self.call_from_thread(self._open_reference_picker, datasets)

    def _open_reference_picker(self, datasets: list[DatasetInfo]) -> None:
        from lottery_tui.tui.screens.reference import ReferenceScreen

        def chosen(reference: str | None) -> None:
            if reference is not None:
                self.set_reference(reference)

        self.push_screen(ReferenceScreen(datasets, self.scope.reference, self.scope.source), chosen)

    def set_reference(self, reference: str) -> None:
        """Take deltas, rank changes, rankings and verdicts against `reference` from now on."""
        self.scope = replace(self.scope, reference=reference)

    def action_pick_source(self) -> None:
        """Choose the import source the statistics views use (listed off the UI thread)."""
        self._list_sources_for_picker()

    @work(thread=True, exclusive=True, exit_on_error=False, group="source-picker")
    def _list_sources_for_picker(self) -> None:
        try:
            with self.database.cursor() as cur:
                sources = list_sources(cur)
        except Exception as exc:
            self.call_from_thread(
                self.notify, f"cannot list sources: {exc}", severity="error", markup=False
            )
            return
        self.call_from_thread(self._open_source_picker, sources)

    def _open_source_picker(self, sources: list[SourceInfo]) -> None:
        from lottery_tui.tui.screens.source import SourceScreen

        def chosen(source: str | None) -> None:
            if source is not None:
                self.set_source(source or None)

        self.push_screen(SourceScreen(sources, self.scope.source), chosen)

    def set_source(self, source: str | None) -> None:
        """Compute Rankings, Lottery and Plots over the models from `source` (None: all) from
        now on. Results lists every model whatever the source."""
        self.scope = replace(self.scope, source=source)

    def action_pick_tags(self) -> None:
        """Choose the pretraining or protocol the models shown and judged must have."""
        from lottery_tui.tui.screens.tags import TagsScreen, parse

        def chosen(picked: str | None) -> None:
            if picked is not None:
                self.set_tag(*parse(picked))

        self.push_screen(TagsScreen(self.scope.pretraining, self.scope.protocol), chosen)

    def set_tag(self, tag: str, value: str | None) -> None:
        """Keep only models with `tag` (pretraining or protocol) `value` (None: any)."""
        self.scope = replace(self.scope, **{tag: value})

    def watch_scope(self, old: Scope, new: Scope) -> None:
        """Every built view follows the new scope (Results reloads at once, the statistics
        views now if shown, else when next shown); a toast says what changed."""
        for view in self._views.values():
            if view.is_mounted:
                view.scope_changed(old, new)
        if new.reference != old.reference:
            self.notify(f"reference: {new.reference}", timeout=3, markup=False)
        if new.source != old.source:
            self.notify(f"source: {new.source or 'all sources'}", timeout=3, markup=False)
        for tag in ("pretraining", "protocol"):
            if getattr(new, tag) != getattr(old, tag):
                self.notify(f"{tag}: {getattr(new, tag) or 'any'}", timeout=3)

    @on(ResultsLoaded)
    def _first_screen_painted(self) -> None:
        """Once the first table is on screen, import the statistics in the background."""
        if not self._preloading:
            self._preloading = True
            self.set_timer(
                PRELOAD_AFTER_SECONDS,
                threading.Thread(target=preload_modules, daemon=True, name="preload").start,
            )

    def on_runs_view_results_ingested(self) -> None:
        self.reload_store_data()

    def reload_store_data(self, note: str | None = None) -> None:
        """New results in the store: reload the tables and recompute statistics when next shown."""
        self.gains.clear()
        for view in self._views.values():
            if view.is_mounted:
                view.store_changed()
        if note:
            self.notify(note, timeout=3, markup=False)

    @on(TabbedContent.TabActivated)
    async def _tab_activated(self, event: TabbedContent.TabActivated) -> None:
        """Build the view on its first showing, tell it it is shown, and give it the keys."""
        key = event.pane.id or ""
        if key == FIRST_VIEW:  # composed at start-up, loads itself
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
            await event.pane.query("TabPane > .opening").remove()  # the "opening…" line
        view.activate()
        self.call_after_refresh(self._view_shown, key)

    def _view_shown(self, key: str) -> None:
        self._focus_view(key)
        self._keys.release()
        action = self._after_shown.pop(key, None)
        view = self._views.get(key)
        if action is not None and view is not None:
            self.call_later(self.run_action, action, view)

    def current_table(self) -> ArrowTable | None:
        """The table the keys are on in the shown view, else its first table on show."""
        base = self.screen_stack[0]
        focused = base.focused
        for node in focused.ancestors_with_self if focused is not None else ():
            if isinstance(node, ArrowTable):
                return node
        pane = self.query_one(f"#{self.query_one('#views', TabbedContent).active}", TabPane)
        tables = [t for t in pane.query(ArrowTable) if shown(t)]
        return tables[0] if tables else None

    def run_view_action(self, key: str, action: str) -> None:
        """Show view `key` and run its `action` once it is built (the command palette)."""
        self._after_shown[key] = action
        self.action_show_view(key)
        view = self._views.get(key)
        if view is not None and view.is_mounted:
            self._view_shown(key)

    def get_system_commands(self, screen: Screen) -> Iterable[SystemCommand]:
        """Textual's own commands, less its screenshot (it saves to a Downloads folder that a
        server rarely has, and fails): `save_screen_svg` replaces it."""
        for command in super().get_system_commands(screen):
            if "screenshot" not in command.title.lower():
                yield command

    def notify(
        self,
        message: str,
        *,
        title: str = "",
        severity: SeverityLevel = "information",
        timeout: float | None = None,
        markup: bool = True,
    ) -> None:
        """Every toast with control characters escaped: names, paths and errors from the store
        appear in them (callers showing such text pass markup=False, so `[b]` stays literal)."""
        super().notify(
            safe_text(message),
            title=safe_text(title),
            severity=severity,
            timeout=timeout,
            markup=markup,
        )

    def save_screen_svg(self) -> None:
        """The screen as SVG in the current directory; the toast gives the absolute path."""
        try:
            path = self.save_screenshot(path=str(Path.cwd()))
        except OSError as exc:
            self.notify(f"cannot save the screenshot: {exc}", severity="error", markup=False)
            return
        self.notify(f"screenshot: {Path(path).resolve()}", timeout=6, markup=False)

    def action_help(self) -> None:
        from lottery_tui.tui.screens.help import HelpScreen

        self.push_screen(HelpScreen())

    def post_message(self, message: Message) -> bool:
        """A view asking for a dialog (`OpenScreen`) holds the keys read meanwhile: they are
        the dialog's (`c` then a name, in one batch over SSH)."""
        if isinstance(message, OpenScreen):
            self._keys.hold()
        return super().post_message(message)

    @on(OpenScreen)
    def _open_screen(self, event: OpenScreen) -> None:
        """The app alone pushes screens; views ask for theirs with this message."""
        self.push_screen(event.screen, event.callback)
        self._keys.release()

    def show_model_detail(self, model: str) -> None:
        from lottery_tui.tui.screens.detail import ModelDetailScreen

        self.push_screen(ModelDetailScreen(model))

    @on(ArrowTable.ExportRequested)
    def _export(self, event: ArrowTable.ExportRequested) -> None:
        from lottery_tui.tui.screens.export import ExportScreen

        table = event.table
        every_row = table.all_rows if table.more and table.fetch_all is not None else None
        self.push_screen(ExportScreen(event.data, event.title, every_row))
