"""The `d` pane says the unit of every number: percentage points and percent in the variants'
caption, `(%)` in the lottery index's headers, the values scaled to match."""

from __future__ import annotations

import pytest

from lottery_tui.tui.screens.gain import VARIANT_UNITS, GainDetailScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import make_app, settle


async def test_gain_detail_names_its_units(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        app.query_one("#gains-table", ArrowTable).focus_table()
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        screen = app.screen
        assert isinstance(screen, GainDetailScreen)
        variants = screen.query_one("#variants-table", ArrowTable)
        assert variants.note.startswith(f"{VARIANT_UNITS} · p Holm-adjusted over")
        index = screen.query_one("#lottery-index-table", ArrowTable).shown
        assert index.column_names[:4] == ["rule", "index", "probability (%)", "Monte Carlo SE (%)"]
        shown = [float(p) for p in index.column("probability (%)").to_pylist()]
        expected = [100 * row.probability for row in screen.gain.lottery]
        assert shown == pytest.approx(expected, abs=0.005)
