"""Pilot tests: every view driven by keys, headless, against the small seeded store."""

from __future__ import annotations

import csv

import pytest
from textual.widgets import Input, Static, TabbedContent, TextArea
from textual_fastdatatable.data_table import DataTable

from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.screens.detail import ModelDetailScreen
from lottery_tui.tui.screens.export import ExportScreen
from lottery_tui.tui.screens.help import HelpScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.chart import ChartPanel

from .conftest import N_MODELS, N_PRED_MODELS, make_app, model_names, pick_pair, settle

LONG_QUERY = "SELECT sum(a.range * b.range) FROM range(60000) a, range(60000) b"  # ~20 s


def results(app: LotteryApp) -> ArrowTable:
    return app.query_one("#results-table", ArrowTable)


async def test_first_screen_is_results_with_every_model(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = results(app)
        assert table.shown.num_rows == N_MODELS
        assert isinstance(app.focused, DataTable)
        caption = str(table.query_one(".caption", Static).render())
        assert f"{N_MODELS} of {N_MODELS} rows" in caption


async def test_number_keys_switch_views(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        tabs = app.query_one("#views", TabbedContent)
        for key, pane in zip(
            "234561", ["rankings", "lottery", "plots", "sql", "runs", "results"], strict=True
        ):
            await pilot.press(key)
            await settle(app, pilot)
            assert tabs.active == pane
            if pane == "sql":
                assert isinstance(app.focused, TextArea)
            if isinstance(app.focused, Input | TextArea):
                await pilot.press("escape")  # digits type into text boxes until Esc


async def test_sort_by_cursor_column_and_flip(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        table = results(app)
        column = table.shown.column_names.index("ReaL")
        await pilot.press(*["right"] * column, "s")
        await pilot.pause()
        values = [float(v) for v in table.shown.column("ReaL").to_pylist()]
        assert values == sorted(values, reverse=True)
        assert table.sort_key == ("ReaL", "descending")
        await pilot.press("s")
        await pilot.pause()
        values = [float(v) for v in table.shown.column("ReaL").to_pylist()]
        assert values == sorted(values)


async def test_filter_by_name_then_clear(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", "n", "e", "t", "1")
        await pilot.pause()
        table = results(app)
        models = table.shown.column("model").to_pylist()
        expected = [m for m in model_names() if "net1" in m]
        assert sorted(models) == expected
        assert table.data_table.row_count == len(expected)
        await pilot.press("enter")
        assert isinstance(app.focused, DataTable)
        await pilot.press("escape")
        await pilot.pause()
        assert table.shown.num_rows == N_MODELS
        assert not app.query_one("#results-filter", Input).display


async def test_column_groups_cycle(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("v")
        await pilot.pause()
        assert results(app).shown.column_names == ["model", "IN", "ReaL", "V2", "Sketch"]
        await pilot.press("v")
        await pilot.pause()
        assert results(app).shown.column_names == ["model", "IN #", "ReaL #", "V2 #", "Sketch #"]


async def test_detail_of_the_model_under_the_cursor(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "down", "enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ModelDetailScreen)
        assert screen.model == results(app).shown.column("model")[2].as_py()
        detail = screen.query_one("#detail-table", ArrowTable)
        assert detail.shown.num_rows == 4
        assert {"ci_low", "ci_high", "source"} <= set(detail.shown.column_names)
        meta = str(screen.query_one("#detail-meta", Static).render())
        assert "source: synthetic" in meta
        await pilot.press("escape")
        assert not isinstance(app.screen, ModelDetailScreen)


async def test_help_opens_and_closes(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("question_mark")
        assert isinstance(app.screen, HelpScreen)
        await pilot.press("escape")
        assert not isinstance(app.screen, HelpScreen)


async def test_copy_cell_and_row_use_the_clipboard(small_db):
    app = make_app(small_db)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append  # OSC 52 goes to the terminal; capture it here
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("y")
        first = results(app).shown.column("model")[0].as_py()
        assert copied[-1] == first
        await pilot.press("Y")
        header, row = copied[-1].split("\n")
        assert header.split("\t") == results(app).shown.column_names
        assert row.split("\t")[0] == first


async def test_export_results_to_csv(small_db, tmp_path):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", "n", "e", "t", "2", "enter", "e")
        await pilot.pause()
        assert isinstance(app.screen, ExportScreen)
        box = app.screen.query_one(Input)
        box.value = str(tmp_path / "net2.csv")
        await pilot.press("enter")
        await settle(app, pilot)
        assert not isinstance(app.screen, ExportScreen)
        with open(tmp_path / "net2.csv", newline="") as fh:
            rows = list(csv.DictReader(fh))
        assert [r["model"] for r in rows] == results(app).shown.column("model").to_pylist()
        assert len(rows) == sum("net2" in m for m in model_names())


async def test_export_error_shown_in_place(small_db, tmp_path):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("e")
        app.screen.query_one(Input).value = str(tmp_path / "t.xlsx")
        await pilot.press("enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ExportScreen)
        status = str(app.screen.query_one("#export-status", Static).render())
        assert "unknown export format" in status
        assert list(tmp_path.iterdir()) == []


async def run_sql(app: LotteryApp, pilot, text: str) -> str:
    await pilot.press("5")
    await settle(app, pilot)
    editor = app.query_one("#sql-editor", TextArea)
    editor.text = text
    editor.focus()
    await pilot.press("ctrl+j")
    await settle(app, pilot)
    return str(app.query_one("#sql-status", Static).render())


async def test_sql_result_with_fetch_limit(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        status = await run_sql(app, pilot, "SELECT * FROM range(20000)")
        assert status.startswith("10,000 of >10,000 rows")
        assert app.query_one("#sql-result", ArrowTable).shown.num_rows == 10_000


async def test_sql_error_shown_in_place(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        status = await run_sql(app, pilot, "SELECT nope FROM results")
        assert status.startswith("error: ")
        assert "nope" in status
        assert app.is_running
        status = await run_sql(app, pilot, "DELETE FROM models")
        assert "not allowed" in status and "read-only" in status


async def test_sql_history(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await run_sql(app, pilot, "SELECT 1 AS a")
        await run_sql(app, pilot, "SELECT 2 AS b")
        editor = app.query_one("#sql-editor", TextArea)
        await pilot.press("f2")
        view = app.query_one("#sql-view")
        assert view.history == ["SELECT 1 AS a", "SELECT 2 AS b"], app.focused
        assert editor.text == "SELECT 1 AS a"
        await pilot.press("f3")
        assert editor.text == "SELECT 2 AS b"


async def test_sql_long_query_can_be_cancelled(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await settle(app, pilot)
        view = app.query_one("#sql-view")
        app.query_one("#sql-editor", TextArea).text = LONG_QUERY
        view.action_run()
        await pilot.pause(0.2)
        assert view.running
        view.action_cancel()
        await app.workers.wait_for_complete()
        await pilot.pause()
        await pilot.pause()
        assert str(app.query_one("#sql-status", Static).render()) == "query cancelled"
        assert not view.running
        status = await run_sql(app, pilot, "SELECT 42 AS answer")  # the console still works
        assert status.startswith("1 row in")


async def test_sql_cancel_key(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await pilot.press("5")
        await settle(app, pilot)
        view = app.query_one("#sql-view")
        editor = app.query_one("#sql-editor", TextArea)
        editor.text = LONG_QUERY
        editor.focus()
        await pilot.pause()
        await pilot.press("ctrl+j")
        assert view.running
        await pilot.press("ctrl+g")
        for _ in range(200):  # the query alone would take ~20 s
            if not view.running:
                break
            await pilot.pause(0.05)
        assert str(app.query_one("#sql-status", Static).render()) == "query cancelled"


async def test_rankings_agreement_and_bump(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        agreement = app.query_one("#agreement-table", ArrowTable)
        assert agreement.shown.num_rows == 3  # every dataset but the reference
        assert agreement.shown.column_names[:5] == [
            "dataset",
            "kendall_tau_b",
            "p_value",
            "ci_low",
            "ci_high",
        ]
        for row in agreement.shown.to_pylist():
            assert row["ci_low"] <= row["kendall_tau_b"] <= row["ci_high"]
        chart = app.query_one("#bump-chart", ChartPanel)
        assert len(chart.spec.series) == 10
        await pilot.press("minus", "minus")
        await settle(app, pilot)
        assert len(chart.spec.series) == 8


async def test_lottery_verdicts_and_comparison(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        gains = app.query_one("#gains-table", ArrowTable)
        assert gains.shown.num_rows > 0
        assert gains.shown.column_names[:3] == ["verdict", "model", "below"]
        first = gains.shown.slice(0, 1).to_pylist()[0]
        gains.focus_table()
        await pilot.pause()
        await pilot.press("enter")
        await settle(app, pilot)
        compare = app.query_one("#compare-table", ArrowTable)
        assert compare.title == f"{first['model']} vs {first['below']}"
        assert compare.shown.num_rows == 4  # one row per dataset
        assert {"delta", "ci_low", "ci_high", "p_adjusted", "verdict"} <= set(
            compare.shown.column_names
        )


async def test_pair_picker_compares_two_models(small_db):
    app = make_app(small_db)
    a, b = model_names()[0], model_names()[N_PRED_MODELS - 1]
    async with app.run_test(size=(120, 40)) as pilot:
        row = (await pick_pair(app, pilot, a, b))["imagenet"]
        assert row["ci_low"] <= row["delta"] <= row["ci_high"]


async def test_plots_scatter_variant_and_highlight(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("space")  # mark the best model
        await pilot.press("4")
        await settle(app, pilot)
        chart = app.query_one("#plot-chart", ChartPanel)
        first = chart.spec
        assert len(first.series[0].x) == N_MODELS
        best = results(app).shown.column("model")[0].as_py()
        assert any(s.label == best for s in first.series)
        assert any(s.label == "logit fit" for s in first.series)
        await pilot.press("right_square_bracket")
        await settle(app, pilot)
        assert chart.spec.title != first.title


async def test_plots_rank_distribution(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("down", "4", "t")
        await settle(app, pilot)
        chart = app.query_one("#plot-chart", ChartPanel)
        second = results(app).shown.column("model")[1].as_py()
        assert chart.spec.title == f"rank distribution of {second}"
        probabilities = chart.spec.series[0].y
        assert sum(probabilities) == pytest.approx(1.0, abs=1e-6)


async def test_missing_store_error_shown_in_place(tmp_path):
    bad = tmp_path / "not-a-store.duckdb"
    bad.write_text("this is not a database")
    app = make_app(bad)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        caption = str(results(app).query_one(".caption", Static).render())
        assert caption.startswith("cannot load results: ")
        assert app.is_running
