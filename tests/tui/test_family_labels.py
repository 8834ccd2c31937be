"""The compare pane, the Lottery verdicts and the `d` pane each say which adjustment family
their p-values come from (method, over what, how many members) and how many draws they used;
the counts are checked against the rows shown and the adjusted p against statsmodels' Holm
over exactly that family."""

from __future__ import annotations

import pytest
from statsmodels.stats.multitest import multipletests

from lottery_tui.report.labels import PAIRED
from lottery_tui.report.selection import REPORT_RESAMPLES
from lottery_tui.tui.gains import gain_options
from lottery_tui.tui.screens.gain import GainDetailScreen
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import make_app, model_names, settle


def caption(app, table_id: str) -> str:
    return str(app.screen.query_one(f"#{table_id}-caption").render())


async def test_lottery_verdicts_name_their_family_and_draws(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        view = app.query_one("LotteryView")
        gains = list(view.gains.values())
        n = len(gains)
        assert n > 1
        text = caption(app, "gains-table")
        assert f"p Holm-adjusted over {n} gains on imagenet" in text
        assert f"{REPORT_RESAMPLES:,} " in text and "draws" in text
        holm = multipletests([g.p_value for g in gains], method="holm")[1]
        assert [g.p_adjusted for g in gains] == pytest.approx(list(holm))

        app.query_one("#gains-table", ArrowTable).focus_table()
        await pilot.pause()
        await pilot.press("d")
        await pilot.pause()
        assert isinstance(app.screen, GainDetailScreen)
        gain = app.screen.gain
        headline = str(app.screen.query_one("#gain-headline").render())
        assert f"p Holm-adjusted over {n} gains on imagenet" in headline
        k = len(gain.variants)
        text = caption(app, "variants-table")
        assert f"p Holm-adjusted over {k} variants of this gain" in text
        assert f"{REPORT_RESAMPLES:,} " in text
        holm = multipletests([v.p_value for v in gain.variants], method="holm")[1]
        assert [v.p_adjusted for v in gain.variants] == pytest.approx(list(holm))


async def test_compare_pane_names_its_family_and_draws(small_db):
    a, b = model_names()[0], model_names()[1]  # paired on ImageNet val, aggregate-only elsewhere
    app = make_app(small_db)
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        await pilot.press("3")
        await settle(app, pilot)
        view = app.query_one("LotteryView")
        view.compare(view.accepted[a], view.accepted[b], (a, b))
        await settle(app, pilot)
        rows = app.query_one("#compare-table", ArrowTable).shown.to_pylist()
        paired = sum(r["mode"] == PAIRED for r in rows)
        assert paired == 1
        text = caption(app, "compare-table")
        assert f"p Holm-adjusted over {len(rows)} datasets of this pair" in text
        # the verdicts' draws (one pair, one interval), not `lottery compare`'s default
        assert f"{gain_options().resamples:,} bootstrap draws on the 1 paired dataset" in text
        holm = multipletests([r["p_value"] for r in rows], method="holm")[1]
        assert [r["p_adjusted"] for r in rows] == pytest.approx(list(holm), rel=1e-2)
