"""At 80 columns the footer shows `T` (the scope group: R, S, T) and `q` in every view, and no
item is cut at the end."""

from __future__ import annotations

from textual.widgets import Footer
from textual.widgets._footer import FooterKey, FooterLabel

from .conftest import make_app, settle


async def test_footer_reaches_tags_and_quit_at_80_columns(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for view in "1234":
            await pilot.press(view)
            await settle(app, pilot)
            footer = app.screen.query_one(Footer)
            items = [*footer.query(FooterKey), *footer.query(FooterLabel)]
            keys = {k.key for k in footer.query(FooterKey)}
            assert {"T", "q"} <= keys, (view, keys)
            for item in items:  # wholly inside the 80 columns
                assert item.region.right <= 80 and item.region.width > 0, (view, item)
