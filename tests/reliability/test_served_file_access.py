"""A served explorer (`lottery serve`) reads no files and writes only new files in one folder:
the SQL console's `read_text`/`read_csv` are refused, and exports elsewhere or over an existing
file are refused."""

from __future__ import annotations

import shutil
from pathlib import Path

import duckdb
import pyarrow as pa
import pytest

from lottery_tui.errors import InputError
from lottery_tui.store.file_access import SERVED_FOLDER_ENV
from lottery_tui.store.sql_policy import open_console
from lottery_tui.tui.export import export_table

TABLE = pa.table({"model": ["a"], "top1": [1.0]})


@pytest.fixture
def folder(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    exports = tmp_path / "exports"
    exports.mkdir()
    monkeypatch.setenv(SERVED_FOLDER_ENV, str(exports))
    return exports


@pytest.mark.parametrize("reader", ["read_text", "read_csv", "read_blob", "glob"])
def test_served_console_reads_no_file(folder, results_db: Path, tmp_path: Path, reader) -> None:
    store = tmp_path / "results.duckdb"
    shutil.copyfile(results_db, store)
    secret = tmp_path / "secret.txt"
    secret.write_text("a,b\n1,2\n")
    con = open_console(store)
    try:
        assert con.execute("SELECT count(*) FROM results").fetchone()[0] > 0  # the store: yes
        with pytest.raises(duckdb.PermissionException):
            con.cursor().execute(f"SELECT * FROM {reader}('{secret}')").fetchall()
        with pytest.raises(duckdb.Error):  # and it cannot be switched back on
            con.execute("SET enable_external_access = true")
    finally:
        con.close()


def test_served_export_writes_a_new_file_in_the_folder(folder) -> None:
    written = export_table(TABLE, "table.csv")
    assert written == folder / "table.csv"
    assert written.read_text().startswith('"model","top1"')
    assert [p.name for p in folder.iterdir()] == ["table.csv"]


@pytest.mark.parametrize(
    "name", ["../outside.csv", "/tmp/outside.csv", "sub/inner.csv", "~/x.csv", ".."]
)
def test_served_export_refuses_other_folders(folder, name: str) -> None:
    with pytest.raises(InputError, match="plain file name"):
        export_table(TABLE, name)
    assert not any(folder.iterdir())
    assert not (folder.parent / "outside.csv").exists()


def test_served_export_never_overwrites(folder) -> None:
    existing = folder / "mine.csv"
    existing.write_text("keep me")
    with pytest.raises(InputError, match="never overwrites"):
        export_table(TABLE, "mine.csv")
    link = folder / "link.csv"
    link.symlink_to(folder.parent / "victim.csv")  # a dangling link must not be written through
    with pytest.raises(InputError, match="never overwrites"):
        export_table(TABLE, "link.csv")
    assert existing.read_text() == "keep me"
    assert not (folder.parent / "victim.csv").exists()
    assert sorted(p.name for p in folder.iterdir()) == ["link.csv", "mine.csv"]


def test_not_served_export_keeps_full_paths(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.delenv(SERVED_FOLDER_ENV, raising=False)
    target = tmp_path / "sub" / "t.csv"
    target.parent.mkdir()
    assert export_table(TABLE, target) == target


def test_served_explorer_loads_no_run_plan(folder, tmp_path: Path) -> None:
    from lottery_tui.store.file_access import check_may_read

    with pytest.raises(InputError, match="reads no files"):
        check_may_read(tmp_path / "plan.toml")
