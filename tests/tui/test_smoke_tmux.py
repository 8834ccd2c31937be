"""The real `lottery` command in tmux: type keys as a person would, read the screen, quit.

Checks what headless Pilot tests cannot: the console script, the terminal driver, start-up on
the shipped store, and that the process is gone after `q` or a hang-up (SIGHUP).
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import sys
import time
import uuid
from collections.abc import Callable, Iterator
from pathlib import Path

import pytest

LOTTERY = Path(sys.executable).with_name("lottery")
ROOT = Path(__file__).resolve().parents[2]  # the tree under test, ahead of any installed copy
pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not LOTTERY.exists(), reason="the lottery console script is not installed"),
]


class Terminal:
    """A detached tmux session running one command, 100 x 30 unless told."""

    def __init__(
        self, command: list[str], env: dict[str, str], size: tuple[int, int] = (100, 30)
    ) -> None:
        self.name = f"lottery-smoke-{uuid.uuid4().hex[:8]}"
        exports = " ".join(f"{k}={v}" for k, v in env.items())
        line = " ".join(command)
        subprocess.run(
            [
                "tmux",
                "new-session",
                "-d",
                "-s",
                self.name,
                "-x",
                str(size[0]),
                "-y",
                str(size[1]),
                f"env {exports} {line}",
            ],
            check=True,
        )
        self.pane_pid = int(self._tmux("display-message", "-p", "-t", self.name, "#{pane_pid}"))

    def _tmux(self, *args: str) -> str:
        return subprocess.run(["tmux", *args], capture_output=True, text=True).stdout.strip()

    def screen(self) -> str:
        return self._tmux("capture-pane", "-p", "-t", self.name)

    def keys(self, *keys: str) -> None:
        subprocess.run(["tmux", "send-keys", "-t", self.name, *keys], check=True)

    def wait_for(self, predicate: Callable[[str], bool], timeout: float = 30.0) -> str:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            text = self.screen()
            if predicate(text):
                return text
            time.sleep(0.2)
        raise AssertionError(f"screen never matched; last screen:\n{self.screen()}")

    def alive(self) -> bool:
        return (
            subprocess.run(["tmux", "has-session", "-t", self.name], capture_output=True).returncode
            == 0
        )

    def close(self) -> None:
        if self.alive():
            subprocess.run(["tmux", "kill-session", "-t", self.name], capture_output=True)


def lottery_pids(pane_pid: int) -> list[int]:
    """The pane's process and its children that run `lottery` (the shell may exec it)."""
    found = []
    for pid in [pane_pid, *_children(pane_pid)]:
        try:
            cmdline = Path(f"/proc/{pid}/cmdline").read_bytes()
        except OSError:
            continue
        if b"lottery" in cmdline:
            found.append(pid)
    return found


def _children(pid: int) -> list[int]:
    out = subprocess.run(["pgrep", "-P", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def gone(pids: list[int], timeout: float = 10.0) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if not any(Path(f"/proc/{p}").exists() and _running(p) for p in pids):
            return True
        time.sleep(0.1)
    return False


def _running(pid: int) -> bool:
    try:
        state = Path(f"/proc/{pid}/stat").read_text().split(")")[-1].split()[0]
    except OSError:
        return False
    return state != "Z"


def start(shipped_db: Path, tmp_path: Path, size: tuple[int, int]) -> Terminal:
    db = tmp_path / "results.duckdb"
    shutil.copy(shipped_db, db)
    env = {
        "TEXTUAL_ANIMATIONS": "none",
        "HOME": str(tmp_path),
        "LOTTERY_DB": str(db),
        "PYTHONPATH": str(ROOT),
    }
    return Terminal([str(LOTTERY), "--db", str(db)], env, size)


@pytest.fixture
def terminal(shipped_db: Path, tmp_path: Path) -> Iterator[Terminal]:
    term = start(shipped_db, tmp_path, (100, 30))
    try:
        yield term
    finally:
        term.close()


@pytest.fixture
def small_terminal(shipped_db: Path, tmp_path: Path) -> Iterator[Terminal]:
    term = start(shipped_db, tmp_path, (80, 24))
    try:
        yield term
    finally:
        term.close()


def test_type_keys_read_screen_and_quit(terminal: Terminal):
    screen = terminal.wait_for(lambda s: "Results: 1,9" in s)
    assert "Rankings" in screen and "SQL" in screen
    pids = lottery_pids(terminal.pane_pid)
    assert pids

    terminal.keys("/")
    terminal.wait_for(lambda s: "filter models" in s)
    terminal.keys("resnet50.a1_in1k")
    screen = terminal.wait_for(lambda s: "filter “resnet50.a1_in1k”" in s)
    table = [line for line in screen.splitlines()[3:-2] if "Results:" not in line]  # no caption
    rows = [line.split()[0] for line in table if "resnet50" in line]
    assert rows and all("resnet50.a1_in1k" in r for r in rows)
    assert "Results: 4 of 1,907 rows" in screen  # two models, each at two image sizes

    terminal.keys("Enter")  # back to the table: its keys show in the footer
    terminal.wait_for(lambda s: "s Sort" in s.splitlines()[-1])
    terminal.keys("Enter")  # the model's detail
    screen = terminal.wait_for(lambda s: "imagenet-sketch" in s and "CI low" in s)
    terminal.keys("Escape")
    terminal.wait_for(lambda s: "CI low" not in s)

    terminal.keys("5")
    terminal.wait_for(lambda s: "ctrl+j/F5 run" in s)
    terminal.keys("C-j")
    screen = terminal.wait_for(lambda s: "rows in" in s)
    assert "imagenet-real" in screen

    terminal.keys("Escape")  # alone: Esc then q at once reads as alt+q (see docs/explorer.md)
    terminal.wait_for(lambda s: "s Sort" in s.splitlines()[-1])
    terminal.keys("q")
    assert gone(pids), terminal.screen()
    deadline = time.monotonic() + 5
    while terminal.alive() and time.monotonic() < deadline:
        time.sleep(0.1)
    assert not terminal.alive()


def test_hang_up_ends_the_explorer(terminal: Terminal):
    terminal.wait_for(lambda s: "Results: 1,9" in s)
    pids = lottery_pids(terminal.pane_pid)
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGHUP)
    assert gone(pids)


def has_table(screen: str) -> bool:
    return any(line.split()[:1] == ["model"] for line in screen.splitlines())


def table_rows(screen: str) -> list[str]:
    """The model cells of the Results rows on screen (below the header, above the captions)."""
    lines = screen.splitlines()
    header = next(i for i, line in enumerate(lines) if line.split()[:1] == ["model"])
    rows = []
    for line in lines[header + 1 :]:
        if not line.strip() or line.strip()[0] in "▁▂▃▄▅▆▇█▉▊▋▌▍▎▏":
            break
        rows.append(line.split()[0])
    return rows


def test_keys_in_one_batch_and_names_at_80x24(small_terminal: Terminal):
    term = small_terminal
    screen = term.wait_for(lambda s: "Results: 1,9" in s and has_table(s))
    # Item 6: at 80 columns names are cut in the middle, never two models alike, and the
    # full name of the row under the cursor is readable below the table.
    rows = table_rows(screen)
    assert len(rows) >= 10 and len(set(rows)) == len(rows)
    assert any("…" in r for r in rows)
    first = rows[0]
    head, tail = first.split("…")
    full = next(line.strip() for line in screen.splitlines() if line.strip().startswith(head))
    full_line = [ln.strip() for ln in screen.splitlines() if ln.strip().endswith(tail)]
    assert any(ln.startswith(head) and "…" not in ln for ln in full_line), screen
    assert full  # the row itself

    # Item 2: `/` and the text after it in one batch all land in the filter.
    term.keys("-l", "/vgg")

    def filtered(s: str) -> bool:  # the caption can be drawn a frame before the new rows
        rows = table_rows(s) if "filter “vgg”" in s and has_table(s) else []
        return bool(rows) and all("vgg" in r for r in rows)

    term.wait_for(filtered)

    # Item 1: Enter hands the keys back to the table; `s` twice sorts and flips, in one batch,
    # the filter untouched; then a digit switches views.
    term.keys("Enter")
    term.keys("-l", "ss")

    def flipped(s: str) -> bool:
        rows = table_rows(s) if "sorted by model ↓" in s and has_table(s) else []
        return len(rows) > 1 and rows == sorted(rows, reverse=True) and filtered(s)

    term.wait_for(flipped)
    term.keys("-l", "2")
    term.wait_for(lambda s: "Kendall" in s or "Rank agreement" in s)
    term.keys("1")
    screen = term.wait_for(lambda s: "filter “vgg”" in s and "sorted by model" in s)
    term.keys("-l", "3")  # back on Results with a filter, a digit still switches views
    term.wait_for(lambda s: "verdicts" in s or "Marginal gains" in s or "lottery summary" in s)
    pids = lottery_pids(term.pane_pid)
    term.keys("q")
    assert gone(pids), term.screen()


def test_closing_the_terminal_after_any_view_key_ends_the_explorer(
    shipped_db: Path, tmp_path: Path
):
    """Item 10: the tmux session closed right after each view key, 20 times in all: every
    explorer is gone within 2 s (before, 2 of 6 hung in Textual's output queue)."""
    left = []
    for round_ in range(20):
        key = "123456"[round_ % 6]
        term = start(shipped_db, tmp_path, (80, 24))
        try:
            term.wait_for(lambda s: "Results: 1,9" in s)
            pids = lottery_pids(term.pane_pid)
            assert pids
            term.keys(key)
        finally:
            term.close()
        if not gone(pids, timeout=2.0):
            left.append(key)
            for pid in pids:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
    assert left == [], f"explorers alive 2 s after their terminal closed, after keys {left}"
