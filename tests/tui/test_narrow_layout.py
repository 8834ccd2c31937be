"""The 80x24 layout: whole model names, every dataset's top-1 first, a bump view that fits."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest

from lottery_tui.store.explore import GROUPS
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.chartspec import label_room
from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.chart import ChartPanel

from .conftest import DATASETS, make_app, settle

SUFFIXES = ("_ft_in22k_in1k", "_ft_in1k")  # timm names that differ only at the end


@pytest.fixture(scope="module")
def long_names_db(small_db: Path, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The small store with two long names that differ only in their last characters."""
    path = tmp_path_factory.mktemp("long") / "long.duckdb"
    shutil.copy(small_db, path)
    con = duckdb.connect(str(path))
    for model_id, suffix in zip((1, 2), SUFFIXES, strict=True):
        name = "eva02_large_patch14_448.mim" + suffix
        con.execute("UPDATE models SET name = ? WHERE model_id = ?", [name, model_id])
    con.close()
    return path


def top1_labels(app: LotteryApp) -> list[str]:
    return app.query_one("#results-view").grid.groups[GROUPS[0]]


async def test_whole_names_and_top1_first_at_80_columns(long_names_db):
    app = make_app(long_names_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#results-table", ArrowTable)
        names = table.shown.column("model").to_pylist()
        longest = max(len(n) for n in names)
        assert longest > 32  # the old fixed width would cut these two names to the same text
        assert table.first_column_width >= longest
        columns = table.data_table.ordered_columns
        scrollbar = table.data_table.scrollbar_size_vertical
        assert columns[0].render_width >= longest
        # Four accuracy columns stay in view beside the model column:
        assert sum(c.render_width for c in columns[:5]) + scrollbar <= 80
        assert table.shown.column_names[1 : 1 + len(DATASETS)] == top1_labels(app)

        await pilot.resize_terminal(120, 40)  # wide: each dataset's columns together again
        await settle(app, pilot)
        columns = table.shown.column_names
        assert columns[1:3] == ["IN", "IN #"]
        assert table.first_column_width >= longest


async def test_bump_view_fits_a_short_terminal(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        chart = app.query_one("#bump-chart", ChartPanel)
        n_lines = len(chart.spec.series)
        plot_rows = chart.size.height - 4  # caption, frame top and bottom, x tick labels
        assert n_lines <= plot_rows  # one row or more per model line
        await pilot.press("plus")
        await settle(app, pilot)
        assert len(chart.spec.series) == n_lines + 1


def test_line_labels_widen_with_the_terminal():
    narrow, room_narrow = label_room(8, 74)
    wide, room_wide = label_room(8, 114)
    assert narrow < wide
    for width, plot_width, room in ((narrow, 74, room_narrow), (wide, 114, room_wide)):
        per_step = (plot_width - width) / (8 - 1 + 0.1)
        assert room * per_step >= width  # the room right of the last dataset holds a label
