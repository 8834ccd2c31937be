"""The 80x24 layout: whole model names, every dataset's top-1 first, a bump view that fits."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pytest
from textual_plotext import PlotextPlot

from lottery_tui.store.explore import GROUPS
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.chartspec import MAX_RANK_TICKS, distribution_spec, label_room, rank_ticks
from lottery_tui.tui.views.results import MAX_NAME
from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.chart import ChartPanel, plot_rows

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


async def test_names_apart_and_top1_first_at_80_columns(long_names_db):
    app = make_app(long_names_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#results-table", ArrowTable)
        names = table.shown.column("model").to_pylist()
        longest = max(len(n) for n in names)
        assert longest > MAX_NAME  # these two names are cut, in the middle
        assert table.first_column_width == MAX_NAME
        drawn = table.data_table.backend.data.column("model").to_pylist()
        assert len(set(drawn)) == len(drawn)  # ... and still read apart
        assert all(len(n) <= MAX_NAME for n in drawn)
        columns = table.data_table.ordered_columns
        scrollbar = table.data_table.scrollbar_size_vertical
        # Four accuracy columns stay in view beside the model column:
        assert sum(c.render_width for c in columns[:5]) + scrollbar <= 80
        assert table.shown.column_names[1 : 1 + len(DATASETS)] == top1_labels(app)

        await pilot.resize_terminal(120, 40)  # wide: each dataset a top-1 and rank-change pair
        await settle(app, pilot)
        columns = table.shown.column_names
        assert columns[1:5] == ["IN", "IN #", "ReaL", "ReaL ±#"]
        assert table.first_column_width == MAX_NAME


def datasets_in_view(table: ArrowTable, labels: list[str]) -> int:
    """How many datasets' top-1 columns are wholly in view (left of the scrollbar)."""
    grid = table.data_table
    x, count = 0, 0
    for column in grid.ordered_columns:
        x += column.render_width
        if x <= grid.scrollable_content_region.width and str(column.label) in labels:
            count += 1
    return count


async def test_more_width_shows_more_datasets(shipped_db):
    app = make_app(shipped_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#results-table", ArrowTable)
        counts = []
        for width in (100, 120, 133, 200):
            await pilot.resize_terminal(width, 30)
            await settle(app, pilot)
            counts.append(datasets_in_view(table, top1_labels(app)))
        assert counts == sorted(counts) and counts[-1] > counts[0], counts
        assert counts[1] >= 4  # at 120: IN, ReaL, V2 and one more (2 before the cap)


async def test_bump_view_fits_a_short_terminal(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        await pilot.press("b")  # under 30 rows the table and the bump view take turns
        await pilot.pause()
        chart = app.query_one("#bump-chart", ChartPanel)
        n_lines = len(chart.spec.series)
        assert n_lines <= plot_rows(chart.spec, chart.query_one(PlotextPlot).size.height)
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


def test_rank_ticks_are_whole_numbers():
    spec = distribution_spec([3, 1, 2], [0.2, 0.5, 0.3], "net00")
    assert spec.xticks == ([1.0, 2.0, 3.0], ["1", "2", "3"])
    values, labels = rank_ticks(list(range(1, 41)))
    assert len(values) <= MAX_RANK_TICKS and labels[0] == "1"
    assert all(
        label.isdigit() and float(label) == v for v, label in zip(values, labels, strict=True)
    )
