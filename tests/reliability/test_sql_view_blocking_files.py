"""Issue 19 item 6: `read_text`/`read_csv` of a FIFO in the explorer's SQL view hung its worker
(DuckDB blocks opening a FIFO nobody writes, where cancel cannot reach it). Now the query is
refused before it runs, in one line, and the explorer stays usable."""

from __future__ import annotations

import asyncio
import os
import time
from pathlib import Path

import pytest
from textual.widgets import Static, TextArea

from lottery_tui.store.query_files import BlockingFileError, check_query_files
from lottery_tui.tui.app import LotteryApp

SETTLE_SECONDS = 20  # a hang fails the test instead of hanging the suite
CANCEL_SECONDS = 5.0  # "promptly": the grace before release is 0.5 s


@pytest.fixture
def fifo(tmp_path: Path) -> Path:
    """A FIFO nobody writes: opening it for reading blocks."""
    path = tmp_path / "fifo"
    os.mkfifo(path)
    return path


def _explorer(db: Path) -> LotteryApp:
    return LotteryApp(db=str(db), cursor_blink=False, watch_tty=False)


async def _sql_view(app: LotteryApp, pilot) -> None:
    await asyncio.wait_for(app.workers.wait_for_complete(), SETTLE_SECONDS)
    await pilot.press("5")


async def _start(app: LotteryApp, pilot, sql: str) -> None:
    editor = app.query_one("#sql-editor", TextArea)
    editor.text = sql
    app.screen.set_focus(editor)
    await pilot.press("ctrl+j")


async def _run(app: LotteryApp, pilot, sql: str) -> str:
    await _start(app, pilot, sql)
    await asyncio.wait_for(app.workers.wait_for_complete(), SETTLE_SECONDS)
    await pilot.pause()
    return str(app.query_one("#sql-status", Static).render())


@pytest.mark.parametrize("reader", ["read_text", "read_csv"])
async def test_a_fifo_in_the_sql_view_is_refused_in_one_line(
    reader: str, results_db: Path, fifo: Path
) -> None:
    app = _explorer(results_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _sql_view(app, pilot)
        status = await _run(app, pilot, f"SELECT * FROM {reader}('{fifo}')")
        assert status == (
            f"error: query refused: {fifo} is a FIFO (named pipe), not a regular file: "
            "reading it would block (the console reads only regular files)"
        )
        status = await _run(app, pilot, "SELECT 41 + 1 AS answer")  # still usable
        assert status.startswith("1 row"), status


def test_globs_symlinks_and_home_are_followed(tmp_path: Path, monkeypatch) -> None:
    os.mkfifo(tmp_path / "b.csv")
    (tmp_path / "a.csv").write_text("x\n1\n")
    (tmp_path / "link.csv").symlink_to(tmp_path / "b.csv")
    monkeypatch.setenv("HOME", str(tmp_path))
    for literal in [f"{tmp_path}/*.csv", str(tmp_path / "link.csv"), "~/b.csv"]:
        with pytest.raises(BlockingFileError, match="is a FIFO"):
            check_query_files(f"SELECT * FROM read_csv('{literal}')")


def test_ordinary_literals_and_directories_pass(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text("x\n1\n")
    sql = (
        f"SELECT * FROM read_csv('{tmp_path}/a.csv') WHERE x <> 'it''s' AND y = '{tmp_path}'"
        " AND z = 'https://example.org/a.csv'"
    )
    assert check_query_files(sql) is None  # a regular file, a directory, a URL: none refused


async def test_cancel_ends_a_query_blocked_on_a_computed_fifo_path(
    results_db: Path, fifo: Path
) -> None:
    """A path the query builds escapes the literal check; cancel still stops it promptly."""
    app = _explorer(results_db)
    async with app.run_test(size=(100, 30)) as pilot:
        await _sql_view(app, pilot)
        await _start(app, pilot, f"SELECT * FROM read_text('{fifo.parent}/' || 'fi' || 'fo')")
        await pilot.pause(1.0)  # running, blocked opening the FIFO
        assert app.query_one("SqlView").running
        started = time.monotonic()
        await pilot.press("ctrl+g")
        await asyncio.wait_for(app.workers.wait_for_complete(), CANCEL_SECONDS)
        await pilot.pause()
        print(f"cancel took {time.monotonic() - started:.2f} s")
        assert str(app.query_one("#sql-status", Static).render()) == "query cancelled"
        assert not app.query_one("SqlView").running
