"""`e` on a table: ask for a file name; the suffix picks CSV, Markdown or Parquet."""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import ClassVar

import pyarrow as pa
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Input, Static

from lottery_tui.tui.export import FORMATS, export_table
from lottery_tui.tui.messages import ExportFailed, ExportWritten, one_line


def default_name(title: str) -> str:
    slug = re.sub(r"[^a-z0-9]+", "-", title.lower()).strip("-") or "table"
    return f"lottery-{slug}.csv"


class ExportScreen(ModalScreen[str | None]):
    """Dismissed with the written path, or None when cancelled."""

    AUTO_FOCUS = "#export-path"
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape", "dismiss", "Cancel", id="export.cancel"),
    ]
    DEFAULT_CSS = """
    ExportScreen { align: center middle; }
    ExportScreen > Vertical {
        width: 90%; max-width: 90; height: auto; border: round $primary; background: $surface;
        padding: 0 1;
    }
    ExportScreen Static { height: auto; }
    """

    def __init__(
        self,
        data: pa.Table,
        title: str,
        every_row: Callable[[], pa.Table | None] | None = None,
    ) -> None:
        """`every_row`, for a table that holds only a result's first rows: fetches them all
        (in the worker that writes), so the file has the whole result."""
        super().__init__()
        self.data = data
        self.title_text = title
        self.every_row = every_row

    def compose(self) -> ComposeResult:
        formats = ", ".join(f"{s} ({n})" for s, n in FORMATS.items())
        with Vertical():
            rows = (
                f"every row of the query (it runs again; {self.data.num_rows:,} shown)"
                if self.every_row is not None
                else f"{self.data.num_rows:,} rows"
            )
            yield Static(f"Export {self.title_text}: {rows} x {self.data.num_columns} columns")
            yield Input(default_name(self.title_text), id="export-path")
            yield Static(
                f"format from the suffix: {formats} · Enter writes, Esc cancels",
                id="export-status",
                classes="status",
            )

    def on_mount(self) -> None:
        self.query_one(Input).cursor_blink = self.app.cursor_blink

    @on(Input.Submitted, "#export-path")
    def _submit(self, event: Input.Submitted) -> None:
        self.query_one("#export-status", Static).update("writing…")
        self.write(event.value.strip())

    @work(thread=True, exclusive=True, exit_on_error=False, group="export")
    def write(self, path: str) -> None:
        try:
            data = self.every_row() if self.every_row is not None else None
            written = export_table(data if data is not None else self.data, path)
        except Exception as exc:
            self.post_message(ExportFailed(one_line(exc)))
            return
        self.post_message(ExportWritten(str(written)))

    @on(ExportWritten)
    def _written(self, event: ExportWritten) -> None:
        event.stop()
        self.app.notify(f"wrote {event.path}", timeout=6, markup=False)
        self.dismiss(event.path)

    @on(ExportFailed)
    def _failed(self, event: ExportFailed) -> None:
        event.stop()
        status = self.query_one("#export-status", Static)
        status.update(f"cannot export: {event.error}")
        status.add_class("error")
