"""Results: models x datasets with top-1, rank, and delta and rank change against the reference."""

from __future__ import annotations

from typing import ClassVar

from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.widgets import Input
from textual_fastdatatable.data_table import DataTable

from lottery_tui.tui.messages import DataLoaded, LoadFailed, one_line
from lottery_tui.tui.queries import (
    GROUPS,
    ResultsGrid,
    list_datasets,
    results_grid,
    short_label,
)
from lottery_tui.tui.widgets.arrow_table import ArrowTable

COLUMN_MODES = ("all", *GROUPS)


class ResultsView(Vertical):
    """The first screen: it needs one SQL query, never torch or bootstrap statistics."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("slash", "filter", "Filter", id="results.filter"),
        Binding("v", "cycle_columns", "Cols", id="results.columns"),
        Binding("space", "mark", "Mark", show=False, id="results.mark"),
        Binding("escape", "clear_filter", "Clear filter", show=False, id="results.clear_filter"),
    ]

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.grid: ResultsGrid | None = None
        self.column_mode = 0

    def compose(self) -> ComposeResult:
        yield Input(
            placeholder="filter models by name (Enter: back to the table, Esc: clear)",
            id="results-filter",
            classes="hidden",
        )
        yield ArrowTable(
            title="Results", first_column_width=32, fix_first_column=True, id="results-table"
        )

    def on_mount(self) -> None:
        self.query_one("#results-filter", Input).display = False
        self.table.loading = True
        self.load(self.app.reference)

    @property
    def table(self) -> ArrowTable:
        return self.query_one("#results-table", ArrowTable)

    @work(thread=True, exclusive=True, exit_on_error=False, group="results")
    def load(self, reference: str) -> None:
        try:
            grid = self.app.take_first_results(reference)
            if grid is None:
                with self.app.database.cursor() as cur:
                    grid = results_grid(cur, reference, list_datasets(cur, reference))
        except Exception as exc:  # shown in place; the app keeps running
            self.post_message(LoadFailed("results", one_line(exc)))
            return
        self.post_message(DataLoaded("results", grid))

    @on(DataLoaded)
    def _loaded(self, event: DataLoaded) -> None:
        if event.key != "results" or event.value.reference != self.app.reference:
            return  # not ours, or a reference chosen since: its worker follows
        self.grid = event.value
        self.table.loading = False
        self.table.title = f"Results vs {short_label(self.grid.reference)}"
        if self.grid.reference not in {d.dataset_id for d in self.grid.datasets}:
            self.notify(
                f"no results on reference {self.grid.reference!r}: press R to choose one",
                severity="error",
                timeout=8,
            )
        # Model names run to 50 characters: give them what the terminal can spare.
        self.table.first_column_width = max(24, min(50, self.app.size.width - 48))
        self.table.load(self.grid.table, columns=self._mode_columns())
        if self.app.current_model is None and self.grid.table.num_rows:
            self.app.current_model = str(self.grid.table.column("model")[0].as_py())
        if self.app.focused is None:
            self.table.focus_table()

    @on(LoadFailed)
    def _failed(self, event: LoadFailed) -> None:
        if event.key == "results":
            self.table.loading = False
            self.table.show_message(f"cannot load results: {event.error}")

    def action_filter(self) -> None:
        box = self.query_one("#results-filter", Input)
        box.display = True
        # Synchronous, unlike `focus()`: keys typed right after `/` must land in the box.
        self.screen.set_focus(box)

    @on(Input.Changed, "#results-filter")
    def _filter_changed(self, event: Input.Changed) -> None:
        self.table.set_filter(event.value.strip())

    @on(Input.Submitted, "#results-filter")
    def _filter_done(self, event: Input.Submitted) -> None:
        if not event.value.strip():
            event.input.display = False
        self.table.focus_table()

    def action_clear_filter(self) -> None:
        box = self.query_one("#results-filter", Input)
        box.value = ""
        box.display = False
        self.table.set_filter("")
        self.table.focus_table()

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
        )

    @on(DataTable.CellHighlighted)
    def _follow_cursor(self) -> None:
        row = self.table.cursor_row()
        if row is not None:
            self.app.current_model = str(row["model"])

    @on(ArrowTable.RowChosen, "#results-table")
    def _open_detail(self, event: ArrowTable.RowChosen) -> None:
        self.app.show_model_detail(str(event.row["model"]))
