"""`lottery serve`: the explorer in a browser, for the serving user only.

textual-serve runs the app and relays it over a websocket, but it has no login and accepts any
Origin. Here its aiohttp app gains a guard in front of every route: the request must come to
this host:port (no DNS rebinding), from no foreign page (Origin), and carry the random token of
the printed URL (the page then holds it in a same-site cookie for its scripts and websocket).
The explorer it starts has file access off (`lottery_tui.store.file_access`): the SQL view
cannot read files, and exports go only to new files in one folder.
"""

from __future__ import annotations

import argparse
import os
import secrets
import shlex
import sys
import tempfile
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lottery_tui.cli.main import add_db_option
from lottery_tui.errors import InputError

if TYPE_CHECKING:
    from aiohttp import web

HOST = "127.0.0.1"
DEFAULT_PORT = 8566
TOKEN_PARAM = "token"
COOKIE = "lottery_token"


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "serve",
        help="open the explorer in a browser on this machine (loopback, random token)",
        description="Serve the explorer on 127.0.0.1 for a browser (through an SSH tunnel from "
        "elsewhere). Prints a URL with a random token; requests without it, or from another "
        "page's Origin, are refused. The served explorer cannot read files, and writes exports "
        "only as new files in one folder. See docs/explorer.md.",
    )
    parser.add_argument(
        "--port",
        type=int,
        default=DEFAULT_PORT,
        help=f"port on 127.0.0.1 (default: {DEFAULT_PORT})",
    )
    parser.add_argument(
        "--export-folder",
        metavar="FOLDER",
        default=None,
        help="the one folder exports are written to, never over an existing file "
        "(default: a new private temporary folder, printed at start)",
    )
    add_db_option(parser)
    parser.set_defaults(func=run)


def run(args: argparse.Namespace) -> int:
    from lottery_tui.store.connection import connect
    from lottery_tui.store.file_access import SERVED_FOLDER_ENV
    from lottery_tui.store.paths import resolve_db_path

    if not 0 < args.port < 65536:
        raise InputError(f"--port {args.port}: not a port number (1-65535)")
    db = resolve_db_path(args.db).absolute()
    connect(db).close()  # a store that cannot open fails here, in one line, not in the browser
    folder = _export_folder(args.export_folder)
    token = secrets.token_urlsafe(32)
    os.environ[SERVED_FOLDER_ENV] = str(folder)  # inherited by each explorer the server starts
    server = guarded_server(explorer_command(db, folder, args), args.port, token)
    print(f"lottery serve: open {server.public_url}/?{TOKEN_PARAM}={token}", flush=True)
    print(f"lottery serve: exports go to {folder}; Ctrl+C stops", flush=True)
    server.serve()
    return 0


def _export_folder(given: str | None) -> Path:
    if given is None:
        return Path(tempfile.mkdtemp(prefix="lottery-serve-exports-"))
    folder = Path(given).expanduser().absolute()
    if not folder.is_dir():
        raise InputError("--export-folder: no such folder", folder)
    return folder


def explorer_command(db: Path, folder: Path, args: argparse.Namespace) -> str:
    """The shell command textual-serve runs per browser session: this Python, this code, in
    the export folder (the explorer's screenshots land there too)."""
    argv = [sys.executable, "-m", "lottery_tui.cli.main", "--db", str(db)]
    argv += ["--reference", args.reference]
    for option in ("source", "pretraining", "protocol"):
        value = getattr(args, option, None)
        if value is not None:
            argv += [f"--{option}", value]
    return f"cd {shlex.quote(str(folder))} && exec {shlex.join(argv)}"


def guarded_server(command: str, port: int, token: str) -> Any:
    """A textual-serve `Server` for `command` on HOST:`port` whose every route is guarded."""
    from textual_serve.server import Server

    class GuardedServer(Server):
        async def _make_app(self) -> web.Application:
            app = await super()._make_app()
            app.middlewares.append(_guard(port, token))
            return app

        async def on_startup(self, app: web.Application) -> None:
            """Quiet: `run` printed the URL (textual-serve's banner would print it tokenless)."""

    return GuardedServer(command, host=HOST, port=port, title="lottery")


def refusal(request: web.Request, port: int, token: str) -> str | None:
    """Why `request` is refused, or None: wrong Host, a foreign Origin, no or wrong token."""
    own = f"{HOST}:{port}"
    if request.headers.get("Host") != own:
        return f"refused: only http://{own} is served"
    origin = request.headers.get("Origin")
    if origin is not None and origin != f"http://{own}":
        return "refused: requests from other pages (Origin) are not served"
    offered = request.query.get(TOKEN_PARAM) or request.cookies.get(COOKIE) or ""
    if not secrets.compare_digest(offered.encode(), token.encode()):
        return "refused: open the URL lottery serve printed (it carries the token)"
    return None


def _guard(port: int, token: str) -> Any:
    from aiohttp import web

    @web.middleware
    async def guard(request: web.Request, handler: Any) -> web.StreamResponse:
        problem = refusal(request, port, token)
        if problem is not None:
            raise web.HTTPForbidden(text=problem)
        response = await handler(request)
        if request.query.get(TOKEN_PARAM) and not response.prepared:
            # the page's scripts, styles and websocket are same-origin: the cookie carries the
            # token to them; Strict keeps other sites' pages from sending it
            response.set_cookie(COOKIE, token, httponly=True, samesite="Strict", path="/")
        return response

    return guard
