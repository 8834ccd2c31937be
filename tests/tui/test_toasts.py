"""A toast never covers the table's caption (what the rows are, sorted and filtered how)."""

from __future__ import annotations

from textual.widgets import Static
from textual.widgets._toast import Toast, ToastRack

from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import make_app, settle


async def test_toast_leaves_the_caption_and_the_tabs_visible(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24), notifications=True) as pilot:
        await settle(app, pilot)
        app.notify("copied the row (tab-separated, with header)", timeout=5)
        await pilot.pause(0.3)
        rack = app.screen.get_child_by_type(ToastRack)  # a system widget: not in query()
        toast = next(w for w in rack.walk_children() if isinstance(w, Toast))
        caption = app.query_one("#results-table", ArrowTable).query_one(".caption", Static)
        assert toast.region.height > 0
        assert not toast.region.overlaps(caption.region), (toast.region, caption.region)
        assert toast.region.y >= 2  # below the tab bar
