"""Typed worker messages: each kind reaches its own handler, and a result computed for a scope
the user has left is dropped (the string keys they replace could be mistyped silently)."""

from __future__ import annotations

import pytest
from textual.widgets import Static

from lottery_tui.tui import messages
from lottery_tui.tui.chartspec import ChartSpec
from lottery_tui.tui.views.rankings import RankingsView
from lottery_tui.tui.widgets.arrow_table import ArrowTable
from lottery_tui.tui.widgets.chart import ChartPanel

from .conftest import make_app, settle, type_batch


def text(widget: Static) -> str:
    return str(widget.render())


def test_every_failure_is_a_failed_and_carries_its_line():
    failures = [
        c
        for c in vars(messages).values()
        if isinstance(c, type) and c is not messages.Failed and issubclass(c, messages.Failed)
    ]
    assert len(failures) >= 9  # one per result kind that can fail
    for kind in failures:
        assert kind("boom").error == "boom"
    with pytest.raises(TypeError):
        messages.BumpLoaded(("imagenet", None))  # a field forgotten is an error, not a None


async def test_each_kind_reaches_its_own_handler_and_stale_scopes_are_dropped(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "2")
        await settle(app, pilot)
        view = app.query_one(RankingsView)
        chart = view.query_one(ChartPanel)
        caption = chart.query_one(".caption", Static)
        agreement = view.query_one("#agreement-table", ArrowTable)
        drawn = text(caption)
        assert drawn.startswith("bump: top")

        view.post_message(messages.AgreementFailed("disk on fire"))
        await pilot.pause()
        assert "rank agreement unavailable: disk on fire" in text(
            agreement.query_one(".caption", Static)
        )
        assert text(caption) == drawn  # the bump chart is not the agreement's

        stale = ("imagenet-sketch", "nowhere")
        assert stale != app.scope
        spec = ChartSpec(title="stale")
        view.post_message(messages.BumpLoaded(stale, spec))
        view.post_message(messages.RankingsSummaryLoaded(stale, "stale summary"))
        await pilot.pause()
        assert text(caption) == drawn and chart.spec is not spec
        assert text(view.query_one("#rankings-summary", Static)) != "stale summary"

        view.post_message(messages.BumpFailed("no ranks"))
        await pilot.pause()
        assert text(caption) == "bump view unavailable: no ranks"
