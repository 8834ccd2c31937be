"""The real `lottery` command in tmux: type keys as a person would, read the screen, quit.

Checks what headless Pilot tests cannot: the console script, the terminal driver, start-up on
the shipped store, and that the process is gone after `q` or a hang-up (SIGHUP).
"""

from __future__ import annotations

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
pytestmark = [
    pytest.mark.skipif(shutil.which("tmux") is None, reason="tmux is not installed"),
    pytest.mark.skipif(not LOTTERY.exists(), reason="the lottery console script is not installed"),
]


class Terminal:
    """A detached tmux session running one command, 100 x 30."""

    def __init__(self, command: list[str], env: dict[str, str]) -> None:
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
                "100",
                "-y",
                "30",
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


@pytest.fixture
def terminal(shipped_db: Path, tmp_path: Path) -> Iterator[Terminal]:
    db = tmp_path / "results.duckdb"
    shutil.copy(shipped_db, db)
    env = {"TEXTUAL_ANIMATIONS": "none", "HOME": str(tmp_path), "LOTTERY_DB": str(db)}
    term = Terminal([str(LOTTERY), "--db", str(db)], env)
    try:
        yield term
    finally:
        term.close()


def test_type_keys_read_screen_and_quit(terminal: Terminal):
    screen = terminal.wait_for(lambda s: "Results: 1,5" in s)
    assert "Rankings" in screen and "SQL" in screen
    pids = lottery_pids(terminal.pane_pid)
    assert pids

    terminal.keys("/")
    terminal.wait_for(lambda s: "filter models" in s)
    terminal.keys("resnet50.a1_in1k")
    screen = terminal.wait_for(lambda s: "filter “resnet50.a1_in1k”" in s)
    rows = [line.split()[0] for line in screen.splitlines()[3:-2] if "resnet50" in line]
    assert rows and all("resnet50.a1_in1k" in r for r in rows)
    assert "Results: 4 of 1,572 rows" in screen  # two models, each at two image sizes

    terminal.keys("Enter")  # back to the table: its keys show in the footer
    terminal.wait_for(lambda s: "s Sort" in s.splitlines()[-1])
    terminal.keys("Enter")  # the model's detail
    screen = terminal.wait_for(lambda s: "imagenet-sketch" in s and "ci_low" in s)
    terminal.keys("Escape")
    terminal.wait_for(lambda s: "ci_low" not in s)

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
    terminal.wait_for(lambda s: "Results: 1,5" in s)
    pids = lottery_pids(terminal.pane_pid)
    assert pids
    for pid in pids:
        os.kill(pid, signal.SIGHUP)
    assert gone(pids)
