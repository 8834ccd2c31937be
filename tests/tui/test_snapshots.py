"""SVG snapshots at 80x24 and 120x40 (deterministic: seeded store, no timings, no blinking).

Accept a deliberate change with `pytest tests/tui/test_snapshots.py --snapshot-update` after
looking at the new SVGs in tests/tui/__snapshots__/.
"""

from __future__ import annotations

from textual.pilot import Pilot
from textual.widgets import TextArea

from .conftest import make_app, settle


async def ready(pilot: Pilot) -> None:
    """Before the snapshot: every worker done and its messages handled."""
    await settle(pilot.app, pilot)


def test_results_80x24(snap_compare, small_db):
    assert snap_compare(make_app(small_db), terminal_size=(80, 24), run_before=ready)


def test_results_120x40(snap_compare, small_db):
    assert snap_compare(make_app(small_db), terminal_size=(120, 40), run_before=ready)


def test_help_80x24(snap_compare, small_db):
    async def open_help(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("question_mark")
        await pilot.pause()

    assert snap_compare(make_app(small_db), terminal_size=(80, 24), run_before=open_help)


def test_rankings_120x40(snap_compare, small_db):
    async def show_rankings(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("2")
        await ready(pilot)

    assert snap_compare(make_app(small_db), terminal_size=(120, 40), run_before=show_rankings)


def test_sql_error_80x24(snap_compare, small_db):
    async def bad_query(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("5")
        await ready(pilot)
        editor = pilot.app.query_one("#sql-editor", TextArea)
        editor.text = "SELECT nope FROM results"
        await pilot.press("ctrl+j")
        await ready(pilot)

    assert snap_compare(make_app(small_db), terminal_size=(80, 24), run_before=bad_query)


def test_rankings_80x24(snap_compare, small_db):
    async def show_rankings(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("2")
        await ready(pilot)

    assert snap_compare(make_app(small_db), terminal_size=(80, 24), run_before=show_rankings)


def test_reference_picker_80x24(snap_compare, small_db):
    async def open_picker(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("R")
        await pilot.pause()

    assert snap_compare(make_app(small_db), terminal_size=(80, 24), run_before=open_picker)


def test_gain_detail_80x24(snap_compare, small_db):
    async def open_gain(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("3")
        await ready(pilot)
        await pilot.press("d")
        await pilot.pause()

    assert snap_compare(make_app(small_db), terminal_size=(80, 24), run_before=open_gain)


def test_source_picker_80x24(snap_compare, two_source_db):
    async def open_picker(pilot: Pilot) -> None:
        await ready(pilot)
        await pilot.press("S")
        await ready(pilot)

    assert snap_compare(make_app(two_source_db), terminal_size=(80, 24), run_before=open_picker)
