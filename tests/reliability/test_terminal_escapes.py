"""One escaping rule at every exit to a terminal (`safe_text`): what a command prints to a
terminal (reports, `compare`, `same`, `sql` in any format) and every error message (DuckDB's and
ours, file names included) shows ESC, OSC and bidi characters as visible escapes; `runs sync`
refuses a result.json model name holding one."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lottery_tui.cli.main import main
from lottery_tui.errors import InputError
from lottery_tui.probe.ingest import check_model_name
from tests.reliability.test_safe_names import EVIL, RAW, SHOWN, evil_store  # noqa: F401

ROOT = Path(__file__).resolve().parents[2]
OSC52 = "\x1b]52;c;cHduZWQ=\x07"  # writes "pwned" to the clipboard of a terminal that allows it


def _on_a_terminal(argv: list[str]) -> tuple[str, str]:
    """Run `lottery ARGV` with stdout on a pseudo-terminal: (what the terminal got, stderr)."""
    master, slave = os.openpty()
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lottery_tui.cli.main", *argv],
        stdout=slave, stderr=subprocess.PIPE, stdin=subprocess.DEVNULL, env=env,
    )  # fmt: skip
    os.close(slave)
    chunks = []
    while True:
        try:
            chunk = os.read(master, 65536)
        except OSError:  # EIO: the child closed the terminal
            break
        if not chunk:
            break
        chunks.append(chunk)
    os.close(master)
    _, err = proc.communicate(timeout=120)
    return b"".join(chunks).decode("utf-8", "replace"), err.decode("utf-8", "replace")


def _second_model(store: Path) -> str:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(
            "SELECT model FROM results WHERE dataset = 'imagenet' "
            "ORDER BY top1 DESC LIMIT 1 OFFSET 1"
        ).fetchone()[0]
    finally:
        con.close()


@pytest.mark.parametrize(
    "command",
    [
        ["sql", "SELECT model FROM results WHERE model LIKE 'evil%'", "--format", "csv"],
        ["sql", "SELECT model FROM results WHERE model LIKE 'evil%'", "--format", "json"],
        ["report", "--top", "3", "--datasets", "imagenet", "imagenet-real"],
        ["compare", EVIL, "SECOND", "--resamples", "200"],
        ["same", EVIL, "SECOND"],
    ],
)
def test_what_commands_print_to_a_terminal_is_escaped(command, evil_store) -> None:  # noqa: F811
    argv = [_second_model(evil_store) if a == "SECOND" else a for a in command]
    out, err = _on_a_terminal([*argv, "--db", str(evil_store)])
    assert not any(ch in out + err for ch in RAW), (out + err)[:500]
    assert "evil\\x1b[31mred" in out + err or "evil\\u001b[31mred" in out, (out + err)[:500]


def test_duckdb_error_quoting_a_value_is_escaped(capsys) -> None:
    assert main(["sql", f"SELECT CAST('{OSC52}' AS INTEGER)"]) == 2
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\x07" not in err
    assert "\\x1b]52;c;cHduZWQ=\\x07" in err
    assert len(err.splitlines()) == 1


def test_file_name_in_an_error_is_escaped(tmp_path: Path, capsys) -> None:
    hostile = tmp_path / "dir\x1b]0;pwned\x07\u202e"
    hostile.mkdir()
    assert main(["sql", "SELECT 1", "--db", str(hostile)]) != 0
    err = capsys.readouterr().err
    assert not any(ch in err for ch in RAW)
    assert "dir\\x1b]0;pwned\\x07\\u202e" in err


def test_runs_sync_refuses_a_model_name_with_control_characters(evil_store) -> None:  # noqa: F811
    con = duckdb.connect(str(evil_store), read_only=True)
    try:
        with pytest.raises(InputError, match="control character U\\+001B"):
            check_model_name(con, "probe\x1b]0;pwned\x07")
        check_model_name(con, "probe-ok")  # a plain new name passes
    finally:
        con.close()


async def test_the_explorer_sql_view_shows_duckdb_errors_escaped(evil_store) -> None:  # noqa: F811
    from textual.widgets import Static

    from tests.tui.conftest import make_app, settle
    from tests.tui.test_sql_view import run

    app = make_app(evil_store)
    async with app.run_test(size=(120, 24)) as pilot:
        await settle(app, pilot)
        app.action_show_view("sql")
        await settle(app, pilot)
        status = await run(app, pilot, f"SELECT CAST('{OSC52}' AS INTEGER)")
        assert status.startswith("error:")
        assert "\\x1b]52;c;cHduZWQ=\\x07" in status
        assert "\x1b" not in str(app.query_one("#sql-status", Static).render())
