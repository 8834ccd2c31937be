"""Key columns stay in view when a table scrolls sideways: in Lottery the verdict and the model
beside delta, interval and p; in the `d` panel the dataset and its outcome."""

from __future__ import annotations

from lottery_tui.tui.screens.gain import GainDetailScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import make_app, settle


async def scrolled_right_shows(pilot, table: ArrowTable, keys: list[str]) -> None:
    """Scroll `table` fully right, then each drawn row still starts with its key columns."""
    grid = table.data_table
    grid.scroll_x = grid.max_scroll_x
    await pilot.pause()
    assert grid.max_scroll_x > 0  # at 80 columns the table is wider than the view
    for y, row in enumerate(table.shown.slice(0, 3).to_pylist(), start=1):
        line = grid.render_line(y).text
        texts = [str(grid.backend.data.column(k)[y - 1].as_py()) for k in keys]
        assert line.lstrip().startswith(texts[0]), (line, row)
        assert all(t in line for t in texts), (line, texts)


async def test_lottery_and_gain_detail_keep_key_columns_in_view(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        gains = app.query_one("#gains-table", ArrowTable)
        assert gains.data_table.fixed_columns == 2
        await scrolled_right_shows(pilot, gains, ["verdict", "model"])
        grid = gains.data_table
        names = gains.shown.column_names
        start = sum(c.render_width for c in grid.ordered_columns[2 : names.index("p_adjusted")])
        grid.scroll_x = start  # scrolled to p: it shows beside the verdict and the model
        await pilot.pause()
        header = grid.render_line(0).text
        assert header.lstrip().startswith("verdict") and "p adjusted" in header, header
        gains.focus_table()
        await pilot.pause()
        await pilot.press("d")
        await settle(app, pilot)
        assert isinstance(app.screen, GainDetailScreen)
        variants = app.screen.query_one("#variants-table", ArrowTable)
        assert variants.data_table.fixed_columns == 2
        if variants.data_table.max_scroll_x > 0:
            await scrolled_right_shows(pilot, variants, ["dataset", "outcome"])
