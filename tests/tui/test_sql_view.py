"""The SQL view: no stale rows under an error or a cancel, one row count, elapsed time while
running, select-all, and export of the whole result (not only the rows fetched to show)."""

from __future__ import annotations

import csv
import os
import stat

from textual.widgets import Input, Static, TextArea

from lottery_tui.tui.screens.export import ExportScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import make_app, settle, type_batch


def caption(table: ArrowTable) -> str:
    return str(table.query_one(".caption", Static).render())


async def run(app, pilot, sql: str) -> str:
    editor = app.query_one("#sql-editor", TextArea)
    editor.text = sql
    app.screen.set_focus(editor)
    type_batch(app, "ctrl+j")
    await settle(app, pilot)
    return str(app.query_one("#sql-status", Static).render())


async def test_error_replaces_the_last_result_and_counts_agree(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "5")
        await settle(app, pilot)
        table = app.query_one("#sql-result", ArrowTable)
        status = await run(app, pilot, "SELECT * FROM range(20000)")
        assert status.startswith("10,000 of >10,000 rows")
        assert "10,000 of >10,000 rows" in caption(table)  # the same count above and below
        status = await run(app, pilot, "SELECT * FROM no_such_table")
        assert status.startswith("error:")
        assert table.shown is None and table.data_table is None
        assert "no result" in caption(table)


async def test_running_query_says_so_with_elapsed_time(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "5")
        await settle(app, pilot)
        table = app.query_one("#sql-result", ArrowTable)
        table.start_work("running the query…")
        await pilot.pause(0.35)
        text = caption(table)
        assert text.startswith("⧗ running the query…") and text.endswith(" s")
        assert float(text.split()[-2]) >= 0.3
        table.clear("done")
        assert not table.working


async def test_select_all_in_the_editor(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "5", "right", "ctrl+a")
        await settle(app, pilot)
        editor = app.query_one("#sql-editor", TextArea)
        assert editor.selected_text == editor.text and editor.text


async def test_export_writes_every_row_readable_at_an_absolute_path(small_db, tmp_path):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "5")
        await settle(app, pilot)
        await run(app, pilot, "SELECT range AS n FROM range(25000) ORDER BY n")
        table = app.query_one("#sql-result", ArrowTable)
        assert table.shown.num_rows == 10_000
        type_batch(app, "escape", "e")
        await settle(app, pilot)
        assert isinstance(app.screen, ExportScreen)
        os.chdir(tmp_path)
        app.screen.query_one(Input).value = "all.csv"  # relative: the toast says where
        type_batch(app, "enter")
        await settle(app, pilot)
        written = tmp_path / "all.csv"
        with open(written, newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [int(r["n"]) for r in rows] == list(range(25000))
        assert stat.S_IMODE(written.stat().st_mode) & 0o044  # readable by others (umask 022)
        toasts = [n.message for n in app._notifications]
        assert any(str(written) in t for t in toasts)
