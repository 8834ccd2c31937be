"""An Arrow-backed table that sorts, filters, copies and exports what it shows.

textual-fastdatatable renders 1,556 x 31 cells from Arrow without per-row Python objects; its
table cannot be cleared, so new data (a sort, a filter) mounts a fresh one, as Harlequin does.
Sorting and filtering run on Arrow in microseconds for tables of this size.
"""

from __future__ import annotations

from typing import Any, ClassVar, Literal

import pyarrow as pa
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.widget import Widget
from textual.widgets import Static
from textual_fastdatatable import ArrowBackend
from textual_fastdatatable.data_table import DataTable

from lottery_tui.safe_text import safe_table, safe_text
from lottery_tui.tui.export import to_tsv


def shown(widget: Widget) -> bool:
    """On screen now: attached, and neither it nor an ancestor hidden (an inactive tab)."""
    return widget.is_attached and all(
        node.display for node in widget.ancestors_with_self if isinstance(node, Widget)
    )


class ArrowTable(Vertical):
    """A table view of a `pa.Table`: `s` sorts by the cursor column, `y`/`Y` copy, `e` exports."""

    DEFAULT_CSS = """
    ArrowTable { height: 1fr; }
    ArrowTable > DataTable { height: 1fr; }
    ArrowTable > .caption { height: 1; color: $text-muted; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort", "Sort", id="table.sort"),
        Binding("y", "copy_cell", "Copy", id="table.copy_cell"),
        Binding("Y", "copy_row", "Copy row", show=False, id="table.copy_row"),
        Binding("e", "export", "Export", id="table.export"),
    ]

    class RowChosen(Message):
        """Enter on a row: `row` maps column names to the row's values."""

        def __init__(self, table: ArrowTable, row: dict[str, Any]) -> None:
            super().__init__()
            self.table = table
            self.row = row

        @property
        def control(self) -> ArrowTable:
            return self.table

    class ExportRequested(Message):
        """`e`: the app asks where to write `table` (what the view shows now)."""

        def __init__(self, table: ArrowTable, data: pa.Table, title: str) -> None:
            super().__init__()
            self.table = table
            self.data = data
            self.title = title

        @property
        def control(self) -> ArrowTable:
            return self.table

    def __init__(
        self,
        *,
        title: str,
        first_column_width: int | None = None,
        max_column_width: int | None = None,
        fix_first_column: bool = False,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.title = title
        self.first_column_width = first_column_width
        self.max_column_width = max_column_width
        self.fix_first_column = fix_first_column
        self.source: pa.Table | None = None
        self.shown: pa.Table | None = None
        self.filter_text = ""
        self.note = ""  # appended to the caption: what the numbers are relative to, say
        self.sort_key: tuple[str, Literal["ascending", "descending"]] | None = None
        self.columns: list[str] | None = None
        self._placeholder = "loading…"
        self._table: DataTable | None = None

    def compose(self):
        yield Static(
            safe_text(self._placeholder),
            classes="caption",
            id=f"{self.id or 'table'}-caption",
            markup=False,  # it quotes names and the filter text: "[" must not start markup
        )

    @property
    def data_table(self) -> DataTable | None:
        """The table on show (tracked, not queried: a replaced one may not be removed yet)."""
        return self._table

    def show_message(self, text: str) -> None:
        """Replace the caption with `text` (used while loading or after an error)."""
        self._placeholder = text
        if self.is_mounted:
            self.query_one(".caption", Static).update(safe_text(text))

    def load(self, table: pa.Table, *, columns: list[str] | None = None) -> None:
        """Show `table`, or only `columns` of it (keeping the sort and filter where they apply)."""
        self.source = table
        self.columns = columns
        if self.sort_key and self.sort_key[0] not in table.column_names:
            self.sort_key = None
        self._refresh_view()

    def set_filter(self, text: str) -> None:
        self.filter_text = text
        self._refresh_view()

    def set_columns(self, columns: list[str] | None) -> None:
        """Show only `columns` (the first column is always kept); None shows all."""
        self.columns = columns
        self._refresh_view()

    def _visible_columns(self, table: pa.Table) -> list[str]:
        names = table.column_names
        if self.columns is None:
            return names
        wanted = set(self.columns)
        return [names[0]] + [n for n in names[1:] if n in wanted]

    def _refresh_view(self) -> None:
        if self.source is None:
            return
        table = self.source
        if self.filter_text and table.num_columns:
            import pyarrow.compute as pc  # on first use: it costs start-up time otherwise

            first = table.column(0).cast(pa.string())
            mask = pc.match_substring(first, self.filter_text, ignore_case=True)
            table = table.filter(pc.fill_null(mask, False))
        if self.sort_key is not None:
            table = table.sort_by([(*self.sort_key, "at_end")])  # nulls last either way
        table = table.select(self._visible_columns(table))
        self.shown = table
        self._mount_table(table)
        self._update_caption()

    def _mount_table(self, table: pa.Table) -> None:
        old = self.data_table
        had_focus = old is not None and old.has_focus
        column = old.cursor_column if old is not None else 0
        widths: list[int | None] | None = None
        if self.first_column_width and table.num_columns:
            widths = [self.first_column_width] + [None] * (table.num_columns - 1)
        new = DataTable(
            backend=ArrowBackend(safe_table(table)),  # names from files may hold escapes
            column_widths=widths,
            max_column_content_width=self.max_column_width,
            fixed_columns=1 if self.fix_first_column else 0,
            show_row_labels=False,
            render_markup=False,
            null_rep="·",
            zebra_stripes=True,
        )
        if old is not None:
            old.remove()
        self._table = new
        self.mount(new, before=self.query_one(".caption"))
        if table.num_columns:
            new.cursor_coordinate = new.cursor_coordinate._replace(
                column=min(column, table.num_columns - 1)
            )
        if had_focus or self.app.focused is None:
            self.call_after_refresh(self._focus_if_free, new)

    def _focus_if_free(self, table: DataTable) -> None:
        """Focus the replacement table if nothing else has focus and it is on show: never steal
        focus from where the user went meanwhile, never give it to a table in a hidden view."""
        if self.app.focused is None and shown(table):
            table.focus()

    def set_note(self, note: str) -> None:
        """Change what the caption says the numbers are relative to, without reloading."""
        self.note = note
        self._update_caption()

    def _update_caption(self) -> None:
        if self.shown is None or self.source is None:
            return
        parts = [f"{self.title}: {self.shown.num_rows:,} of {self.source.num_rows:,} rows"]
        if self.sort_key is not None:
            arrow = "↓" if self.sort_key[1] == "descending" else "↑"
            parts.append(f"sorted by {self.sort_key[0]} {arrow}")
        if self.filter_text:
            parts.append(f"filter “{self.filter_text}”")
        if self.note:
            parts.append(self.note)
        self.show_message(" · ".join(parts))

    def focus_table(self) -> None:
        """Focus the table once the one being mounted is in place."""
        self.call_after_refresh(self._focus_now)

    def _focus_now(self) -> None:
        table = self.data_table
        if table is not None and shown(table):
            table.focus()

    def sort_by(self, column: str) -> None:
        """Sort by `column`: descending first (best accuracy on top), again to flip."""
        if self.sort_key is not None and self.sort_key[0] == column:
            order = "ascending" if self.sort_key[1] == "descending" else "descending"
        else:
            order = "ascending" if column == self._first_column() else "descending"
        self.sort_key = (column, order)
        self._refresh_view()

    def _first_column(self) -> str | None:
        return self.source.column_names[0] if self.source is not None else None

    def cursor_row(self) -> dict[str, Any] | None:
        table = self.data_table
        if table is None or self.shown is None or self.shown.num_rows == 0:
            return None
        index = min(table.cursor_row, self.shown.num_rows - 1)
        return self.shown.slice(index, 1).to_pylist()[0]

    def cursor_column_name(self) -> str | None:
        table = self.data_table
        if table is None or self.shown is None or self.shown.num_columns == 0:
            return None
        return self.shown.column_names[min(table.cursor_column, self.shown.num_columns - 1)]

    def action_sort(self) -> None:
        column = self.cursor_column_name()
        if column is not None:
            self.sort_by(column)

    def action_copy_cell(self) -> None:
        row, column = self.cursor_row(), self.cursor_column_name()
        if row is None or column is None:
            return
        text = to_tsv(None, [[row[column]]])
        self.app.copy_to_clipboard(text)
        self.notify(f"copied {column}: {text}", timeout=2)

    def action_copy_row(self) -> None:
        row = self.cursor_row()
        if row is None:
            return
        self.app.copy_to_clipboard(to_tsv(list(row), [list(row.values())]))
        self.notify("copied the row (tab-separated, with header)", timeout=2)

    def action_export(self) -> None:
        if self.shown is not None:
            self.post_message(self.ExportRequested(self, self.shown, self.title))

    @on(DataTable.CellSelected)
    def _chosen(self, event: DataTable.CellSelected) -> None:
        event.stop()
        row = self.cursor_row()
        if row is not None:
            self.post_message(self.RowChosen(self, row))

    @on(DataTable.HeaderSelected)
    def _header_clicked(self, event: DataTable.HeaderSelected) -> None:
        event.stop()
        if self.shown is not None:
            self.sort_by(self.shown.column_names[event.column_index])
