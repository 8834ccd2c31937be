"""Pilot tests: the reference picker (`R`, `--reference`) and a gain per variant (`d`)."""

from __future__ import annotations

import pytest
from statsmodels.stats.multitest import multipletests
from textual.widgets import Input, OptionList, Static

from lottery_tui.cli.main import build_parser
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.screens.gain import GainDetailScreen
from lottery_tui.tui.screens.reference import ReferenceScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import DATASETS, N_MODELS, make_app, settle

OUTCOMES = {"holds", "reverses", "inconclusive"}


async def choose_reference(app: LotteryApp, pilot, dataset: str) -> None:
    """`R`, then arrow keys to `dataset` in the picker, then Enter."""
    await pilot.press("R")
    await pilot.pause()
    assert isinstance(app.screen, ReferenceScreen)
    options = app.screen.query_one(OptionList)
    ids = [options.get_option_at_index(i).id for i in range(options.option_count)]
    if app.reference in ids:
        assert ids[options.highlighted] == app.reference  # the current one is highlighted
    steps = ids.index(dataset) - options.highlighted
    await pilot.press(*(["down"] * steps if steps > 0 else ["up"] * -steps), "enter")
    await settle(app, pilot)


def results_rows(app: LotteryApp) -> list[dict]:
    return app.query_one("#results-table", ArrowTable).shown.to_pylist()


def check_against_reference(rows: list[dict], ref: str, other: str) -> None:
    """Δ and rank change on `other` follow from the table's own top-1 and rank columns."""
    for row in rows:
        if row[ref] is None or row[other] is None:
            continue
        assert float(row[f"{other} Δ"]) == pytest.approx(float(row[other]) - float(row[ref]))
        assert row[f"{other} ±#"] == row[f"{ref} #"] - row[f"{other} #"]
    ranks = [r[f"{ref} #"] for r in rows if r[f"{ref} #"] is not None]
    assert ranks == sorted(ranks)  # best on the reference first


async def test_reference_picker_reloads_results(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await choose_reference(app, pilot, "imagenet-real")
        assert app.reference == "imagenet-real"
        assert not isinstance(app.screen, ReferenceScreen)
        rows = results_rows(app)
        assert "ReaL Δ" not in rows[0] and "IN Δ" in rows[0]
        check_against_reference(rows, "ReaL", "IN")
        check_against_reference(rows, "ReaL", "Sketch")
        caption = app.query_one("#results-table", ArrowTable).query_one(".caption", Static)
        assert "reference ReaL" in str(caption.render())


async def test_reference_picker_escape_keeps_reference(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("R")
        await pilot.pause()
        await pilot.press("down", "escape")
        await settle(app, pilot)
        assert app.reference == "imagenet"
        check_against_reference(results_rows(app), "IN", "ReaL")
        await pilot.press("slash", "R")  # in a text box, R is a letter
        await pilot.pause()
        assert not isinstance(app.screen, ReferenceScreen)
        assert app.query_one("#results-filter", Input).value == "R"


async def test_rankings_and_lottery_follow_the_reference(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("2")
        await settle(app, pilot)
        await choose_reference(app, pilot, "imagenet-sketch")  # while Rankings is shown
        agreement = app.query_one("#agreement-table", ArrowTable)
        others = {d[0] for d in DATASETS} - {"imagenet-sketch"}
        assert set(agreement.shown.column("dataset").to_pylist()) == others
        assert agreement.title == "Rank agreement with imagenet-sketch"
        await pilot.press("3")
        await settle(app, pilot)
        view = app.query_one("#lottery-view")
        assert view.gains
        sketch = {r["model"]: float(r["Sketch"]) for r in results_rows(app)}
        for (model, below), gain in view.gains.items():
            assert gain.reference == "imagenet-sketch"
            assert sketch[model] >= sketch[below]  # a gain is over the next one down there
            assert {v.dataset for v in gain.variants} == others


async def test_reference_from_the_command_line(small_db):
    args = build_parser().parse_args(["--reference", "imagenetv2-matched-frequency"])
    assert args.command is None and args.reference == "imagenetv2-matched-frequency"
    app = make_app(small_db, reference=args.reference)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        check_against_reference(results_rows(app), "V2", "IN")


async def test_unknown_reference_is_reported_and_can_be_changed(small_db):
    app = make_app(small_db, reference="no-such-dataset")
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        table = app.query_one("#results-table", ArrowTable)
        caption = str(table.query_one(".caption", Static).render())
        assert caption.startswith("cannot load results: ")
        assert "'no-such-dataset'" in caption
        await choose_reference(app, pilot, "imagenet")
        assert table.shown.num_rows == N_MODELS
        check_against_reference(results_rows(app), "IN", "ReaL")


async def test_gain_detail_per_variant_and_lottery_index(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        top1 = {r["model"]: r for r in results_rows(app)}
        await pilot.press("3")
        await settle(app, pilot)
        gains = app.query_one("#gains-table", ArrowTable)
        gains.focus_table()
        await pilot.pause()
        await pilot.press("down", "d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GainDetailScreen)
        second = gains.shown.slice(1, 1).to_pylist()[0]
        gain = screen.gain
        view = app.screen_stack[0].query_one("LotteryView")
        assert (view.shown_name(gain.model), view.shown_name(gain.below)) == (
            second["model"],
            second["below"],
        )
        variants = screen.query_one("#variants-table", ArrowTable).shown.to_pylist()
        assert {v["dataset"] for v in variants} == {d[0] for d in DATASETS} - {"imagenet"}
        labels = {
            "imagenet-real": "ReaL",
            "imagenet-sketch": "Sketch",
            "imagenetv2-matched-frequency": "V2",
        }
        a, b = top1[second["model"]], top1[second["below"]]
        sizes = {d[0]: d[2] for d in DATASETS}
        holm = multipletests([g.p_value for g in screen.gain.variants], method="holm")[1]
        adjusted = {g.dataset: p for g, p in zip(screen.gain.variants, holm, strict=True)}
        for v in variants:
            assert v["outcome"] in OUTCOMES
            assert v["p_adjusted"] == pytest.approx(float(f"{adjusted[v['dataset']]:.3g}"))
            # Aggregate-only here: delta is the top-1 difference, from counts k = round(acc x n)
            # (each within half an image) and shown to 0.01 pp.
            label = labels[v["dataset"]]
            slack = 100 / sizes[v["dataset"]] + 0.005
            assert float(v["delta"]) == pytest.approx(float(a[label]) - float(b[label]), abs=slack)
        index = screen.query_one("#lottery-index-table", ArrowTable).shown.to_pylist()
        assert [r["rule"] for r in index] == [r.rule for r in screen.gain.lottery]
        expected = [2 * min(lp.probability, 1 - lp.probability) for lp in screen.gain.lottery]
        assert index
        assert [float(r["index"]) for r in index] == pytest.approx(expected, abs=5e-4)
        await pilot.press("escape")
        assert not isinstance(app.screen, GainDetailScreen)


async def test_command_palette_opens_the_reference_picker(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"reference dataset")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, ReferenceScreen)


async def test_command_palette_shows_a_gain_per_variant(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        await pilot.press("ctrl+p")
        await pilot.pause()
        await pilot.press(*"gain per variant")
        await pilot.pause(0.5)
        await pilot.press("enter")
        await pilot.pause()
        await pilot.pause()
        assert isinstance(app.screen, GainDetailScreen)
        first = app.query_one("#gains-table", ArrowTable).shown.slice(0, 1).to_pylist()[0]
        gain = app.screen.gain
        view = app.screen_stack[0].query_one("LotteryView")
        assert (view.shown_name(gain.model), view.shown_name(gain.below)) == (
            first["model"],
            first["below"],
        )
