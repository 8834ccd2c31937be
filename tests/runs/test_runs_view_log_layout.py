"""The Runs view in the explorer's 80x24 (21 rows under the tabs and footer), a plan loaded and
its log open (`g`): the runs table keeps rows on screen (the picker and the log give way)."""

from __future__ import annotations

from textual.widgets import DataTable

from .test_runs_view_layout import Host, _until, finished  # noqa: F401 (fixture)

VIEW_ROWS = 21  # 24 rows less the tab bar (2) and the footer (1)


async def test_rows_stay_on_screen_with_a_plan_and_the_log_open(finished, tmp_path) -> None:  # noqa: F811
    plan, results = finished
    app = Host(db=tmp_path / "none.duckdb", results_dir=results, plan=plan)
    async with app.run_test(size=(80, VIEW_ROWS)) as pilot:
        table = app.query_one("#runs-table", DataTable)
        assert await _until(pilot, lambda: table.row_count == 2)
        table.focus()
        await pilot.press("g")
        await pilot.pause()
        log = app.query_one("#runs-log")
        assert log.display and log.size.height > 0
        # Header plus both runs, whole, inside the screen.
        assert table.size.height >= 3, (table.size, log.size)
        assert table.region.bottom <= VIEW_ROWS
