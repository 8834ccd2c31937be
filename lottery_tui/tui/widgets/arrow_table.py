"""An Arrow-backed table that sorts, filters, copies and exports what it shows.

textual-fastdatatable renders 1,556 x 31 cells from Arrow without per-row Python objects; its
table cannot be cleared, so new data (a sort, a filter) mounts a fresh one, as Harlequin does.
Sorting and filtering run on Arrow in microseconds for tables of this size.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from typing import Any, ClassVar, Literal

import pyarrow as pa
from rich.style import Style
from textual import on
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.message import Message
from textual.strip import Strip
from textual.timer import Timer
from textual.widget import Widget
from textual.widgets import Static
from textual_fastdatatable.data_table import DataTable

from lottery_tui.safe_text import safe_table, safe_text
from lottery_tui.tui.export import to_tsv
from lottery_tui.tui.widgets.display import counted, for_display, header_words
from lottery_tui.tui.widgets.whole_values import WholeValuesBackend


def shown(widget: Widget) -> bool:
    """On screen now: attached, and neither it nor an ancestor hidden (an inactive tab)."""
    return widget.is_attached and all(
        node.display for node in widget.ancestors_with_self if isinstance(node, Widget)
    )


SCROLLBAR = CELL_PADDING = 2
"""Cells a table's vertical scrollbar takes, and the padding around each cell's text."""

WORK_TICK = 0.1
"""Seconds between updates of a "computing …" caption's elapsed time."""


class WholeColumnsTable(DataTable):
    """A data table that never shows part of a column: a column cut by the edge of the view
    (scrolled sideways, or the last one) is left blank, so `1555` never reads `15` and
    `-36.120` never reads `6.120`. The cursor's column is always scrolled fully into view."""

    def _render_line(self, y: int, x1: int, x2: int, base_style: Style) -> Strip:
        strip = super()._render_line(y, x1, x2, base_style)
        columns = self.ordered_columns
        fixed = sum(c.render_width for c in columns[: self.fixed_columns])
        # The scrollable columns' window is [x1, x1 + room): the vertical scrollbar is drawn
        # over the last cells of `size`, so the visible region is what the columns get.
        room = self.scrollable_content_region.width - fixed
        start, cuts = 0, []
        for column in columns[self.fixed_columns :]:
            end = start + column.render_width
            if column.render_width <= room:  # one wider than the view is shown as it can be
                if start < x1 < end:
                    cuts.append((fixed, fixed + end - x1))
                if x1 + room < end and start < x1 + self.size.width - fixed:
                    # blank to the strip's end: the cells under the scrollbar too
                    cuts.append((fixed + max(start - x1, 0), self.size.width))
            start = end
        for a, b in cuts:
            strip = Strip.join([strip.crop(0, a), Strip.blank(b - a, base_style), strip.crop(b)])
        return strip


class ArrowTable(Vertical):
    """A table view of a `pa.Table`: `s` sorts by the cursor column, `y`/`Y` copy, `e` exports."""

    DEFAULT_CSS = """
    ArrowTable { height: 1fr; }
    ArrowTable > DataTable { height: 1fr; }
    ArrowTable > .caption { height: auto; max-height: 3; color: $text-muted; padding: 0 1; }
    ArrowTable > .fullname { height: auto; max-height: 2; padding: 0 1; }
    """

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("s", "sort", "Sort", id="table.sort"),
        Binding("y", "copy_cell", "Copy", show=False, id="table.copy_cell"),  # in ? and ^p
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
        pinned: int = 0,
        name_columns: tuple[str, ...] = (),
        words: bool = True,
        id: str | None = None,
    ) -> None:
        super().__init__(id=id)
        self.name_columns = name_columns
        """Columns of model names: cut in the middle to fit, the full names in a line below."""
        self.title = title
        self.words = words
        """Head snake_case columns in words (`CI low`); False where names are the user's (SQL)."""
        self.first_column_width = first_column_width
        self.max_column_width = max_column_width
        self.name_width: int | None = None
        """The width names are cut to, when narrower than `max_column_width`."""
        self.pinned = pinned
        """How many leading columns stay in view when the table scrolls sideways (its keys)."""
        self.source: pa.Table | None = None
        self.shown: pa.Table | None = None
        self.filter_text = ""
        self.note = ""  # appended to the caption: what the numbers are relative to, say
        self.sort_key: tuple[str, Literal["ascending", "descending"]] | None = None
        self.columns: list[str] | None = None
        self._placeholder = "loading…"
        self._table: DataTable | None = None
        self._names_cut = False
        self._refocus = False
        self.more = False
        self.fetch_all: Callable[[], pa.Table] | None = None
        """Set by a view whose table holds only the first rows: export fetches them all."""
        self._work_text = ""
        self._work_started = 0.0
        self._work_timer: Timer | None = None

    def compose(self):
        full_name = Static("", classes="fullname", markup=False)
        full_name.display = False  # shown once a table with cut names is
        yield full_name
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
        """Replace the caption with `text` (after an error, or in place of a table)."""
        self._stop_work()
        self._set_caption(text)

    def _set_caption(self, text: str) -> None:
        self._placeholder = text
        if self.is_mounted:
            self.query_one(".caption", Static).update(safe_text(text))

    def start_work(self, text: str, *, keep: bool = False) -> None:
        """Say what is being computed, with the seconds it has taken so far, until `load`,
        `clear` or `show_message` (the table itself is dropped unless `keep`: it is stale)."""
        if not keep:
            self.clear(text)
        self._work_text = text
        self._work_started = time.monotonic()
        self._show_work()
        if self._work_timer is None:
            self._work_timer = self.set_interval(WORK_TICK, self._show_work)

    def _show_work(self) -> None:
        elapsed = time.monotonic() - self._work_started
        self._set_caption(f"⧗ {self._work_text} {elapsed:.1f} s")

    def _stop_work(self) -> None:
        if self._work_timer is not None:
            self._work_timer.stop()
            self._work_timer = None

    @property
    def working(self) -> bool:
        return self._work_timer is not None

    def clear(self, text: str) -> None:
        """Drop the data and say `text` instead: a result for another scope must not stay on
        screen beside a caption that no longer describes it."""
        if self._table is not None:
            if self._table.has_focus or self.app.focused is self._table:
                self._refocus = True  # the keys were here: the next table gets them
                self.screen.set_focus(None)
            self._table.remove()
            self._table = None
        self.source = self.shown = None
        self.more = False
        self.fetch_all = None
        self._names_cut = False
        self._show_full_name()
        self.show_message(text)

    def load(
        self, table: pa.Table, *, columns: list[str] | None = None, more: bool = False
    ) -> None:
        """Show `table`, or only `columns` of it (keeping the sort and filter where they apply);
        `more`: the table is the first rows of a longer result ("N of >N rows")."""
        self._stop_work()
        self.more = more
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
        self.shown = self.arranged(self.source)
        self._mount_table(self.shown)
        self._update_caption()

    def arranged(self, table: pa.Table) -> pa.Table:
        """`table` filtered, sorted and with the columns chosen, as this table shows its own."""
        if self.filter_text and table.num_columns:
            import pyarrow.compute as pc  # on first use: it costs start-up time otherwise

            first = table.column(0).cast(pa.string())
            mask = pc.match_substring(first, self.filter_text, ignore_case=True)
            table = table.filter(pc.fill_null(mask, False))
        if self.sort_key is not None:
            table = table.sort_by([(*self.sort_key, "at_end")])  # nulls last either way
        return table.select(self._visible_columns(table))

    def _mount_table(self, table: pa.Table) -> None:
        old = self.data_table
        had_focus = (old is not None and self.app.focused is old) or self._refocus
        self._refocus = False
        column = old.cursor_column if old is not None else 0
        widths: list[int | None] | None = None
        if self.first_column_width and table.num_columns:
            widths = [self.first_column_width] + [None] * (table.num_columns - 1)
        safe = safe_table(table)  # names from files may hold escapes
        shown_as = for_display(safe, self._name_widths(safe), words=self.words)
        self._names_cut = shown_as.cut
        new = WholeColumnsTable(
            backend=WholeValuesBackend(shown_as.table),
            column_widths=widths,
            max_column_content_width=self.max_column_width,
            fixed_columns=min(self.pinned, table.num_columns),
            show_row_labels=False,
            render_markup=False,
            null_rep="·",
            zebra_stripes=True,
        )
        self._table = new
        self.mount(new, before=self.query_one(".fullname"))
        if table.num_columns:
            new.cursor_coordinate = new.cursor_coordinate._replace(
                column=min(column, table.num_columns - 1)
            )
        if had_focus and shown(self):  # now, before the old one goes (its removal moves focus)
            self.screen.set_focus(new)
        if old is not None:
            old.remove()
        if not had_focus and self.app.focused is None:
            if shown(self):  # now: keys typed as soon as the table shows (`/vgg` in one batch
                self.screen.set_focus(new)  # over SSH) need a focused view to find its bindings
            else:
                self.call_after_refresh(self._focus_if_free, new)
        self._show_full_name()

    def _name_widths(self, table: pa.Table) -> dict[str, int]:
        """The width each name column is drawn at (the first column's own, else the cap)."""
        widths = {}
        for i, name in enumerate(table.column_names):
            if name not in self.name_columns:
                continue
            width = self.first_column_width if i == 0 else None
            width = width or self.name_width or self.max_column_width
            if width:
                widths[name] = width
        return widths

    def _show_full_name(self) -> None:
        """Under a table whose names were cut: the full names of the row under the cursor."""
        line = self.query_one(".fullname", Static)
        row = self.cursor_row() if self._names_cut else None
        line.display = row is not None
        if row is not None:
            names = [str(row[n]) for n in self.name_columns if row.get(n) is not None]
            line.update(safe_text(" · ".join(names)))

    @on(DataTable.CellHighlighted)
    def _cursor_moved(self) -> None:
        if self._names_cut:
            self._show_full_name()

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
        if self.shown is None or self.source is None or self.working:
            return
        more = ">" if self.more else ""
        total = counted(self.source.num_rows, "row")
        parts = [f"{self.title}: {self.shown.num_rows:,} of {more}{total}"]
        if self.sort_key is not None:
            arrow = "↓" if self.sort_key[1] == "descending" else "↑"
            column = header_words(self.sort_key[0]) if self.words else self.sort_key[0]
            parts.append(f"sorted by {column} {arrow}")
        if self.filter_text:
            parts.append(f"filter “{self.filter_text}”")
        if self.note:
            parts.append(self.note)
        self._set_caption(" · ".join(parts))

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
        self.notify(f"copied {column}: {text}", timeout=2, markup=False)

    def action_copy_row(self) -> None:
        row = self.cursor_row()
        if row is None:
            return
        self.app.copy_to_clipboard(to_tsv(list(row), [list(row.values())]))
        self.notify("copied the row (tab-separated, with header)", timeout=2)

    def action_export(self) -> None:
        if self.shown is not None:
            self.post_message(self.ExportRequested(self, self.shown, self.title))

    def all_rows(self) -> pa.Table | None:
        """Every row of the result, arranged as shown, when this table holds only the first
        ones (None otherwise). Blocking: call it from a worker."""
        if not self.more or self.fetch_all is None:
            return None
        return self.arranged(self.fetch_all())

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
