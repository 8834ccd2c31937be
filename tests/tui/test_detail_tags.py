"""The model detail names the model's framework, pretraining and protocol: the tags the
store derived with its one rule (`store/pretraining.tags`), the ones `T` and `lottery models`
filter on."""

from __future__ import annotations

from textual.widgets import Static

from lottery_tui.store.pretraining import tags
from lottery_tui.tui.screens.detail import ModelDetailScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import make_app, settle

SOURCE = "imagenet-testbed"


async def test_detail_names_the_tags_of_the_one_rule(shipped_db):
    app = make_app(shipped_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("slash", *"resnet50_swav", "enter")
        await settle(app, pilot)
        shown = app.query_one("#results-table", ArrowTable).shown.column("model").to_pylist()
        assert shown == ["resnet50_swav"]
        await pilot.press("enter")
        await settle(app, pilot)
        screen = app.screen
        assert isinstance(screen, ModelDetailScreen)
        meta = str(screen.query_one("#detail-meta", Static).render())
        expected = tags("resnet50_swav", SOURCE)
        assert expected.framework == "swav" and expected.pretraining == "self-supervised"
        assert (
            f"framework: {expected.framework}  pretraining: {expected.pretraining}  "
            f"protocol: {expected.protocol}"
        ) in meta
        assert f"source: {SOURCE}" in meta
