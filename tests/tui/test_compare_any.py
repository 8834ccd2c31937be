"""`c` in Lottery compares any two models in scope, like `lottery compare`: paired where both
have per-image data on a dataset, aggregate-only (unpaired, labelled so) elsewhere; a picked
name reaches the report as the identity it stands for."""

from __future__ import annotations

import pytest

from lottery_tui.report.labels import AGGREGATE, PAIRED
from lottery_tui.tui.screens.pair import PairScreen

from .conftest import (
    DATASETS,
    N_PRED_MODELS,
    make_app,
    model_names,
    open_picker,
    pick_pair,
    type_pair,
)
from .test_identity import CLASH, OTHER, OTHER_TOP1, clash_db  # noqa: F401 (fixture)


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
        screen = await open_picker(app, pilot)
        assert screen.candidates == sorted(model_names())


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
        await type_pair(pilot, await open_picker(app, pilot), "no-such-model", model_names()[0])
        await pilot.pause()
        assert isinstance(app.screen, PairScreen)
        assert "no model no-such-model in scope" in str(
            app.screen.query_one("#pair-status").render()
        )


async def test_c_takes_a_shared_bare_name_as_the_one_model_in_scope_that_has_it(clash_db):  # noqa: F811
    """Two sources have CLASH, so the explorer shows it as SOURCE:NAME; within the synthetic
    source one model has it, and the bare name typed alone compares that one (4 datasets; the
    other source's has 2)."""
    app = make_app(clash_db, source="synthetic")
    async with app.run_test(size=(120, 40)) as pilot:
        rows = await pick_pair(app, pilot, CLASH, model_names()[5])
        assert set(rows) == {d[0] for d in DATASETS}


async def test_c_compares_two_testbed_ssl_models_aggregate_only(shipped_db):
    """The issue's pair: SwAV and SimSiam have aggregates only (imagenet-testbed), so every
    row is the unpaired test, labelled aggregate-only, on ImageNet and its variants alike."""
    app = make_app(shipped_db)
    async with app.run_test(size=(120, 40)) as pilot:
        rows = await pick_pair(app, pilot, "resnet50_swav", "resnet50_simsiam")
        assert {"imagenet", "imagenetv2-matched-frequency", "imagenet-sketch", "imagenet-r"} <= set(
            rows
        )
        assert {r["mode"] for r in rows.values()} == {AGGREGATE}
        assert {r["test"] for r in rows.values()} == {"two-proportion z-test"}
