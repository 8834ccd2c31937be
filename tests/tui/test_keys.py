"""Keys go where the user means, also when they arrive in one batch (over SSH, or
`tmux send-keys -l`): each test sends its keys with no pause between them."""

from __future__ import annotations

from textual.widgets import Input, TabbedContent, TextArea
from textual_fastdatatable.data_table import DataTable

from lottery_tui.tui.screens.detail import ModelDetailScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import make_app, model_names, settle, type_batch


def active(app) -> str:
    return app.query_one("#views", TabbedContent).active


def filter_box(app) -> Input:
    return app.query_one("#results-filter", Input)


def results_table(app) -> ArrowTable:
    return app.query_one("#results-table", ArrowTable)


async def test_keys_typed_with_slash_fill_the_filter(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "slash", "n", "e", "t", "1", "v")  # `v` types, it does not cycle columns
        await settle(app, pilot)
        assert filter_box(app).value == "net1v"
        assert app.focused is filter_box(app)
        assert results_table(app).filter_text == "net1v"
        assert results_table(app).columns is None


async def test_sort_after_filter_keeps_the_keys_on_the_table(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "slash", "n", "e", "t", "1", "enter", "s", "s", "down", "down")
        await settle(app, pilot)
        table = results_table(app)
        assert filter_box(app).value == "net1"  # the second `s` sorted again, it did not type
        assert isinstance(app.focused, DataTable) and app.focused is table.data_table
        assert table.sort_key == ("model", "descending")
        expected = sorted((m for m in model_names() if "net1" in m), reverse=True)
        assert table.shown.column("model").to_pylist() == expected
        assert table.data_table.cursor_row == 2
        type_batch(app, "2")  # a digit switches views once the keys are back on the table
        await settle(app, pilot)
        assert active(app) == "rankings"


async def test_digit_switches_view_after_a_detail_and_after_coming_back(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "slash", "n", "e", "t", "enter", "enter")
        await settle(app, pilot)
        assert isinstance(app.screen, ModelDetailScreen)
        type_batch(app, "escape", "2")
        await settle(app, pilot)
        assert active(app) == "rankings" and filter_box(app).value == "net"
        type_batch(app, "1", "3")  # back to Results (filter shown), then on: not typed
        await settle(app, pilot)
        assert active(app) == "lottery" and filter_box(app).value == "net"
        type_batch(app, "1")
        await settle(app, pilot)
        assert app.focused is results_table(app).data_table


async def test_digits_type_in_the_sql_editor_until_esc(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "5", "s", "e", "l", "2")
        await settle(app, pilot)
        editor = app.query_one("#sql-editor", TextArea)
        assert active(app) == "sql" and editor.text.endswith("sel2")
        type_batch(app, "escape", "2")
        await settle(app, pilot)
        assert active(app) == "rankings"


async def test_lottery_after_a_comparison_and_a_source_change(two_source_db):
    from lottery_tui.tui.screens.gain import GainDetailScreen
    from lottery_tui.tui.screens.source import SourceScreen

    from .conftest import PER_IMAGE_SOURCE

    app = make_app(two_source_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        type_batch(app, "3")
        await settle(app, pilot)
        gains = app.query_one("#gains-table", ArrowTable)
        type_batch(app, "enter")  # compare the first verdict's pair
        await settle(app, pilot)
        compare = app.query_one("#compare-table", ArrowTable)
        assert compare.shown is not None
        type_batch(app, "S")
        await settle(app, pilot)
        assert isinstance(app.screen, SourceScreen)
        app.screen.dismiss(PER_IMAGE_SOURCE)
        await settle(app, pilot)
        # the old comparison is gone with its caption; the keys are on the new verdicts
        assert compare.shown is None and compare.data_table is None
        assert app.focused is gains.data_table, [w.id for w in app.focused.ancestors_with_self]
        assert gains.shown.num_rows >= 2
        type_batch(app, "down", "d")
        await settle(app, pilot)
        assert isinstance(app.screen, GainDetailScreen)
        second = gains.shown.slice(1, 1).to_pylist()[0]
        gain = app.screen.gain
        view = app.screen_stack[0].query_one("LotteryView")
        assert (view.shown_name(gain.model), view.shown_name(gain.below)) == (
            second["model"],
            second["below"],
        )


async def test_reference_picker_keeps_order_and_the_source_datasets(two_source_db, tmp_path):
    import shutil

    import duckdb
    from textual.widgets import OptionList

    from lottery_tui.tui.screens.reference import ReferenceScreen

    from .conftest import PER_IMAGE_SOURCE

    db = tmp_path / "store.duckdb"
    shutil.copy(two_source_db, db)
    con = duckdb.connect(str(db))
    con.execute(
        "DELETE FROM aggregate_results WHERE source_id = 2 AND dataset_id = 'imagenet-sketch'"
    )
    con.close()
    app = make_app(db, reference="imagenetv2-matched-frequency", source=PER_IMAGE_SOURCE)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "R")
        await settle(app, pilot)
        assert isinstance(app.screen, ReferenceScreen)
        options = app.screen.query_one(OptionList)
        ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
        assert ids == ["imagenet", "imagenet-real", "imagenetv2-matched-frequency"]
        assert options.highlighted == 2  # the current reference, where the store has it
        type_batch(app, "up", "enter")
        await settle(app, pilot)
        assert app.reference == "imagenet-real"


async def palette_run(app, pilot, name: str) -> None:
    """Open the command palette, type `name` in one batch, run the first hit."""
    type_batch(app, "ctrl+p")
    await settle(app, pilot)
    type_batch(app, *name)
    await pilot.pause(0.5)  # the palette searches in a worker of its own
    type_batch(app, "enter")
    await settle(app, pilot)


async def test_palette_sorts_copies_filters_and_saves_a_screenshot(small_db, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    app = make_app(small_db)
    copied: list[str] = []
    app.copy_to_clipboard = copied.append
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await palette_run(app, pilot, "Sort by the cursor")
        assert results_table(app).sort_key == ("model", "ascending")
        await palette_run(app, pilot, "Copy the cell")
        assert copied == [results_table(app).shown.column("model")[0].as_py()]
        await palette_run(app, pilot, "Filter models")
        assert app.focused is filter_box(app)
        type_batch(app, "escape")
        await settle(app, pilot)
        await palette_run(app, pilot, "Screenshot")
        svgs = list(tmp_path.glob("*.svg"))
        assert len(svgs) == 1 and svgs[0].read_text().startswith("<svg")
        await palette_run(app, pilot, "Export the table")
        from lottery_tui.tui.screens.export import ExportScreen

        assert isinstance(app.screen, ExportScreen)


async def test_palette_launch_shows_runs_and_asks_for_a_plan(small_db, tmp_path, monkeypatch):
    monkeypatch.setenv("HOME", str(tmp_path))
    app = make_app(small_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        await palette_run(app, pilot, "Launch probe runs")
        await settle(app, pilot)
        assert active(app) == "runs"
        status = app.query_one("#runs-view").query_one("#runs-status")
        assert "plan" in str(status.render())  # no plan loaded: launching says so, runs nothing


async def test_help_lists_the_runs_view_keys_from_its_bindings(small_db):
    from textual.widgets import Markdown

    from lottery_tui.tui.screens.help import HelpScreen
    from lottery_tui.tui.views.registry import BY_KEY

    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "question_mark")
        await settle(app, pilot)
        assert isinstance(app.screen, HelpScreen)
        text = app.screen.query_one(Markdown).source
        runs_keys = [b for b in BY_KEY["runs"].bindings() if b.description]
        assert runs_keys
        runs_section = text.split("## Runs view", 1)[1]
        for binding in runs_keys:
            first = binding.key.split(",")[0]
            assert f"`{first}`" in runs_section and binding.description in runs_section
