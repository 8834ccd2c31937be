"""Names holding terminal escape sequences (already in a store: no importer check can help) are
shown escaped by `lottery models`, `lottery sql` and the explorer's tables (`safe_text`)."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from lottery_tui.cli.main import main
from lottery_tui.safe_text import safe_table, safe_text
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.widgets.arrow_table import ArrowTable

EVIL = "evil\x1b[31mred\x1b]0;pwned\x07\u202etxt.exe\x9b2J"
SHOWN = "evil\\x1b[31mred\\x1b]0;pwned\\x07\\u202etxt.exe\\x9b2J"
RAW = ("\x1b", "\x07", "\u202e", "\x9b")


def test_safe_text_escapes_controls_and_keeps_the_rest() -> None:
    assert safe_text(EVIL) == SHOWN
    assert safe_text("vit_base_patch16_224.augreg_in21k — ünïcode ✓") == (
        "vit_base_patch16_224.augreg_in21k — ünïcode ✓"
    )
    assert safe_text("a\tb\nc\x7f") == "a\\x09b\\x0ac\\x7f"


def test_safe_table_escapes_names_and_strings_only_when_needed() -> None:
    clean = pa.table({"model": ["a", None], "top1": [1.0, 2.0]})
    assert safe_table(clean) is clean
    dirty = pa.table({"model\x1b": [EVIL, None], "top1": [1.0, 2.0]})
    shown = safe_table(dirty)
    assert shown.column_names == ["model\\x1b", "top1"]
    assert shown.column(0).to_pylist() == [SHOWN, None]
    assert shown.column(1).to_pylist() == [1.0, 2.0]


@pytest.fixture
def evil_store(results_db: Path, tmp_path: Path) -> Path:
    """A store where the best ImageNet model got an escape-laden name behind the importers' back."""
    store = tmp_path / "store.duckdb"
    shutil.copyfile(results_db, store)
    con = duckdb.connect(str(store))
    con.execute(
        "UPDATE models SET name = ? WHERE name = (SELECT model FROM results "
        "WHERE dataset = 'imagenet' ORDER BY top1 DESC LIMIT 1)",
        [EVIL],
    )
    con.close()
    return store


@pytest.mark.parametrize(
    "argv",
    [
        ["models", "--like", "evil*"],
        ["sql", "SELECT model, top1 FROM results WHERE model LIKE 'evil%'"],
        ["sql", 'SELECT 1 AS "col\x1b[2J"'],
    ],
)
def test_cli_tables_show_names_escaped(argv: list[str], evil_store: Path, capsys) -> None:
    assert main([*argv, "--db", str(evil_store)]) == 0
    out = capsys.readouterr().out
    assert not any(ch in out for ch in RAW)
    assert SHOWN in out or "col\\x1b[2J" in out
    lines = out.splitlines()
    assert len(lines[1]) >= len(lines[0].rstrip())  # the rule under the header spans it


async def test_the_explorer_tables_show_names_escaped(evil_store: Path) -> None:
    app = LotteryApp(db=str(evil_store), cursor_blink=False, watch_tty=False)
    async with app.run_test(size=(120, 30)) as pilot:
        table = app.query_one("#results-table", ArrowTable)
        for _ in range(200):
            if table.data_table is not None and table.shown is not None:
                break
            await pilot.pause(0.05)
        await pilot.pause()
        backend = table.data_table.backend
        names = backend.data.column(0).to_pylist()
        assert SHOWN in names
        assert not any(ch in name for name in names if name for ch in RAW)
        assert EVIL in table.shown.column(0).to_pylist()  # the data itself is unchanged
