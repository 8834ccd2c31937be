"""Opening the store: default creation, schema versions, locks held by real processes, kill -9."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

from lottery_tui.errors import SchemaVersionError, StoreLockedError
from lottery_tui.store.connection import connect, write_transaction
from lottery_tui.store.paths import data_dir, resolve_db_path

from .conftest import fingerprint

ROOT = Path(__file__).resolve().parents[2]


def test_db_path_precedence(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("LOTTERY_DB", str(tmp_path / "env.duckdb"))
    assert resolve_db_path(tmp_path / "arg.duckdb") == tmp_path / "arg.duckdb"
    assert resolve_db_path(None) == tmp_path / "env.duckdb"
    monkeypatch.delenv("LOTTERY_DB")
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    assert resolve_db_path(None) == tmp_path / "xdg" / "lottery-tui" / "results.duckdb"


def test_missing_store_is_built_from_shipped_data(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The per-user default is created with its folders; an explicit path in a missing folder is
    # refused (tests/reliability/test_bad_store_paths.py).
    monkeypatch.delenv("LOTTERY_DB", raising=False)
    monkeypatch.setenv("XDG_DATA_HOME", str(tmp_path / "xdg"))
    path = tmp_path / "xdg" / "lottery-tui" / "results.duckdb"
    con = connect(None)
    try:
        # timm and analysing-relations, and the testbed's 3,873 (tests/store/test_testbed.py)
        assert con.execute("SELECT count(*) FROM results").fetchall() == [(12478 + 3873,)]
    finally:
        con.close()
    assert sorted(p.name for p in path.parent.iterdir()) == ["results.duckdb"]


def _set_version(path: Path, value: str) -> None:
    con = duckdb.connect(str(path))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [value])
    con.close()


def test_newer_schema_is_refused(empty_db: Path, copy_store) -> None:
    path = copy_store(empty_db)
    _set_version(path, "99")
    with pytest.raises(SchemaVersionError, match="schema version 99, newer"):
        connect(path)


def test_older_schema_without_migration_is_refused(empty_db: Path, copy_store) -> None:
    path = copy_store(empty_db)
    _set_version(path, "0")
    with pytest.raises(SchemaVersionError, match="cannot migrate"):
        connect(path)


def test_foreign_database_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.duckdb"
    duckdb.connect(str(path)).close()
    with pytest.raises(SchemaVersionError, match="not a lottery-tui store"):
        connect(path)


def test_write_transaction_rolls_back_on_error(empty_db: Path, copy_store) -> None:
    path = copy_store(empty_db)
    before = fingerprint(path)
    with pytest.raises(RuntimeError), write_transaction(path) as con:
        con.execute("DELETE FROM images")
        raise RuntimeError("boom")
    assert fingerprint(path) == before


def _holder(path: Path, marker: Path, body: str, *, read_only: bool = False) -> subprocess.Popen:
    """A real process that opens the store, writes `marker`, then runs `body` (indented)."""
    script = textwrap.dedent(
        """
        import sys, time
        from pathlib import Path
        from lottery_tui.store.connection import connect, write_transaction
        path, marker = Path(sys.argv[1]), Path(sys.argv[2])
        """
    ) + textwrap.dedent(body)
    return subprocess.Popen(
        [sys.executable, "-c", script, str(path), str(marker)], cwd=ROOT, stderr=subprocess.PIPE
    )


def _wait_for(marker: Path, process: subprocess.Popen, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while not marker.exists():
        if process.poll() is not None:
            raise AssertionError(process.stderr.read().decode())
        assert time.monotonic() < deadline, "helper process did not start"
        time.sleep(0.02)


def test_locked_store_names_the_holder_pid(empty_db: Path, copy_store, tmp_path: Path) -> None:
    path = copy_store(empty_db)
    marker = tmp_path / "locked"
    holder = _holder(
        path,
        marker,
        """
        with write_transaction(path) as con:
            marker.touch()
            time.sleep(60)
        """,
    )
    try:
        _wait_for(marker, holder)
        started = time.monotonic()
        with pytest.raises(StoreLockedError) as info:
            connect(path, read_only=True, retry_seconds=0.5)
        assert time.monotonic() - started >= 0.5  # it retried before giving up
        assert f"process {holder.pid} holds its lock" in str(info.value)
        assert info.value.exit_code != 0
    finally:
        holder.kill()
        holder.wait()


def test_writer_retries_until_the_lock_is_released(
    empty_db: Path, copy_store, tmp_path: Path
) -> None:
    path = copy_store(empty_db)
    marker = tmp_path / "locked"
    holder = _holder(
        path,
        marker,
        """
        con = connect(path, read_only=False)
        marker.touch()
        time.sleep(0.7)
        con.close()
        """,
    )
    try:
        _wait_for(marker, holder)
        with write_transaction(path, retry_seconds=30) as con:
            con.execute("UPDATE datasets SET display_name = 'x' WHERE dataset_id = 'imagenet'")
    finally:
        holder.wait(timeout=30)
    check = duckdb.connect(str(path), read_only=True)
    assert check.execute(
        "SELECT display_name FROM datasets WHERE dataset_id = 'imagenet'"
    ).fetchall() == [("x",)]
    check.close()


def test_second_shell_can_query_while_explorer_reads(
    shipped_db: Path, copy_store, tmp_path: Path
) -> None:
    path = copy_store(shipped_db)
    marker = tmp_path / "reading"
    reader = _holder(
        path,
        marker,
        """
        con = connect(path, read_only=True)
        marker.touch()
        time.sleep(60)
        """,
    )
    try:
        _wait_for(marker, reader)
        lottery = Path(sys.executable).with_name("lottery")
        result = subprocess.run(
            [str(lottery), "sql", "--db", str(path), "--format", "csv",
             "SELECT count(*) AS n FROM results"],
            capture_output=True, text=True, timeout=60,
        )  # fmt: skip
        assert result.returncode == 0, result.stderr
        assert result.stdout.splitlines() == ["n", str(12478 + 3873)]
    finally:
        reader.kill()
        reader.wait()


def test_kill_9_during_import_leaves_store_as_before(
    shipped_db: Path, copy_store, tmp_path: Path
) -> None:
    """A real import killed with SIGKILL after writing its rows, before commit."""
    path = copy_store(shipped_db)
    before = fingerprint(path)
    csv_path = tmp_path / "long.csv"
    csv_path.write_text("model,dataset,top1\nkilled-model,imagenet,55.5\n")
    marker = tmp_path / "written"
    importer = _holder(
        path,
        marker,
        f"""
        from lottery_tui.store.long_import import parse_long_csv, write_long
        from lottery_tui.store.timm_import import parse_timm_csv, write_timm
        timm = parse_timm_csv(Path({str(data_dir() / "timm-results" / "results-sketch.csv")!r}),
                              dataset_id="imagenetv2-top-images")
        with write_transaction(path) as con:
            write_long(con, parse_long_csv(Path({str(csv_path)!r})))
            write_timm(con, timm)
            con.execute(
                "DELETE FROM prediction_rows WHERE set_id IN "
                "(SELECT set_id FROM prediction_sets WHERE dataset_id = 'imagenet-real')"
            )
            marker.touch()
            time.sleep(60)
        """,
    )
    _wait_for(marker, importer)
    os.kill(importer.pid, signal.SIGKILL)
    assert importer.wait() == -signal.SIGKILL
    assert fingerprint(path) == before
    con = connect(path, read_only=False)  # opens cleanly, and is writable again
    con.close()
