"""The explorer's structure: the scope is one reactive value that every view follows, the app
alone opens screens, what a view computed is kept per scope (going back is instant), and the
statistics are imported in the background once the first screen is painted."""

from __future__ import annotations

import dataclasses
import subprocess
import sys
from pathlib import Path

import pytest
from textual.widgets import Input

from lottery_tui.tui.messages import OpenScreen
from lottery_tui.tui.scope import Scope
from lottery_tui.tui.screens.pair import PairScreen
from lottery_tui.tui.views.base import ExplorerView
from lottery_tui.tui.views.lottery import LotteryView
from lottery_tui.tui.views.plots import PlotsView
from lottery_tui.tui.views.rankings import RankingsView
from lottery_tui.tui.views.registry import BY_KEY
from lottery_tui.tui.widgets.arrow_table import ArrowTable

from .conftest import make_app, model_names, settle, type_batch

ROOT = Path(__file__).resolve().parents[2]


def caption(table: ArrowTable) -> str:
    return str(table.query_one(".caption").render())


def test_the_scope_is_one_frozen_value():
    scope = Scope("imagenet", "timm", "self-supervised", None)
    with pytest.raises(dataclasses.FrozenInstanceError):
        scope.reference = "imagenet-real"  # type: ignore[misc]
    reference, models = scope  # the pair every statistic takes
    assert reference == "imagenet" and models.source == "timm"
    assert scope.tags.source is None and scope.tags.pretraining == "self-supervised"


async def test_R_S_T_replace_the_scope_and_every_built_view_follows(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        for key in "234":
            type_batch(app, key)
            await settle(app, pilot)
        assert all(isinstance(v, ExplorerView) for v in app._views.values())
        seen: list[Scope] = []
        app.watch(app, "scope", lambda scope: seen.append(scope), init=False)
        before = app.scope
        app.set_reference("imagenet-real")
        app.set_tag("pretraining", "supervised")
        app.set_tag("pretraining", None)
        app.set_source("synthetic")
        app.set_source("synthetic")  # the same scope again: nobody is told
        assert seen == [
            Scope("imagenet-real"),
            Scope("imagenet-real", pretraining="supervised"),
            Scope("imagenet-real"),
            Scope("imagenet-real", "synthetic"),
        ]
        assert before == Scope() and app.scope == seen[-1]
        await settle(app, pilot)
        plots = app.query_one(PlotsView)  # shown: redrawn for the new scope
        assert (app.scope, plots._request()) in plots.plots
        type_batch(app, "2")  # hidden while the scope changed: recomputed when shown
        await settle(app, pilot)
        rankings = app.query_one(RankingsView)
        assert rankings.computed_for == app.scope
        assert "imagenet-real" in caption(rankings.query_one("#agreement-table", ArrowTable))


async def test_going_back_to_a_scope_shows_what_was_computed_at_once(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "2")
        await settle(app, pilot)
        table = app.query_one("#agreement-table", ArrowTable)
        first = table.source
        assert first is not None and first.num_rows > 0
        app.set_reference("imagenet-real")  # Rankings shown: recomputed
        await settle(app, pilot)
        assert "imagenet-real" in caption(table)
        app.set_reference("imagenet")
        # Synchronously, with no worker: the table of the first visit, not a "computing" line.
        assert table.source is first and not table.working
        assert "Rank agreement with imagenet:" in caption(table)


async def test_verdicts_are_kept_per_scope_and_top(small_db):
    app = make_app(small_db)
    async with app.run_test(size=(80, 24)) as pilot:
        await settle(app, pilot)
        type_batch(app, "3")
        await settle(app, pilot)
        lottery = app.query_one(LotteryView)
        gains = lottery.query_one("#gains-table", ArrowTable)
        shown = gains.source
        app.set_source("synthetic")
        await settle(app, pilot)
        app.set_source(None)
        assert gains.source is shown and not gains.working
        assert set(lottery.verdicts) == {(Scope(), None), (Scope(source="synthetic"), None)}


async def test_a_view_asks_the_app_for_its_dialog_and_the_keys_typed_with_it_reach_it(small_db):
    app = make_app(small_db)
    pushed: list[object] = []
    async with app.run_test(size=(120, 40)) as pilot:
        await settle(app, pilot)
        type_batch(app, "3")
        await settle(app, pilot)
        original = app.push_screen

        def spy(screen, *args, **kwargs):
            pushed.append(screen)
            return original(screen, *args, **kwargs)

        posted = app.post_message

        def asked(message):
            if isinstance(message, OpenScreen):
                asks.append(message.screen)
            return posted(message)

        asks: list[object] = []
        app.push_screen = spy
        app.post_message = asked
        name = model_names()[7]
        type_batch(app, "c", *name)  # one batch, as over SSH
        await settle(app, pilot)
        assert isinstance(app.screen, PairScreen) and pushed == asks == [app.screen]
        assert app.screen.query(Input).first().value == name


def test_the_runs_view_is_built_with_the_store_from_its_registry_entry():
    assert BY_KEY["runs"].uses_store
    assert not any(spec.uses_store for key, spec in BY_KEY.items() if key != "runs")


def test_the_statistics_are_imported_after_the_first_paint(small_db):
    code = f"""
import sys, threading
from lottery_tui.tui.app import LotteryApp

class Probe(LotteryApp):
    def on_ready(self):
        self.early = "scipy.stats" in sys.modules
        self.set_interval(0.05, self.check)
    def check(self):
        loader = [t for t in threading.enumerate() if t.name == "preload"]
        if "lottery_tui.report.service" in sys.modules and not loader:
            self.exit(self.early)

app = Probe(db={str(small_db)!r}, watch_tty=False)
print(app.run(headless=True, size=(80, 24)))
"""
    result = subprocess.run(
        [sys.executable, "-c", code], capture_output=True, text=True, cwd=ROOT, timeout=120
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip().splitlines()[-1] == "False"  # not before the first screen
