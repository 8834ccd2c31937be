"""`c` in Lottery compares any two models in scope, like `lottery compare`: paired where both
have per-image data on a dataset, aggregate-only (unpaired, labelled so) elsewhere; a picked
name reaches the report as the identity it stands for."""

from __future__ import annotations

import pytest
from textual.widgets import Input

from lottery_tui.report.labels import AGGREGATE, PAIRED
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.screens.pair import PairScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import DATASETS, N_PRED_MODELS, make_app, model_names, settle
from .test_identity import CLASH, OTHER, OTHER_TOP1, clash_db  # noqa: F401 (fixture)


async def pick_pair(app: LotteryApp, pilot, a: str, b: str) -> dict[str, dict]:
    """Open Lottery, press `c`, type A and B, compare: the compare pane's rows by dataset."""
    await settle(app, pilot)
    await pilot.press("3")
    await settle(app, pilot)
    await pilot.press("c")
    await pilot.pause()
    assert isinstance(app.screen, PairScreen)
    app.screen.query_one("#pair-a", Input).value = a
    app.screen.query_one("#pair-b", Input).value = b
    app.screen.query_one("#pair-b", Input).focus()
    await pilot.press("enter")
    await settle(app, pilot)
    compare = app.query_one("#compare-table", ArrowTable)
    assert compare.title == f"{a} vs {b}"
    return {r["dataset"]: r for r in compare.shown.to_pylist()}


async def test_c_compares_two_models_without_per_image_data_unpaired(small_db):
    a, b = model_names()[N_PRED_MODELS], model_names()[N_PRED_MODELS + 1]
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        rows = await pick_pair(app, pilot, a, b)
        assert set(rows) == {d[0] for d in DATASETS}
        assert {r["mode"] for r in rows.values()} == {AGGREGATE}
        assert app.query_one("#pair-status").render().plain.startswith(f"A = {a} vs B = {b}")


async def test_c_pairs_only_where_both_have_per_image_data(small_db):
    a, b = model_names()[0], model_names()[1]  # per-image predictions on ImageNet val only
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        rows = await pick_pair(app, pilot, a, b)
        assert rows["imagenet"]["mode"] == PAIRED
        assert {r["mode"] for d, r in rows.items() if d != "imagenet"} == {AGGREGATE}


async def test_c_offers_every_model_in_scope(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        assert app.screen.candidates == sorted(model_names())


@pytest.mark.parametrize("other", [f"{OTHER}:{CLASH}", f"synthetic:{CLASH}"])
async def test_c_hands_the_report_the_identity_picked(clash_db, other):  # noqa: F811
    """Two sources share a name: the explorer shows each as SOURCE:NAME, and the one picked is
    the one compared (its own numbers), never a bare name re-resolved across the store."""
    b = model_names()[5]
    app = make_app(clash_db)
    async with app.run_test(size=(120, 40)) as pilot:
        rows = await pick_pair(app, pilot, other, b)
        if other.startswith(OTHER):
            assert set(rows) == set(OTHER_TOP1)
            assert rows["imagenet"]["acc_a"] == pytest.approx(OTHER_TOP1["imagenet"], abs=0.01)
            assert {r["mode"] for r in rows.values()} == {AGGREGATE}
        else:
            assert set(rows) == {d[0] for d in DATASETS}


async def test_c_refuses_a_model_outside_the_scope(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        await pilot.press("c")
        await pilot.pause()
        app.screen.query_one("#pair-a", Input).value = "no-such-model"
        app.screen.query_one("#pair-b", Input).value = model_names()[0]
        app.screen.query_one("#pair-b", Input).focus()
        await pilot.press("enter")
        await pilot.pause()
        assert isinstance(app.screen, PairScreen)
        assert "no model no-such-model in scope" in str(
            app.screen.query_one("#pair-status").render()
        )
