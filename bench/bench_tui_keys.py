"""Key press to table shown, for the explorer's keys that compute: headless and in tmux at 80x24.

    .venv/bin/python bench/bench_tui_keys.py [--db PATH] [--repeat 3] [--mode both|pilot|tmux]

Run it with PYTHONPATH at the code to measure (a worktree, or main for "before"). Each repeat is
a fresh explorer on the store (default: the shipped one, built in a temporary folder), taken
through the steps a person takes: `2` Rankings, `3` Lottery, `4` Plots, then `R` with Lottery
shown (picker, then the verdicts on ReaL), `2` on ReaL, and `R` back to ImageNet with Rankings
shown (a scope seen before). Each step is timed from the key to the first moment its text is on
screen, the same patterns in both modes:

- `pilot`: `App.run_test` at 80x24; the text is every caption and status line on the screen;
- `tmux`: the real `lottery` command in a detached tmux session at 80x24, keys sent with
  `send-keys`, the pane polled with `capture-pane` (conditions, never fixed sleeps).

`--pause` is a person's look at the first screen before the first key (default 3 s): the
statistics modules are imported in that time, after the first paint. Target: every step within
1 s. `cat /proc/loadavg` is printed before and after: the machine is
shared, and the same key under load is what the target is about.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import re
import shlex
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

TIMEOUT = 60.0
POLL = 0.01
SIZE = (80, 24)
FIRST_ROW = r"eva02_large_patch14_448"  # the shipped store's best model on ImageNet


@dataclass(frozen=True)
class Step:
    name: str
    keys: tuple[str, ...]
    shown: str  # a regex over the screen's text: the step is done when it matches
    timed: bool = True  # False: a key that opens a picker, not itself a result


STEPS = (
    Step("2 Rankings", ("2",), r"Rank agreement with imagenet: \d+ of"),
    Step("3 Lottery", ("3",), r"Marginal gains on imagenet: \d+ of"),
    Step("4 Plots", ("4",), r"ReaL vs IN: [\d,]+ models"),
    Step("3 back", ("3",), r"Marginal gains on imagenet: \d+ of", timed=False),
    Step("R picker", ("R",), r"Reference dataset", timed=False),
    Step("R ReaL (Lottery shown)", ("down", "enter"), r"Marginal gains on imagenet-real: \d+ of"),
    Step("2 Rankings on ReaL", ("2",), r"Rank agreement with imagenet-real: \d+ of"),
    Step("R picker again", ("R",), r"Reference dataset", timed=False),
    Step("R back to IN (Rankings shown)", ("up", "enter"), r"Rank agreement with imagenet: \d+ of"),
)


def loadavg() -> str:
    return Path("/proc/loadavg").read_text().strip()


def store_or_shipped(db: str | None, folder: Path) -> str:
    """`db`, or a store built from the shipped data in `folder`."""
    if db is not None:
        return db
    from lottery_tui.store.seed import build_store

    path = folder / "results.duckdb"
    build_store(path)
    return str(path)


# ----- headless ------------------------------------------------------------------------------


def screen_text(app) -> str:
    """Every caption and status line the current screen shows (what a person reads first)."""
    from textual.widgets import Static

    def shown(widget) -> bool:
        return widget.is_attached and all(
            getattr(node, "display", True) for node in widget.ancestors_with_self
        )

    return "\n".join(str(w.render()) for w in app.screen.query(Static) if shown(w))


async def pilot_run(db: str, pause: float) -> dict[str, float]:
    from lottery_tui.tui.app import LotteryApp

    app = LotteryApp(db=db, cursor_blink=False, watch_tty=False)
    out: dict[str, float] = {}
    async with app.run_test(size=SIZE) as pilot:
        await until(pilot, lambda: re.search("reference IN", screen_text(app)), app)
        await pilot.pause(pause)
        for step in STEPS:
            t0 = time.perf_counter()
            await pilot.press(*step.keys)
            await until(pilot, lambda s=step: re.search(s.shown, screen_text(app)), app)
            out[step.name] = time.perf_counter() - t0
    return out


async def until(pilot, condition: Callable[[], object], app) -> None:
    deadline = time.perf_counter() + TIMEOUT
    while not condition():
        if time.perf_counter() > deadline:
            raise TimeoutError(f"the expected text never appeared:\n{screen_text(app)}")
        await pilot.pause(POLL)


# ----- tmux ----------------------------------------------------------------------------------


def tmux(*args: str) -> str:
    return subprocess.run(["tmux", *args], capture_output=True, text=True, check=True).stdout


def pane(session: str) -> str:
    return tmux("capture-pane", "-p", "-t", session)


def wait_for(session: str, pattern: str) -> None:
    deadline = time.perf_counter() + TIMEOUT
    while not re.search(pattern, pane(session)):
        if time.perf_counter() > deadline:
            raise TimeoutError(f"{pattern!r} never appeared:\n{pane(session)}")
        time.sleep(POLL)


def tmux_session(command: list[str]) -> str:
    """Start `command` in a detached tmux session at 80x24, with this process's PYTHONPATH."""
    session = f"bench-keys-{os.getpid()}-{time.monotonic_ns()}"
    env = f"PYTHONPATH={shlex.quote(os.environ.get('PYTHONPATH', ''))}"
    size = ("-x", str(SIZE[0]), "-y", str(SIZE[1]))
    tmux("new-session", "-d", "-s", session, *size, f"env {env} {shlex.join(command)}")
    return session


def first_row_seconds(command: list[str]) -> float:
    """Process start to the first row of the table visible in the pane (a real terminal)."""
    t0 = time.perf_counter()
    session = tmux_session(command)
    try:
        wait_for(session, FIRST_ROW)
        return time.perf_counter() - t0
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)


TMUX_KEYS = {"down": "Down", "up": "Up", "enter": "Enter"}


def tmux_run(command: list[str], pause: float) -> dict[str, float]:
    """One explorer in a fresh tmux session: time to the first row, then each step."""
    out: dict[str, float] = {}
    t0 = time.perf_counter()
    session = tmux_session(command)
    try:
        wait_for(session, FIRST_ROW)
        out["first row"] = time.perf_counter() - t0
        wait_for(session, "reference IN")
        time.sleep(pause)
        for step in STEPS:
            t0 = time.perf_counter()
            for key in step.keys:
                tmux("send-keys", "-t", session, TMUX_KEYS.get(key, key))
            wait_for(session, step.shown)
            out[step.name] = time.perf_counter() - t0
    finally:
        subprocess.run(["tmux", "kill-session", "-t", session], capture_output=True)
    return out


def explorer_command(db: str) -> list[str]:
    """The `lottery` command, from the code on PYTHONPATH."""
    return [sys.executable, "-m", "lottery_tui.cli.main", "--db", db]


# ----- report --------------------------------------------------------------------------------


def report(title: str, runs: list[dict[str, float]]) -> None:
    print(f"\n{title} ({len(runs)} runs; seconds, median and range)")
    names = [s.name for s in STEPS if s.timed]
    if runs and "first row" in runs[0]:
        names.insert(0, "first row")
    for name in names:
        values = [r[name] for r in runs]
        flag = "" if name == "first row" or statistics.median(values) <= 1.0 else "  > 1 s"
        print(
            f"  {name:32s} {statistics.median(values):6.2f}  "
            f"({min(values):.2f}-{max(values):.2f}){flag}"
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="store (default: build one from the shipped data)")
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--mode", choices=("both", "pilot", "tmux"), default="both")
    parser.add_argument("--pause", type=float, default=3.0, help="seconds before the first key")
    args = parser.parse_args()
    import lottery_tui

    print(f"code: {Path(lottery_tui.__file__).parent.parent}; pause {args.pause:g} s")
    print(f"load before: {loadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        db = store_or_shipped(args.db, Path(tmp))
        if args.mode in ("both", "pilot"):
            report(
                "headless (Pilot) 80x24",
                [asyncio.run(pilot_run(db, args.pause)) for _ in range(args.repeat)],
            )
        if args.mode in ("both", "tmux"):
            if shutil.which("tmux") is None:
                sys.exit("tmux is not installed")
            command = explorer_command(db)
            report("tmux 80x24", [tmux_run(command, args.pause) for _ in range(args.repeat)])
    print(f"\nload after: {loadavg()}")


if __name__ == "__main__":
    main()
