"""A cell never shows a number other than the value: every column is as wide as its longest
value (not its header, not only its extremes), and a column the view's edge cuts is blank,
never drawn in part. Checked on the drawn lines, at the widths people use, scrolled and not,
in Results and in the SQL view."""

from __future__ import annotations

import pytest
from textual_fastdatatable.format import display_text

from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.whole_values import widest_number

from .conftest import make_app, settle
from .test_sql_view import run

WIDTHS = (80, 100, 120, 133, 200)

# Extremes 1.5 and 100.25 print shorter than the values between them (3.62667, 67.782):
# the table's own measuring (max and min only) cut those to the header's width.
SQL = (
    "SELECT model, top1, top1 / 7 AS a, top1 / 3 AS b, top5 / 9 AS c, top1 * 1.01 AS d, "
    "top5 / 13 AS e, top1 / 11 AS f, top5 / 17 AS g, top1 / 19 AS h, top5 / 23 AS i, x "
    "FROM results, (VALUES (1.5), (3.62667::DOUBLE), (67.782), (100.25)) t(x) ORDER BY model, x"
)


def cell_texts(table: ArrowTable) -> list[str]:
    """Assert every drawn line shows whole values or blanks; return the texts seen."""
    grid = table.data_table
    assert grid is not None
    data = grid.backend.data
    columns = grid.ordered_columns
    fixed = sum(c.render_width for c in columns[: grid.fixed_columns])
    visible = grid.scrollable_content_region.width  # the vertical scrollbar covers the rest
    seen, null = [], str(grid.null_rep)
    for y in range(1, min(grid.scrollable_content_region.height, data.num_rows + 1)):
        line = grid.render_line(y).text
        row = int(grid.scroll_y) + y - 1
        spans, x = [], 0  # each column's [left, right) on screen, and where it may show
        for i, column in enumerate(columns):
            pinned = i < grid.fixed_columns
            left = x if pinned else x - int(grid.scroll_x)
            spans.append((left, left + column.render_width, 0 if pinned else fixed))
            x += column.render_width
        for i, (left, right, edge) in enumerate(spans):
            drawn = line[max(left, edge) : min(right, visible)]
            value = data.column(i)[row].as_py()
            whole = display_text(value, render_markup=False) if value is not None else null
            if left >= edge and right <= visible:
                assert drawn.strip() == whole, (y, data.column_names[i], drawn)
                seen.append(drawn.strip())
            elif right > edge and left < visible:
                assert drawn.strip() == "", (y, data.column_names[i], drawn)  # cut: blank
    return seen


@pytest.mark.parametrize("width", WIDTHS)
async def test_results_cells_are_whole_or_blank(small_db, width):
    app = make_app(small_db)
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#results-table", ArrowTable)
        assert len(cell_texts(table)) > 0
        table.data_table.scroll_x = 11  # mid-column: the first scrolled column is cut
        await pilot.pause()
        cell_texts(table)


@pytest.mark.parametrize("width", WIDTHS)
async def test_sql_cells_are_whole_or_blank(small_db, width):
    app = make_app(small_db)
    async with app.run_test(size=(width, 30)) as pilot:
        await settle(app, pilot)
        await pilot.press("5")
        await settle(app, pilot)
        await run(app, pilot, SQL)
        table = app.query_one("#sql-result", ArrowTable)
        seen = cell_texts(table)
        x = table.data_table.ordered_columns[-1]
        assert x.content_width >= len("3.62667")  # not the extremes' 6 ("100.25")
        if width >= 200:
            assert "3.62667" in seen and "67.782" in seen
        for scroll in (5, 23, 40):
            table.data_table.scroll_x = scroll
            await pilot.pause()
            cell_texts(table)


def test_widest_number_measures_every_value_not_the_extremes():
    import pyarrow as pa

    assert widest_number(pa.array([1.5, 3.62667, 100.25])) == len("3.62667")
    assert widest_number(pa.array([None, 2.0], pa.float64())) == len("2")
