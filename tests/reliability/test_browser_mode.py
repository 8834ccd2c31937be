"""The browser mode of the README, for real: `textual serve` on a loopback port runs `lottery`,
a websocket client (what the browser page opens) sees the Results view with data, and the
connection is still open 20 s later (the TTY watchdog used to end it after ~2.4 s).

Needs `textual serve` (the textual-dev package, in the test extra) and aiohttp (which it brings).
A headless Chromium, where one is installed, also screenshots the page.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

aiohttp = pytest.importorskip("aiohttp")

BIN = Path(sys.executable).parent
TEXTUAL = BIN / "textual"
ROOT = Path(__file__).resolve().parents[2]
STAY_OPEN_SECONDS = 20

pytestmark = pytest.mark.skipif(not TEXTUAL.exists(), reason="textual-dev is not installed")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _top_model(store: Path) -> str:
    con = duckdb.connect(str(store), read_only=True)
    try:
        row = con.execute(
            "SELECT model FROM results WHERE dataset = 'imagenet' ORDER BY top1 DESC LIMIT 1"
        ).fetchone()
    finally:
        con.close()
    return row[0]


@pytest.fixture
def served(results_db: Path, tmp_path: Path):
    """`textual serve --host 127.0.0.1 --port PORT "lottery --db STORE"`, as in the README."""
    store = tmp_path / "results.duckdb"
    shutil.copyfile(results_db, store)
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT), "PATH": f"{BIN}{os.pathsep}{os.environ['PATH']}"}
    command = f"lottery --db {store}"
    proc = subprocess.Popen(
        [str(TEXTUAL), "serve", "--host", "127.0.0.1", "--port", str(port), command],
        env=env, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, start_new_session=True,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        with socket.socket() as sock:
            if sock.connect_ex(("127.0.0.1", port)) == 0:
                break
        time.sleep(0.2)
    try:
        yield port, store
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def _session(port: int) -> tuple[str, bool]:
    """Connect as the page does; collect the screen output for `STAY_OPEN_SECONDS`."""
    received: list[str] = []
    async with aiohttp.ClientSession() as session:
        page = await session.get(f"http://127.0.0.1:{port}/")
        assert page.status == 200
        async with session.ws_connect(f"ws://127.0.0.1:{port}/ws?width=120&height=30") as ws:
            await ws.send_json(["resize", {"width": 120, "height": 30}])
            deadline = time.monotonic() + STAY_OPEN_SECONDS
            while time.monotonic() < deadline:
                try:
                    message = await ws.receive(timeout=1.0)
                except TimeoutError:
                    await ws.send_json(["ping", "keepalive"])
                    continue
                if message.type == aiohttp.WSMsgType.BINARY:
                    received.append(message.data.decode("utf-8", "replace"))
                elif message.type == aiohttp.WSMsgType.TEXT:
                    received.append(message.data)
                else:  # CLOSE, CLOSED, ERROR: the explorer went away
                    break
            still_open = not ws.closed
    return "".join(received), still_open


def test_textual_serve_shows_results_and_stays_connected(served) -> None:
    port, store = served
    expected = _top_model(store)
    screen, still_open = asyncio.run(_session(port))
    assert "Results" in screen
    assert expected in screen  # the Results table arrived, with the store's best model
    assert still_open, f"the websocket closed within {STAY_OPEN_SECONDS} s"


def test_headless_chromium_screenshot(served, tmp_path: Path) -> None:
    names = ("chromium", "chromium-browser", "google-chrome", "headless_shell")
    browser = next((shutil.which(n) for n in names if shutil.which(n)), None)
    if browser is None:
        pytest.skip("no headless Chromium on this machine")
    port, _ = served
    shot = tmp_path / "explorer.png"
    subprocess.run(
        [browser, "--headless", "--no-sandbox", "--disable-gpu", "--virtual-time-budget=15000",
         "--window-size=1280,800", f"--screenshot={shot}", f"http://127.0.0.1:{port}/"],
        check=True, timeout=120, capture_output=True,
    )  # fmt: skip
    assert shot.exists() and shot.stat().st_size > 10_000
