"""How soon a view switch or a reference/source change says what it computes, and when it is done.

    .venv/bin/python bench/bench_tui_switch.py [--db PATH]

Headless at 80x24 on the store (default: the shipped one, built if missing). For each step the
time from the key to the first frame whose caption says what is computed ("⧗ …", target
<= 0.1 s), and to the result on screen. Medians are not taken: each switch is timed once per
run, in the order a person would go (the first switch pays the view's imports).
"""

from __future__ import annotations

import argparse
import asyncio
import tempfile
import time
from pathlib import Path

from textual.widgets import Static

from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.widgets.arrow_table import ArrowTable


def caption(app: LotteryApp, table_id: str) -> str:
    """The table's caption, or the "opening…" line of the shown view while it is built."""
    tables = app.query(f"#{table_id}")
    if tables:
        return str(tables.first(ArrowTable).query_one(".caption", Static).render())
    pane = app.query_one("#views").active
    opening = app.query(f"#{pane} > .opening")
    return str(opening.first(Static).render()) if opening else ""


async def timed(app: LotteryApp, pilot, start, table_id: str) -> tuple[float, float]:
    t0 = time.perf_counter()
    start()
    said = done = None
    if caption(app, table_id).startswith("⧗"):  # set by the key's own handler, before any await
        said = time.perf_counter() - t0
    while done is None and time.perf_counter() - t0 < 120:
        await pilot.pause(0.005)
        text = caption(app, table_id)
        table = app.query(f"#{table_id}")
        if said is None and text.startswith("⧗"):
            said = time.perf_counter() - t0
        if table and not table.first(ArrowTable).working and table.first().shown is not None:
            done = time.perf_counter() - t0
    return (said if said is not None else float("nan")), (done or float("nan"))


async def main(db: str) -> None:
    app = LotteryApp(db=db, cursor_blink=False, watch_tty=False)
    async with app.run_test(size=(80, 24)) as pilot:
        while app.query_one("#results-table", ArrowTable).shown is None:
            await pilot.pause(0.05)
        steps = [
            (
                "2 Rankings (first showing)",
                lambda: app.action_show_view("rankings"),
                "agreement-table",
            ),
            ("3 Lottery (first showing)", lambda: app.action_show_view("lottery"), "gains-table"),
            (
                "R imagenet-real (Lottery shown)",
                lambda: app.set_reference("imagenet-real"),
                "gains-table",
            ),
            ("S timm (Lottery shown)", lambda: app.set_source("timm"), "gains-table"),
            (
                "2 Rankings (after R, S)",
                lambda: app.action_show_view("rankings"),
                "agreement-table",
            ),
            (
                "R imagenet (Results shown)",
                lambda: (app.action_show_view("results"), app.set_reference("imagenet")),
                "results-table",
            ),
        ]
        print(f"{'step':34} {'says what (s)':>14} {'done (s)':>9}")
        for name, start, table_id in steps:
            said, done = await timed(app, pilot, start, table_id)
            print(f"{name:34} {said:14.3f} {done:9.2f}")


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db")
    args = parser.parse_args()
    db = args.db
    if db is None:
        from lottery_tui.store.seed import build_store

        db = str(Path(tempfile.mkdtemp()) / "results.duckdb")
        build_store(Path(db))
    asyncio.run(main(db))
