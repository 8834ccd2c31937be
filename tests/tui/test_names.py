"""Names cut in the middle, never two models alike; p-values written as the CLI writes them."""

from __future__ import annotations

import shutil

import duckdb
import pyarrow as pa
import pytest
from textual.coordinate import Coordinate
from textual.widgets import Static

from lottery_tui.report.numbers import format_p
from lottery_tui.store.explore import explorer_names
from lottery_tui.tui.names import ELLIPSIS, fit_names, middle_cut
from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.display import counted, for_display

from .conftest import make_app, settle, type_batch


def test_middle_cut_keeps_both_ends():
    name = "convnext_large_mlp.clip_laion2b_augreg_ft_in12k_in1k"
    text = middle_cut(name, 30)
    head, tail = text.split(ELLIPSIS)
    assert len(text) == 30 and name.startswith(head) and name.endswith(tail)
    assert tail and head and len(head) > len(tail)
    assert middle_cut("resnet50.a1_in1k", 30) == "resnet50.a1_in1k"


@pytest.mark.parametrize("width", [44, 30, 24, 12])
def test_shipped_names_stay_distinct_and_keep_their_ends(shipped_db, width):
    con = duckdb.connect(str(shipped_db), read_only=True)
    # every identity as the explorer writes it (SOURCE:NAME where two sources share a name)
    names = list(explorer_names(con).values())
    timm = [
        r[0] for r in con.sql("SELECT DISTINCT model FROM results WHERE source = 'timm'").fetchall()
    ]
    con.close()
    assert len(names) == len(set(names))
    texts = fit_names(names, width)
    assert len(set(texts.values())) == len(set(names))  # no two models read the same
    for name, text in texts.items():
        assert len(text) <= width
        if len(name) <= width:
            assert text == name
        elif "~" not in text:
            head, tail = text.split(ELLIPSIS)
            assert name.startswith(head) and name.endswith(tail)
    if width == 44:  # the issue: 13 pairs of timm's names read the same when the end was cut at 44
        assert len(timm) - len({n[:44] for n in timm}) == 13
        assert "~" not in "".join(texts.values())


def test_a_group_no_single_cut_separates_is_still_distinct():
    names = [f"mobilenetv4_conv_{s}.e500_r224_in1k@{px}" for s in "abc" for px in (224, 256)]
    names += ["mobilenetv4_conv_a.e500_r256_in1k@224"]
    texts = fit_names(names, 12)
    assert len(set(texts.values())) == len(names)
    assert all(len(t) <= 12 for t in texts.values())


def test_p_values_shown_as_the_cli_writes_them():
    table = pa.table({"model": ["a", "b", "c", "d"], "p_adjusted": [0.0, 1.37e-30, 0.04, None]})
    shown = for_display(table, {})
    assert shown.table.column("p_adjusted").to_pylist() == [
        "< 1e-300",
        "1.37e-30",
        "0.0400",
        None,
    ]
    assert [format_p(p) for p in (0.0, 1.37e-30, 0.04)] == ["< 1e-300", "1.37e-30", "0.0400"]
    assert table.column("p_adjusted").type == pa.float64()  # the data keep their numbers


async def test_results_show_cut_names_distinct_and_the_full_name_below(small_db, tmp_path):
    db = tmp_path / "long.duckdb"
    shutil.copy(small_db, db)
    stem = "eva02_large_patch14_448.mim_m38m_ft_in22k_in1k_augreg_extra"
    con = duckdb.connect(str(db))
    con.execute("UPDATE models SET name = ? || '_v' || model_id", [stem])
    con.close()
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#results-table", ArrowTable)
        data = table.data_table
        cells = [data.get_cell_at(Coordinate(r, 0)) for r in range(data.row_count)]
        assert len(set(cells)) == len(cells)  # 40 models, 40 different texts
        assert all(ELLIPSIS in c and c.startswith("eva02") for c in cells)
        type_batch(app, "down", "down")
        await settle(app, pilot)
        full = str(table.query_one(".fullname", Static).render())
        assert full == table.shown.column("model")[2].as_py()
        assert cells[2] != full and full.endswith(cells[2].split(ELLIPSIS)[1])


async def test_no_column_is_drawn_in_part(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#results-table", ArrowTable)
        for _ in range(3):  # scrolled sideways to several stops, cut edges on both sides
            type_batch(app, *["right"] * 7)
            await settle(app, pilot)
            data = table.data_table
            row = data.cursor_row
            cells = {
                str(data.get_cell_at(Coordinate(row, c))) for c in range(len(data.ordered_columns))
            }
            headers = {str(c.label) for c in data.ordered_columns}
            line = data.render_line(1 + row - int(data.scroll_y)).text
            assert all(token in cells for token in line.split()), line
            header = data.render_line(0).text
            words = " ".join(headers).split()
            assert all(token in words for token in header.split()), header


async def test_bump_chart_has_a_legend_of_distinct_names(small_db, tmp_path):
    from lottery_tui.tui.widgets.chart import ChartPanel

    db = tmp_path / "long.duckdb"
    shutil.copy(small_db, db)
    con = duckdb.connect(str(db))
    con.execute("UPDATE models SET name = 'eva02_large_patch14_448.mim_m38m_ft_v' || model_id")
    con.close()
    app = make_app(db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "2")
        await settle(app, pilot)
        chart = app.query_one("#bump-chart", ChartPanel)
        keys = [key for key, _, _ in chart.spec.legend]
        assert keys == [str(i) for i in range(1, len(keys) + 1)] and len(keys) >= 2
        legend = str(chart.query_one(".legend", Static).render())
        entries = [e.strip() for e in legend.replace("\n", "●").split("●") if e.strip()]
        assert len(entries) == len(keys) and len(set(entries)) == len(entries)
        labels = [text for _, _, text, _ in chart.spec.labels]
        assert len(set(labels)) == len(labels)
        assert all(text.split(" ", 1)[1].startswith("eva02") for text in labels)


def test_headers_in_words_and_true_false_as_yes_no():
    table = pa.table(
        {"ci_low": [0.1], "p_all_variants": [0.5], "holds": [True], "IN #": [3], "x": [None]},
        schema=pa.schema(
            [
                ("ci_low", pa.float64()),
                ("p_all_variants", pa.float64()),
                ("holds", pa.bool_()),
                ("IN #", pa.int64()),
                ("x", pa.bool_()),
            ]
        ),
    )
    shown = for_display(table, {}, words=True).table
    assert shown.column_names == ["CI low", "p all variants", "holds", "IN #", "x"]
    assert shown.column("holds").to_pylist() == ["yes"] and shown.column("x").to_pylist() == [None]
    assert shown.column("p all variants").to_pylist() == ["0.5000"]  # as the CLI writes p
    assert for_display(table, {}).table.column_names[0] == "ci_low"  # SQL: the user's names


def test_counts_take_the_noun_in_the_right_number():
    assert [counted(n, "row") for n in (0, 1, 2, 1907)] == [
        "0 rows",
        "1 row",
        "2 rows",
        "1,907 rows",
    ]
