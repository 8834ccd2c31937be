"""Charts read right at 80x24 and 120x40: every scatter point drawn over the fit, marked models
named, bump labels never overlapping and every line drawn, every tau row on screen.

Each test reads what the chart widget renders (the text and colours plotext draws), not only
the spec it was given.
"""

from __future__ import annotations

from dataclasses import replace

import pyarrow as pa
import pytest
from rich.text import Text
from textual.geometry import Region
from textual.widget import Widget
from textual_plotext import PlotextPlot

from lottery_tui.tui.chartspec import Series, bump_spec, scatter_spec
from lottery_tui.tui.views.plots import PlotsView
from lottery_tui.tui.views.rankings import MAX_TOP
from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.chart import ChartPanel, apply_spec, plot_rows, row_labels

from .conftest import N_MODELS, make_app, settle, type_batch

SIZES = [(80, 24), (120, 40)]
BRAILLE = range(0x2800, 0x2900)


def rendered(plot: PlotextPlot) -> Text:
    text = plot.render()
    assert isinstance(text, Text)
    return text


def cells(text: Text) -> list[str]:
    return text.plain.split("\n")


def dots(plot: PlotextPlot, series: Series) -> dict[tuple[int, int], int]:
    """The braille dots (cell -> bits) `series` alone sets in this plot: plotext's own mapping
    of data to cells, read back from its render at the widget's size."""
    panel = plot.parent
    assert isinstance(panel, ChartPanel) and panel.spec is not None
    empty = replace(panel.spec, series=[], labels=[])
    apply_spec(plot.plt, empty)
    blank = cells(rendered(plot))
    apply_spec(plot.plt, replace(empty, series=[series]))
    drawn = cells(rendered(plot))
    found = {}
    for row, (a, b) in enumerate(zip(blank, drawn, strict=True)):
        for col, (ca, cb) in enumerate(zip(a, b, strict=True)):
            if ca != cb and ord(cb) in BRAILLE:
                found[(row, col)] = ord(cb) - 0x2800
    return found


@pytest.mark.parametrize("size", SIZES)
async def test_scatter_draws_every_point_over_the_fit_and_keys_marked_models(small_db, size):
    app = make_app(small_db)
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("space", "down", "down", "space", "4")  # mark the 1st and 3rd
        await settle(app, pilot)
        panel = app.query_one("#plot-chart", ChartPanel)
        spec = panel.spec
        assert spec is not None
        points, fit = spec.series[0], spec.series[1]
        assert len(points.x) == N_MODELS and fit.label == "logit fit"
        marked = [s for s in spec.series[2:]]
        assert len(marked) == 2
        plot = panel.query_one(PlotextPlot)
        full = cells(rendered(plot))
        keys = {}
        for s in marked:  # each marked model drawn as its key, named whole in the legend
            (cell,) = dots(plot, replace(s, marker="braille"))
            keys[cell] = s.marker
            assert full[cell[0]][cell[1]] == s.marker
        legend = str(panel.query_one(".legend").render())
        assert all(f"{s.marker} {s.label}" in legend for s in marked)
        drawn = 0
        for x, y in zip(points.x, points.y, strict=True):
            ((row, col), bits), *_ = dots(plot, replace(points, x=[x], y=[y])).items()
            if (row, col) in keys:
                continue
            char = full[row][col]
            assert ord(char) in BRAILLE and (ord(char) - 0x2800) & bits == bits, (row, col)
            drawn += 1
        covered = [
            (x, y)
            for x, y in zip(points.x, points.y, strict=True)
            if next(iter(dots(plot, replace(points, x=[x], y=[y])))) in keys
        ]
        assert drawn + len(covered) == N_MODELS
        assert len(covered) == len(marked)  # only the marked models' own cells hold a key


def label_rows(text: Text, labels: list[tuple[float, float, str, str]]) -> dict[str, int]:
    """The row each label's text is found whole on."""
    lines = cells(text)
    found = {}
    for _, _, label, _ in labels:
        rows = [i for i, line in enumerate(lines) if label in line]
        assert rows, f"label {label!r} not drawn whole"
        found[label] = rows[0]
    return found


def line_colours(text: Text) -> set[str]:
    """Foreground colours of the braille cells: the lines drawn (the frame is not braille)."""
    colours = set()
    for span in text.spans:
        if any(ord(ch) in BRAILLE for ch in text.plain[span.start : span.end]):
            style = span.style
            assert not isinstance(style, str)
            if style.color is not None:
                colours.add(style.color.name)
    return colours


async def show_bump(app, pilot, height: int) -> ChartPanel:
    await settle(app, pilot)
    await pilot.press("2")
    await settle(app, pilot)
    if height < 30:  # the table and the bump view take turns
        await pilot.press("b")
        await pilot.pause()
    return app.query_one("#bump-chart", ChartPanel)


@pytest.mark.parametrize("size", SIZES)
async def test_bump_labels_never_overlap_and_every_line_is_drawn(small_db, size):
    app = make_app(small_db)
    async with app.run_test(size=size) as pilot:
        panel = await show_bump(app, pilot, size[1])
        for _ in range(2):  # the default N, then the most lines (labels merged if need be)
            spec = panel.spec
            assert spec is not None
            plot = panel.query_one(PlotextPlot)
            rows = plot_rows(spec, plot.size.height)
            labels = row_labels(spec, rows)
            text = rendered(plot)
            found = label_rows(text, labels)
            assert len(set(found.values())) == len(found)  # one label per row
            keys = [k for label in found for k in label.split(" ")[0].split(",")]
            ended = [s for s in spec.series if s.x and s.x[-1] == spec.series[0].x[-1]]
            assert sorted(keys, key=int) == sorted(
                (str(i + 1) for i, s in enumerate(spec.series) if s in ended), key=int
            )
            assert len(line_colours(text)) == len(spec.series)
            legend = str(panel.query_one(".legend").render())
            assert all(name in legend for _, name, _ in spec.legend)
            caption = str(panel.query_one(".caption").render())
            assert ("lines in" in caption) == (spec.rows_needed > rows)
            await pilot.press(*["plus"] * MAX_TOP)
            await settle(app, pilot)
        assert len(panel.spec.series) == MAX_TOP


def screen_lines(widget: Widget) -> list[str]:
    """What `widget` shows on screen now, line by line."""
    region = Region(0, 0, widget.size.width, widget.size.height)
    return ["".join(seg.text for seg in strip) for strip in widget.render_lines(region)]


@pytest.mark.parametrize("size", SIZES)
async def test_tau_table_shows_every_variant(shipped_db, size):
    """The testbed has 11 variants of ImageNet: all on screen at 80x24 (issue 20 saw 3)."""
    app = make_app(shipped_db, source="imagenet-testbed")
    async with app.run_test(size=size) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        table = app.query_one("#agreement-table", ArrowTable)
        datasets = table.shown.column("dataset").to_pylist()
        assert len(datasets) == 11
        shown = "\n".join(screen_lines(table.data_table))
        assert all(name in shown for name in datasets), shown
        chart = app.query_one("#bump-chart", ChartPanel)
        assert chart.display == (size[1] >= 30)  # below 30 rows: `b` shows it


def test_a_marked_model_without_a_result_keeps_its_key_and_is_named():
    points = pa.table(
        {"model": ["a", "b", "c"], "ref_top1": [70.0, 75.0, 80.0], "top1": [60.0, 66.0, 71.0]}
    )
    spec = scatter_spec(points, "IN", "R", (0.0, 1.0), ["x", "b"])
    assert [s.label for s in spec.series[2:]] == ["b"]  # only what has a point is drawn
    assert spec.series[2].marker == "2"  # its key as if every marked model were drawn
    assert spec.legend[-2][:2] == ("1", "x · no result on R")
    assert spec.legend[-1][:2] == ("2", "b")


def test_bump_leaves_out_datasets_none_of_the_lines_reach():
    ranks = pa.table(
        {
            "model": ["a", "b", "a", "b", "a", "b"],
            "dataset_index": [0, 0, 1, 1, 3, 3],
            "rank": [1, 2, 2, 1, 1, 2],
        }
    )
    spec = bump_spec(ranks, ["IN", "V2", "A", "R", "C"], "")
    assert spec.xticks is not None and spec.xticks[1] == ["IN", "V2", "R"]
    assert [s.x for s in spec.series] == [[0.0, 1.0, 2.0]] * 2
    assert sorted(text for _, _, text, _ in spec.labels) == ["1 a", "2 b"]  # both reach R


async def settle_group(app, pilot, group: str, ready=lambda: True) -> None:
    """Wait until `ready()` and no worker of `group` runs: `settle` would raise on the
    workers a newer key cancelled."""
    for _ in range(600):
        await pilot.pause(0.05)
        if ready() and not any(w.group == group and not w.is_finished for w in app.workers):
            break
    await pilot.pause()


async def test_variant_keys_typed_before_the_first_scatter_count(small_db):
    """`]]` typed while the first scatter loads: both steps count though the variants are not
    known yet (they were taken modulo 1 and lost)."""
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("4")  # the view is shown; its scatter is loading
        for _ in range(200):  # keys reach it once it has the focus (the app's key routing)
            if isinstance(app.focused, PlotsView):
                break
            await pilot.pause(0.01)
        type_batch(app, "right_square_bracket", "right_square_bracket")
        await settle_group(app, pilot, "plot", lambda: bool(app.query_one(PlotsView).datasets))
        view = app.query_one(PlotsView)
        labels = [d.label for d in view.datasets]
        assert len(labels) == 4  # the reference and three variants: ]] goes to the third
        assert view.query_one(ChartPanel).spec.title.startswith(f"top-1: {labels[3]} vs")


async def test_bump_shows_the_lines_of_the_last_key_typed(small_db):
    """`-` five times in one read: the chart ends with the top N its caption names (a thread
    worker finishes though cancelled, and an older N's lines could land last)."""
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        panel = await show_bump(app, pilot, 40)
        first = len(panel.spec.series)
        type_batch(app, *["minus"] * 5)
        await settle_group(app, pilot, "bump")
        assert len(panel.spec.series) == first - 5
        assert f"top {first - 5} on" in str(panel.query_one(".caption").render())
