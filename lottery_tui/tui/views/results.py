"""Results: models x datasets with top-1, rank, and delta and rank change against the reference."""

from __future__ import annotations

from typing import ClassVar

import pyarrow as pa
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input
from textual_fastdatatable.data_table import DataTable

from lottery_tui.store.explore import (
    GROUPS,
    ResultsGrid,
    reference_grid,
    short_label,
    source_note,
)
from lottery_tui.store.identity import ModelFilter
from lottery_tui.tui.messages import ResultsFailed, ResultsLoaded, one_line
from lottery_tui.tui.scope import Scope
from lottery_tui.tui.views.base import ExplorerView
from lottery_tui.tui.widgets.arrow_table import CELL_PADDING, SCROLLBAR, ArrowTable

COLUMN_MODES = ("all", *GROUPS)
NARROW = 100
"""Below this many columns, "all" lists every dataset's top-1 first, then ranks, Δ, rank change
(the table scrolls sideways with the model column fixed); from it on, each dataset is a compact
pair, its top-1 and its rank change (the reference's own rank), the ranks and Δ after them."""
DATA_COLUMN = 8  # an accuracy cell, "90.056", with its padding
MIN_NAME, MIN_DATA_COLUMNS = 24, 4
MAX_NAME = 40
"""The model column's cap: wider terminals show more datasets, not more of a name (a name cut
in the middle is shown whole in the line below the table)."""


class ResultsView(ExplorerView, Vertical):
    """The first screen: it needs one SQL query, never torch or bootstrap statistics."""

    # `/`, and Enter and Esc in the filter box, move focus: priority bindings act when the app
    # reads the key, so the keys typed with them (one batch over SSH) land where they lead.
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="results.filter", priority=True),
        Binding("v", "cycle_columns", "Cols", id="results.columns"),
        Binding("space", "mark", "Mark", show=False, id="results.mark"),
        Binding(
            "enter",
            "filter_done",
            "Back to the table",
            show=False,
            id="results.filter_done",
            priority=True,
        ),
        Binding(
            "escape",
            "clear_filter",
            "Clear filter",
            show=False,
            id="results.clear_filter",
            priority=True,
        ),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.grid: ResultsGrid | None = None
        self.column_mode = 0

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="filter models by name (Enter: back to the table, Esc: clear)",
            id="results-filter",
            classes="filter",
        )
        yield ArrowTable(
            title="Results",
            first_column_width=32,
            pinned=1,
            name_columns=("model",),
            id="results-table",
        )

    def on_mount(self) -> None:
        self.query_one("#results-filter", Input).display = False
        self.table.start_work(f"loading top-1 and ranks against {self.app.scope.reference}…")
        self.load(self.app.scope)

    @property
    def table(self) -> ArrowTable:
        return self.query_one("#results-table", ArrowTable)

    @work(thread=True, exclusive=True, exit_on_error=False, group="results")
    def load(self, scope: Scope) -> None:
        try:
            grid = self.app.take_first_results(scope)
            if grid is None:
                with self.app.database.cursor() as cur:
                    grid = reference_grid(cur, scope.reference, scope.tags)
        except Exception as exc:  # shown in place; the app keeps running
            self.post_message(ResultsFailed(one_line(exc)))
            return
        self.post_message(ResultsLoaded(scope, grid))

    def scope_changed(self, old: Scope, new: Scope) -> None:
        """Another reference or tag: reload at once, saying what is recomputed (this table
        lists every source, so a new source only changes the caption)."""
        if new.reference != old.reference:
            doing = f"Δ, ranks and rank changes against {new.reference}…"
        elif new.tags != old.tags:
            tag = "pretraining" if new.pretraining != old.pretraining else "protocol"
            doing = f"keeping models with {tag} {getattr(new, tag) or 'any'}…"
        else:
            self.show_note()
            return
        self.table.start_work(doing, keep=True)
        self.load(new)

    def store_changed(self) -> None:
        self.load(self.app.scope)

    @on(ResultsLoaded)
    def _loaded(self, event: ResultsLoaded) -> None:
        if (event.scope.reference, event.scope.tags) != (
            self.app.scope.reference,
            self.app.scope.tags,
        ):
            return  # a reference or tag chosen since: its worker follows
        self.grid = event.grid
        self.show_note()
        self.table.first_column_width = self._name_width(self.app.size.width)
        self.table.load(self._arranged(self.grid), columns=self._mode_columns())
        if self.app.current_model is None and self.grid.table.num_rows:
            self.app.current_model = str(self.grid.table.column("model")[0].as_py())
        if self.app.focused is None:
            self.table.focus_table()

    def show_note(self) -> None:
        """The caption names the reference and, when one is chosen, the statistics' source
        (this table itself always lists every model)."""
        if self.grid is None:
            return
        scope = self.app.scope
        note = f"reference {short_label(self.grid.reference)} (R: change)"
        if scope.source is not None:
            note += f" · stats: {scope.source} (S)"
        if scope.tags != ModelFilter():
            note += f"{source_note(scope.tags)} (T)"
        self.table.set_note(note)

    def _name_width(self, width: int) -> int:
        """Model names run to 56 characters, and two differ only at the end
        (`..._in22k_in1k` / `..._in1k`): give them all the room that leaves at least
        `MIN_DATA_COLUMNS` accuracy columns in view, and no more than the longest name needs
        or `MAX_NAME`."""
        longest = max(MIN_NAME, self.grid.longest_model if self.grid is not None else 0)
        room = width - SCROLLBAR - CELL_PADDING - MIN_DATA_COLUMNS * DATA_COLUMN
        return max(MIN_NAME, min(longest, room, MAX_NAME))

    def _arranged(self, grid: ResultsGrid) -> pa.Table:
        """What fits on screen says the most: at narrow widths every top-1 first; wider, each
        dataset's top-1 beside its rank change (the reference: its rank), so more width shows
        more datasets. The other columns follow, for scrolling sideways."""
        names = grid.table.column_names
        if self.app.size.width >= NARROW:
            top1, rank, change = (grid.groups[g] for g in (GROUPS[0], GROUPS[1], GROUPS[3]))
            first = []
            for label, ranked in zip(top1, rank, strict=True):
                moved = f"{ranked[: -len('#')]}±#"
                first += [label, moved if moved in change else ranked]
        else:
            first = [c for group in GROUPS for c in grid.groups[group]]
        return grid.table.select([names[0], *first, *(n for n in names[1:] if n not in first)])

    def on_resize(self) -> None:
        """Re-arrange for the new width (only when the layout rule gives a different answer)."""
        if self.grid is None:
            return
        width = self._name_width(self.app.size.width)
        order = self._arranged(self.grid).column_names
        if width != self.table.first_column_width or order != self.table.source.column_names:
            self.table.first_column_width = width
            self.table.load(self._arranged(self.grid), columns=self._mode_columns())

    @on(ResultsFailed)
    def _failed(self, event: ResultsFailed) -> None:
        self.grid = None
        self.table.show_message(f"cannot load results: {event.error}")

    @property
    def filter_box(self) -> Input:
        return self.query_one("#results-filter", Input)

    def check_action(self, action: str, parameters: tuple[object, ...]) -> bool | None:
        """`/` types itself inside the filter box; Enter belongs to the box only while it has
        focus; Esc clears a filter (from the box or the table) and otherwise passes on."""
        in_box = self.app.focused is self.filter_box
        if action == "filter":
            return not in_box
        if action == "filter_done":
            return in_box
        if action == "clear_filter":
            return in_box or bool(self.table.filter_text)
        return True

    def action_filter(self) -> None:
        box = self.filter_box
        box.display = True
        # Synchronous, unlike `focus()`: keys typed right after `/` must land in the box.
        self.screen.set_focus(box)

    @on(Input.Changed, "#results-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value.strip())

    def action_filter_done(self) -> None:
        """Enter in the box: the filter stays (shown above the table), the keys go back."""
        box = self.filter_box
        self.table.set_filter(box.value.strip())  # the box's last Changed may still be queued
        if not box.value.strip():
            box.display = False
        self._focus_table_now()

    def action_clear_filter(self) -> None:
        box = self.filter_box
        box.value = ""
        box.display = False
        self.table.set_filter("")
        self._focus_table_now()

    def _focus_table_now(self) -> None:
        """Synchronously, so the next key of a batch already reaches the table."""
        if self.table.data_table is not None:
            self.screen.set_focus(self.table.data_table)
        else:
            self.screen.set_focus(None)

    def action_cycle_columns(self) -> None:
        self.column_mode = (self.column_mode + 1) % len(COLUMN_MODES)
        self._apply_column_mode()
        self.notify(f"columns: {COLUMN_MODES[self.column_mode]}", timeout=2)

    def _mode_columns(self) -> list[str] | None:
        mode = COLUMN_MODES[self.column_mode]
        if self.grid is None or mode == "all":
            return None
        return self.grid.groups[mode]

    def _apply_column_mode(self) -> None:
        self.table.set_columns(self._mode_columns())

    def action_mark(self) -> None:
        row = self.table.cursor_row()
        if row is None:
            return
        model = str(row["model"])
        marked = self.app.marked_models
        if model in marked:
            marked.remove(model)
        else:
            marked.append(model)
        self.notify(
            f"{'marked' if model in marked else 'unmarked'} {model} ({len(marked)} marked)",
            timeout=2,
            markup=False,
        )

    @on(DataTable.CellHighlighted)
    def _follow_cursor(self) -> None:
        row = self.table.cursor_row()
        if row is not None:
            self.app.current_model = str(row["model"])

    @on(ArrowTable.RowChosen, "#results-table")
    def _open_detail(self, event: ArrowTable.RowChosen) -> None:
        self.app.show_model_detail(str(event.row["model"]))
