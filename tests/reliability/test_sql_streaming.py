"""`lottery sql` writes CSV and JSON a batch at a time (bounded memory; the numbers are in
bench/bench_sql_export.py), with the same rows as a direct query; console queries spill to a
private folder with a size cap."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest

import lottery_tui.cli.sql as sql_cli
from lottery_tui.cli.main import main
from lottery_tui.store.sql_policy import CONSOLE_TEMP_LIMIT, open_console

QUERY = "SELECT range AS i, 'r' || range AS s, range % 3 = 0 AS b FROM range(5000)"


class CountingStdout(io.StringIO):
    def __init__(self) -> None:
        super().__init__()
        self.writes = 0

    def write(self, text: str) -> int:
        self.writes += 1
        return super().write(text)


@pytest.mark.parametrize("fmt", ["csv", "json"])
def test_sql_writes_batch_by_batch(fmt, results_db: Path, monkeypatch) -> None:
    monkeypatch.setattr(sql_cli, "BATCH_ROWS", 1000)
    out = CountingStdout()
    monkeypatch.setattr("sys.stdout", out)
    assert main(["sql", QUERY, "--format", fmt, "--db", str(results_db)]) == 0
    assert out.writes >= 5  # one write (at least) per batch of 1,000 rows, not one at the end
    text = out.getvalue()
    if fmt == "csv":
        rows = list(csv.reader(io.StringIO(text)))
        assert rows[0] == ["i", "s", "b"]
        assert rows[1:] == [[str(i), f"r{i}", str(i % 3 == 0)] for i in range(5000)]
    else:
        assert json.loads(text) == [{"i": i, "s": f"r{i}", "b": i % 3 == 0} for i in range(5000)]


@pytest.mark.parametrize(("fmt", "expected"), [("csv", "i\n"), ("json", "[]\n")])
def test_sql_empty_result(fmt, expected, results_db: Path, capsys) -> None:
    assert main(["sql", "SELECT 1 AS i WHERE false", "--format", fmt, "--db", str(results_db)]) == 0
    assert capsys.readouterr().out == expected


def test_console_spills_to_a_private_capped_folder(results_db: Path, tmp_path, monkeypatch) -> None:
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "cache"))
    store = tmp_path / "results.duckdb"
    store.write_bytes(results_db.read_bytes())
    con = open_console(store)
    try:
        folder, limit = con.execute(
            "SELECT current_setting('temp_directory'), current_setting('max_temp_directory_size')"
        ).fetchone()
    finally:
        con.close()
    assert Path(folder).is_relative_to(tmp_path / "cache")  # the user's cache, not the store's
    assert stat.S_IMODE(Path(folder).stat().st_mode) == 0o700
    assert limit == CONSOLE_TEMP_LIMIT.replace("GiB", ".0 GiB")  # DuckDB shows "4.0 GiB"
