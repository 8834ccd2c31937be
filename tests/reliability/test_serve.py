"""`lottery serve`, the supported browser mode: loopback only, a random token on every request,
no foreign Origin, and a served explorer without file access.

A real server is started per module; HTTP and websocket clients (aiohttp, as a browser page would
connect) try it without the token, with a wrong one, from a foreign Origin and as another OS user;
a real headless Chromium (../shared/tools/chromium, driven by Playwright) loads the explorer,
filters Results and switches to the SQL view, where reading a file is refused.
"""

from __future__ import annotations

import asyncio
import json
import os
import re
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
pytest.importorskip("textual_serve")

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM_TOOL = ROOT.parent / "shared" / "tools" / "chromium"
if not CHROMIUM_TOOL.exists():
    CHROMIUM_TOOL = Path("/work/shared/tools/chromium")
STAY_OPEN_SECONDS = 20
SECRET = "lottery-secret-0600"


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


@pytest.fixture(scope="module")
def served(results_db: Path, tmp_path_factory: pytest.TempPathFactory):
    """`lottery serve --port PORT --db STORE --export-folder EXPORTS`: url, port, store, exports."""
    home = tmp_path_factory.mktemp("serve")
    os.chmod(home, 0o755)  # the second-user test's client runs in here
    store, exports = home / "results.duckdb", home / "exports"
    shutil.copyfile(results_db, store)
    exports.mkdir()
    port = _free_port()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    env.pop("LOTTERY_SERVED_EXPORT_FOLDER", None)
    proc = subprocess.Popen(
        [sys.executable, "-m", "lottery_tui.cli.main", "serve", "--port", str(port),
         "--db", str(store), "--export-folder", str(exports)],
        env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        start_new_session=True,
    )  # fmt: skip
    try:
        line = proc.stdout.readline()
        match = re.search(r"(http://127\.0\.0\.1:\d+/\?token=\S+)", line)
        assert match, f"no URL printed: {line!r}"
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            with socket.socket() as sock:
                if sock.connect_ex(("127.0.0.1", port)) == 0:
                    break
            time.sleep(0.2)
        yield match.group(1), port, store, exports
    finally:
        os.killpg(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            proc.wait()


async def _status(url: str, headers: dict[str, str] | None = None) -> int:
    async with aiohttp.ClientSession() as session, session.get(url, headers=headers) as page:
        return page.status


async def _ws_status(url: str, headers: dict[str, str] | None = None) -> int:
    """101 when the websocket opens, else the HTTP status it was refused with."""
    async with aiohttp.ClientSession() as session:
        try:
            async with session.ws_connect(url, headers=headers):
                return 101
        except aiohttp.WSServerHandshakeError as exc:
            return exc.status


def _token(url: str) -> str:
    return url.split("token=", 1)[1]


def test_serve_binds_loopback_only(served) -> None:
    _, port, _, _ = served
    out = subprocess.run(["ss", "-Htln", f"sport = :{port}"], capture_output=True, text=True)
    if out.returncode != 0:
        pytest.skip("ss is not installed")
    listeners = [line.split()[3] for line in out.stdout.splitlines() if line.strip()]
    assert listeners == [f"127.0.0.1:{port}"]


@pytest.mark.parametrize("query", ["", "?token=", "?token=wrong-token"])
def test_page_and_websocket_refused_without_the_token(served, query: str) -> None:
    _, port, _, _ = served
    assert asyncio.run(_status(f"http://127.0.0.1:{port}/{query}")) == 403
    assert asyncio.run(_status(f"http://127.0.0.1:{port}/static/js/textual.js{query}")) == 403
    assert asyncio.run(_ws_status(f"ws://127.0.0.1:{port}/ws{query}")) == 403


def test_foreign_origin_and_host_refused_even_with_the_token(served) -> None:
    url, port, _, _ = served
    token = _token(url)
    evil = {"Origin": "http://evil.example"}
    assert asyncio.run(_status(url, evil)) == 403
    assert asyncio.run(_ws_status(f"ws://127.0.0.1:{port}/ws?token={token}", evil)) == 403
    rebound = {"Host": f"evil.example:{port}"}  # DNS rebinding: another name for 127.0.0.1
    assert asyncio.run(_status(url, rebound)) == 403


async def _session(url: str, port: int) -> tuple[str, bool, str]:
    """Open the page as a browser would (token in the URL, then the cookie it sets), then the
    websocket; collect the screen for `STAY_OPEN_SECONDS`."""
    received: list[str] = []
    jar = aiohttp.CookieJar(unsafe=True)  # keep cookies of an IP address, as browsers do
    async with aiohttp.ClientSession(cookie_jar=jar) as session:
        async with session.get(url) as page:
            assert page.status == 200
            html = await page.text()
        async with session.get(f"http://127.0.0.1:{port}/static/js/textual.js") as script:
            assert script.status == 200  # by the cookie alone, as the page's <script> asks
        origin = {"Origin": f"http://127.0.0.1:{port}"}
        ws_url = f"ws://127.0.0.1:{port}/ws?width=120&height=30"
        async with session.ws_connect(ws_url, headers=origin) as ws:
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
    return "".join(received), still_open, html


def test_right_token_serves_the_page_and_the_explorer(served) -> None:
    url, port, store, _ = served
    screen, still_open, html = asyncio.run(_session(url, port))
    assert "data-session-websocket-url" in html
    assert "Results" in screen
    assert _top_model(store) in screen  # the Results table arrived, with the store's best model
    assert still_open, f"the websocket closed within {STAY_OPEN_SECONDS} s"


def test_another_os_user_is_refused(served) -> None:
    """What the issue's `nobody` did, without the token it cannot read: refused."""
    _, port, _, _ = served
    if os.geteuid() != 0 or shutil.which("setpriv") is None:
        pytest.skip("needs root and setpriv to run a client as another user")
    client = (
        "import urllib.request, urllib.error, sys\n"
        f"try: urllib.request.urlopen('http://127.0.0.1:{port}/'); print(200)\n"
        "except urllib.error.HTTPError as e: print(e.code)\n"
    )
    out = subprocess.run(
        ["setpriv", "--reuid=nobody", "--regid=nogroup", "--clear-groups", sys.executable,
         "-I", "-c", client],
        capture_output=True, text=True, timeout=30, cwd="/",
    )  # fmt: skip
    assert out.stdout.strip() == "403", out.stderr


def _chromium() -> tuple[str, list[str]]:
    if shutil.which("npm") is None or not CHROMIUM_TOOL.exists():
        pytest.skip("npm is missing: no headless Chromium can be installed for the browser test")
    out = subprocess.run([str(CHROMIUM_TOOL)], capture_output=True, text=True, timeout=300)
    if out.returncode != 0:
        pytest.skip(f"no headless Chromium could be installed: {out.stderr.strip()[:200]}")
    exe, args = out.stdout.strip().splitlines()[:2]
    return exe, json.loads(args)


async def _wait_for(frames: list[str], pattern: str, seconds: float = 60) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if re.search(pattern, "".join(frames)):
            return
        await asyncio.sleep(0.25)
    raise AssertionError(f"{pattern!r} never reached the browser")


def test_explorer_in_headless_chromium(served, tmp_path: Path) -> None:
    """Load, filter Results, switch to the SQL view, and find file access off there."""
    playwright = pytest.importorskip("playwright.async_api")
    exe, args = _chromium()
    url, _, store, exports = served
    secret = tmp_path / "secret.txt"
    secret.write_text(SECRET)
    secret.chmod(0o600)
    con = duckdb.connect(str(store), read_only=True)
    models = con.execute(
        "SELECT model FROM results WHERE dataset = 'imagenet' ORDER BY top1 DESC"
    ).fetchall()
    con.close()
    top, target = models[0][0], models[len(models) // 2][0]  # target: not on the first screen

    async def drive() -> str:
        frames: list[str] = []
        async with playwright.async_playwright() as p:
            browser = await p.chromium.launch(executable_path=exe, args=args, headless=True)
            try:
                page = await browser.new_page(viewport={"width": 1400, "height": 900})

                def on_ws(ws) -> None:
                    ws.on("framereceived", lambda f: frames.append(
                        f if isinstance(f, str) else f.decode("utf-8", "replace")))  # fmt: skip

                page.on("websocket", on_ws)
                await page.goto(url)
                await _wait_for(frames, re.escape(top))  # Results loaded
                await page.mouse.click(700, 450)
                frames.clear()
                await page.keyboard.press("/")
                await page.keyboard.type(target)
                await page.keyboard.press("Enter")
                await _wait_for(frames, re.escape(target))
                await page.keyboard.press("5")  # the SQL view, its starter query shown
                await _wait_for(frames, "mean_top1")
                await page.keyboard.press("Control+a")  # focus the editor, select its text
                await page.keyboard.type(f"SELECT content FROM read_text('{secret}')")
                await page.keyboard.press("Control+j")  # F5 would reload the page
                await _wait_for(frames, "Permission Error: Cannot access file")
                return "".join(frames)
            finally:
                await browser.close()

    screen = asyncio.run(drive())
    assert SECRET not in screen
    assert not any(exports.iterdir())  # nothing was written
