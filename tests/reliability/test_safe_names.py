"""Names holding terminal escape sequences (already in a store: no importer check can help) are
shown escaped by `lottery models`, `lottery sql` and the explorer's tables (`safe_text`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from lottery_tui.cli.main import main
from lottery_tui.safe_text import safe_table, safe_text
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.widgets.arrow_table import ArrowTable

EVIL = "evil\x1b[31mred\x1b]0;pwned\x07\u202etxt.exe\x9b2J"
SHOWN = "evil\\x1b[31mred\\x1b]0;pwned\\x07\\u202etxt.exe\\x9b2J"
RAW = ("\x1b", "\x07", "\u202e", "\x9b")


def test_safe_text_escapes_controls_and_keeps_the_rest() -> None:
    assert safe_text(EVIL) == SHOWN
    assert safe_text("vit_base_patch16_224.augreg_in21k — ünïcode ✓") == (
        "vit_base_patch16_224.augreg_in21k — ünïcode ✓"
    )
    assert safe_text("a\tb\nc\x7f") == "a\\x09b\\x0ac\\x7f"


def test_safe_table_escapes_names_and_strings_only_when_needed() -> None:
    clean = pa.table({"model": ["a", None], "top1": [1.0, 2.0]})
    assert safe_table(clean) is clean
    dirty = pa.table({"model\x1b": [EVIL, None], "top1": [1.0, 2.0]})
    shown = safe_table(dirty)
    assert shown.column_names == ["model\\x1b", "top1"]
    assert shown.column(0).to_pylist() == [SHOWN, None]
    assert shown.column(1).to_pylist() == [1.0, 2.0]


@pytest.fixture
def evil_store(results_db: Path, tmp_path: Path) -> Path:
    """A store where the best ImageNet model got an escape-laden name behind the importers' back."""
    store = tmp_path / "store.duckdb"
    shutil.copyfile(results_db, store)
    con = duckdb.connect(str(store))
    con.execute(
        "UPDATE models SET name = ? WHERE name = (SELECT model FROM results "
        "WHERE dataset = 'imagenet' ORDER BY top1 DESC LIMIT 1)",
        [EVIL],
    )
    con.close()
    return store


@pytest.mark.parametrize(
    "argv",
    [
        ["models", "--like", "evil*"],
        ["sql", "SELECT model, top1 FROM results WHERE model LIKE 'evil%'"],
        ["sql", 'SELECT 1 AS "col\x1b[2J"'],
    ],
)
def test_cli_tables_show_names_escaped(argv: list[str], evil_store: Path, capsys) -> None:
    assert main([*argv, "--db", str(evil_store)]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in RAW)
    assert SHOWN in out or "col\\x1b[2J" in out
    lines = out.splitlines()
    assert len(lines[1]) >= len(lines[0].rstrip())  # the rule under the header spans it


async def test_the_explorer_tables_show_names_escaped(evil_store: Path) -> None:
    app = LotteryApp(db=str(evil_store), cursor_blink=False, watch_tty=False)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#results-table", ArrowTable)
        for _ in range(200):
            if table.data_table is not None and table.shown is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause()
        backend = table.data_table.backend
        names = backend.data.column(0).to_pylist()
        # the model column is capped: a long name is cut in the middle (…), its ends escaped
        assert any(
            n == SHOWN or (n.count("…") == 1 and SHOWN.startswith(n.split("…")[0])
                           and SHOWN.endswith(n.split("…")[1]))
            for n in names if n
        ), names  # fmt: skip
        assert not any(ch in name for name in names if name for ch in RAW)
        assert EVIL in table.shown.column(0).to_pylist()  # the data itself is unchanged


async def _settled(app: LotteryApp, pilot) -> ArrowTable:
    table = app.query_one("#results-table", ArrowTable)
    for _ in range(200):
        if table.data_table is not None and table.shown is not None:
            break
        await pilot.pause(0.05)
    await pilot.pause()
    return table


async def test_notifications_show_names_escaped_and_never_as_markup(evil_store: Path) -> None:
    app = LotteryApp(db=str(evil_store), cursor_blink=False, watch_tty=False)
    async with app.run_test(size=(120, 30)) as pilot:
        table = await _settled(app, pilot)
        row = table.shown.column(0).to_pylist().index(EVIL)
        table.data_table.move_cursor(row=row)
        await pilot.press("space")  # marks the model under the cursor: a toast names it
        await pilot.pause()
        app.set_reference("[b]x")  # a name read as markup would be bold or an error
        await pilot.pause()
        toasts = [n for n in app._notifications]
        marked = next(n for n in toasts if n.message.startswith("marked "))
        assert SHOWN in marked.message and not any(ch in marked.message for ch in RAW)
        assert not marked.markup
        reference = next(n for n in toasts if n.message.startswith("reference: "))
        assert reference.message == "reference: [b]x" and not reference.markup


async def test_plot_labels_legend_and_caption_show_names_escaped(evil_store: Path) -> None:
    from textual.widgets import Static
    from textual_plotext import PlotextPlot

    from lottery_tui.tui.widgets.chart import ChartPanel

    app = LotteryApp(db=str(evil_store), cursor_blink=False, watch_tty=False)
    async with app.run_test(size=(160, 40)) as pilot:
        await _settled(app, pilot)
        await pilot.press("2")  # Rankings: the bump chart of the top models, EVIL first
        chart = app.query_one("#bump-chart", ChartPanel)
        for _ in range(400):
            if chart.spec is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause()
        assert any(name == EVIL for _, name, _ in chart.spec.legend)  # the data keep the name
        drawn = chart.query_one(PlotextPlot).render().plain  # plotext's ANSI read back as Rich
        legend = str(chart.query_one(".legend", Static).render())
        assert "evil\\x1b" in legend and not any(ch in legend for ch in RAW)
        assert not any(ch in drawn for ch in RAW)
        chart.show_message(f"caption {EVIL} [b]x")
        await pilot.pause()
        caption = str(chart.query_one(".caption", Static).render())
        assert caption == f"caption {SHOWN} [b]x"


def test_every_text_a_chart_draws_is_escaped() -> None:
    from lottery_tui.tui.chartspec import ChartSpec, Series
    from lottery_tui.tui.widgets.chart import safe_spec

    spec = ChartSpec(
        title=f"rank distribution of {EVIL}",
        xlabel=EVIL,
        ylabel=EVIL,
        series=[Series(x=[0.0], y=[1.0], label=EVIL), Series(x=[1.0], y=[2.0])],
        xticks=([0.0], [EVIL]),
        yticks=([1.0], ["1"]),
        labels=[(0.0, 1.0, f"1 {EVIL}", "red")],
        legend=[("1", EVIL, "red")],
    )
    safe = safe_spec(spec)
    assert safe.title == f"rank distribution of {SHOWN}"
    assert (safe.xlabel, safe.ylabel, safe.series[0].label) == (SHOWN, SHOWN, SHOWN)
    assert safe.series[1].label is None and safe.yticks == ([1.0], ["1"])
    assert safe.xticks == ([0.0], [SHOWN]) and safe.labels == [(0.0, 1.0, f"1 {SHOWN}", "red")]
    assert safe.legend == [("1", SHOWN, "red")]
    assert spec.title == f"rank distribution of {EVIL}"  # the spec itself keeps the data
