"""SQL: a read-only console over the store, with history, cancel and export of the result."""

from __future__ import annotations

import re
from functools import partial
from typing import ClassVar

import duckdb
import pyarrow as pa
from rich.text import Text
from textual import on, work
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Horizontal, Vertical
from textual.widgets import Static, TextArea, Tree

from lottery_tui.errors import LotteryError
from lottery_tui.safe_text import safe_text
from lottery_tui.store.query_files import check_query_files, release_blocked_fifo_opens
from lottery_tui.store.relations import list_relations
from lottery_tui.tui.messages import (
    RelationsFailed,
    RelationsLoaded,
    SqlDone,
    SqlFailed,
    one_line,
)
from lottery_tui.tui.queries import SqlResult, run_sql
from lottery_tui.tui.views.base import ExplorerView
from lottery_tui.tui.widgets.arrow_table import ArrowTable

STARTER_QUERY = """-- ctrl+j/F5 run, ctrl+g/F8 cancel, F2/F3 history, Esc leaves the editor
SELECT dataset, count(*) AS models, round(avg(top1), 2) AS mean_top1
FROM results GROUP BY dataset ORDER BY models DESC;
"""
SQL_TAG = "sql"
CANCEL_GRACE_SECONDS = 0.5
"""How long a cancelled query may take to stop before a blocked FIFO open is released."""
_PLAIN_NAME = re.compile(r"[a-z_][a-z0-9_]*")


def sql_name(name: str) -> str:
    """`name` as it can be typed in a query: quoted unless a plain lower-case identifier."""
    return name if _PLAIN_NAME.fullmatch(name) else '"' + name.replace('"', '""') + '"'


class SqlView(ExplorerView, Vertical):
    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("ctrl+j,f5", "run", "Run", id="sql.run"),
        Binding("ctrl+g,f8", "cancel", "Cancel", id="sql.cancel"),
        Binding("f2,ctrl+up", "history(-1)", "Prev", id="sql.history_prev"),
        Binding("f3,ctrl+down", "history(1)", "Next", id="sql.history_next"),
        Binding("f4", "toggle_tables", "Tables", id="sql.tables"),
        Binding(  # priority: the editor binds ctrl+a to the line start
            "ctrl+a", "select_all", "Select all", show=False, id="sql.select_all", priority=True
        ),
    ]
    DEFAULT_CSS = """
    SqlView > Horizontal { height: 1fr; }
    SqlView #sql-console { width: 1fr; }
    SqlView TextArea { height: 8; min-height: 4; }
    SqlView #sql-tables { width: 30; display: none; border-left: solid $primary; }
    SqlView #sql-tables.shown { display: block; }
    """

    def __init__(self, *, id: str | None = None) -> None:
        super().__init__(id=id)
        self.history: list[str] = []
        self.history_index = 0
        self.running = False

    def compose(self) -> ComposeResult:
        with Horizontal():
            with Vertical(id="sql-console"):
                yield TextArea(STARTER_QUERY, id="sql-editor", show_line_numbers=False)
                yield Static("", id="sql-status", classes="status")
                yield ArrowTable(title="SQL result", words=False, id="sql-result")
            tables: Tree[str] = Tree("tables and views", id="sql-tables")
            tables.auto_expand = False  # Enter inserts a name; space opens a table's columns
            tables.show_root = False
            yield tables

    def on_mount(self) -> None:
        editor = self.query_one(TextArea)
        editor.cursor_blink = self.app.cursor_blink
        editor.select_all()  # the example runs as it is, and typing replaces it
        self.query_one(ArrowTable).show_message("no query run yet")

    def _status(self, text: str, *, error: bool = False) -> None:
        status = self.query_one("#sql-status", Static)
        status.update(safe_text(text))  # DuckDB's errors quote stored names as they are
        status.set_class(error, "error")

    def action_run(self) -> None:
        sql = self.query_one(TextArea).text
        if not sql.strip():
            self._status("nothing to run: the editor is empty", error=True)
            return
        if not self.history or self.history[-1] != sql:
            self.history.append(sql)
        self.history_index = len(self.history) - 1
        self.running = True
        self.app.database.clear_cancel(SQL_TAG)
        self._status("running… (ctrl+g or F8 cancels)")
        table = self.query_one(ArrowTable)
        table.fetch_all = None
        table.start_work("running the query… (ctrl+g or F8 cancels)")
        self.execute(sql)

    @work(thread=True, exclusive=True, exit_on_error=False, group="sql")
    def execute(self, sql: str) -> None:
        try:
            check_query_files(sql)  # a FIFO's open would block where cancel cannot reach
            with self.app.database.cursor(tag=SQL_TAG) as cur:
                result = run_sql(cur, sql)
        except duckdb.InterruptException:
            self.post_message(SqlFailed("query cancelled", cancelled=True))
            return
        except (duckdb.Error, LotteryError) as exc:
            self.post_message(SqlFailed(one_line(exc)))
            return
        except Exception as exc:
            self.post_message(SqlFailed(f"{type(exc).__name__}: {one_line(exc)}"))
            return
        self.post_message(SqlDone(result))

    def _fetch_all(self, sql: str) -> pa.Table:
        """Every row of `sql` (for export; runs in the export's worker thread)."""
        with self.app.database.cursor(tag=SQL_TAG) as cur:
            result = run_sql(cur, sql, limit=None)
        if result.table is None:
            raise LookupError("the statement returns no rows")
        return result.table

    def action_select_all(self) -> None:
        editor = self.query_one(TextArea)
        self.screen.set_focus(editor)
        editor.select_all()

    def action_toggle_tables(self) -> None:
        """Show the table/column browser (loading the catalog afresh) or hide it."""
        tables = self.query_one("#sql-tables", Tree)
        shown = not tables.has_class("shown")
        tables.set_class(shown, "shown")
        if shown:
            tables.loading = True
            self.load_relations()  # focused once listed (a loading widget takes no focus)
        else:
            self.screen.set_focus(self.query_one(TextArea))

    @work(thread=True, exclusive=True, exit_on_error=False, group="sql-tables")
    def load_relations(self) -> None:
        try:
            with self.app.database.cursor() as cur:
                relations = list_relations(cur)
        except (duckdb.Error, LotteryError) as exc:
            self.post_message(RelationsFailed(one_line(exc)))
            return
        self.post_message(RelationsLoaded(relations))

    @on(RelationsLoaded)
    def _show_relations(self, event: RelationsLoaded) -> None:
        event.stop()
        tables = self.query_one("#sql-tables", Tree)
        tables.loading = False
        tables.clear()
        for relation in event.relations:
            kind = "view" if relation.is_view else "table"
            label = Text.assemble(relation.name, (f" {kind}", "dim"))
            node = tables.root.add(label, data=sql_name(relation.name))
            for column in relation.columns:
                node.add_leaf(
                    Text.assemble(column.name, (f" {column.type}", "dim")),
                    data=sql_name(column.name),
                )
        tables.root.expand()
        tables.cursor_line = 0  # Enter at once picks the first (a cleared tree has no cursor)
        if tables.has_class("shown"):
            self.screen.set_focus(tables)

    @on(Tree.NodeSelected, "#sql-tables")
    def _insert_name(self, event: Tree.NodeSelected[str]) -> None:
        """Enter on a table or column writes its name at the editor's cursor (over a selection)."""
        event.stop()
        if event.node.data is None:
            return
        editor = self.query_one(TextArea)
        editor.replace(event.node.data, *editor.selection)
        self.screen.set_focus(editor)

    def action_cancel(self) -> None:
        if self.running:
            self._status("cancelling…")
            self.app.database.cancel(SQL_TAG)
            self.set_timer(CANCEL_GRACE_SECONDS, self._release_blocked_open)

    def _release_blocked_open(self) -> None:
        """A query blocked opening a FIFO (a path it computed) never sees the interrupt."""
        if self.running:
            released = release_blocked_fifo_opens()
            if released:
                self._status(f"cancelling… (released the blocked open of FIFO {released[0]})")

    def action_history(self, step: int) -> None:
        if not self.history:
            return
        self.history_index = max(0, min(len(self.history) - 1, self.history_index + step))
        editor = self.query_one(TextArea)
        editor.text = self.history[self.history_index]
        editor.focus()

    @on(RelationsFailed)
    def _relations_failed(self, event: RelationsFailed) -> None:
        event.stop()
        self.query_one("#sql-tables", Tree).loading = False
        self._status(f"tables not listed: {event.error}", error=True)

    @on(SqlDone)
    def _done(self, event: SqlDone) -> None:
        event.stop()
        self.running = False
        result: SqlResult = event.result
        table = self.query_one(ArrowTable)
        self._status(result.message)
        if result.table is None:
            table.clear("the statement returns no rows")
            return
        table.load(result.table, more=result.truncated)
        if result.truncated:  # `e` exports every row, not only those fetched to show
            table.fetch_all = partial(self._fetch_all, result.sql)

    @on(SqlFailed)
    def _failed(self, event: SqlFailed) -> None:
        event.stop()
        self.running = False
        message = "query cancelled" if event.cancelled else "no result: see the error"
        self.query_one(ArrowTable).clear(message)  # never the last query's rows under it
        self._status(
            event.error if event.cancelled else f"error: {event.error}", error=not event.cancelled
        )
