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


def tree_labels(node) -> list[str]:
    return [str(child.label).split()[0] for child in node.children]


async def test_table_browser_lists_the_store_and_inserts_names(small_db):
    from textual.widgets import Tree

    from lottery_tui.store.relations import list_relations

    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "5")
        await settle(app, pilot)
        tables = app.query_one("#sql-tables", Tree)
        assert not tables.display  # hidden until asked for
        editor = app.query_one("#sql-editor", TextArea)
        app.screen.set_focus(editor)
        type_batch(app, "f4")  # works from inside the editor
        await settle(app, pilot)
        assert tables.display and app.focused is tables
        assert tables.region.width > 0 and editor.region.width > 0  # side by side at 80x24
        with app.database.cursor() as cur:
            expected = list_relations(cur)
        names = tree_labels(tables.root)
        assert names == [r.name for r in expected]
        assert names[:2] == ["predictions", "results"]  # the public views first
        assert tables.cursor_node is tables.root.children[0]
        assert {"models", "datasets", "sources"} <= set(names)
        results = tables.root.children[names.index("results")]
        assert tree_labels(results)[:3] == ["model", "dataset", "top1"]

        editor.text = "SELECT * FROM "
        editor.move_cursor((0, len(editor.text)))
        app.screen.set_focus(tables)
        tables.move_cursor(results)
        type_batch(app, "enter")  # inserts the name, focus back in the editor
        await settle(app, pilot)
        assert editor.text == "SELECT * FROM results"
        assert app.focused is editor and not results.is_expanded

        app.screen.set_focus(tables)
        tables.move_cursor(results)
        type_batch(app, "space", "down", "down", "enter")  # open its columns, pick `dataset`
        await settle(app, pilot)
        assert editor.text == "SELECT * FROM resultsdataset"
        status = await run(app, pilot, "SELECT count(*) FROM results")
        assert status.startswith("1 row in")
        type_batch(app, "f4")
        await settle(app, pilot)
        assert not tables.display and app.focused is editor


def test_sql_name_quotes_what_is_not_a_plain_identifier():
    from lottery_tui.tui.views.sql import sql_name

    assert sql_name("top1") == "top1"
    assert sql_name("Top 1") == '"Top 1"'
    assert sql_name('a"b') == '"a""b"'
