"""Issue 19 items 6 and 7: cases that ended in `internal error` (or were wrongly accepted) now get
one clear line and a non-zero exit, with nothing left behind."""

from __future__ import annotations

import errno
import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import duckdb
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store.write_intent import writer_waiting

ROOT = Path(__file__).resolve().parents[2]


def _error(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert "internal error" not in err and "Traceback" not in err
    return err


def test_db_under_a_regular_file(tmp_path: Path, capsys) -> None:
    plain = tmp_path / "plain.txt"
    plain.write_text("x")
    assert main(["sql", "SELECT 1", "--db", str(plain / "results.duckdb")]) == 2
    assert f"{plain} is a file, not a folder" in _error(capsys)


def test_non_utf8_db_path_leaves_nothing(tmp_path: Path, capsys) -> None:
    db = os.fsdecode(os.fsencode(tmp_path) + b"/store\xff.duckdb")
    assert main(["sql", "SELECT 1", "--db", db]) == 2
    assert "not valid UTF-8" in _error(capsys)
    assert list(tmp_path.iterdir()) == []  # no .building, no store


def test_non_numeric_schema_version(results_db: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "results.duckdb"
    shutil.copyfile(results_db, store)
    con = duckdb.connect(str(store))
    con.execute("UPDATE meta SET value = 'abc' WHERE key = 'schema_version'")
    con.close()
    assert main(["sql", "SELECT 1", "--db", str(store)]) == 2
    assert "schema version 'abc' is not a number" in _error(capsys)


@pytest.mark.parametrize(
    "argv",
    [
        ["--source", "", "sql", "SELECT 1"],
        ["--source", " ", "sql", "SELECT 1"],
    ],  # imports refuse it in the store (test_import_catalogue.py), for the API too
)
def test_empty_source_refused(argv: list[str], capsys) -> None:
    with pytest.raises(SystemExit) as exit_info:
        main(argv)
    assert exit_info.value.code == 2
    assert "--source: must not be empty" in capsys.readouterr().err


def test_symlink_loop_in_a_manifest_and_as_a_file(tmp_path: Path, capsys) -> None:
    (tmp_path / "a.csv").symlink_to(tmp_path / "b.csv")
    (tmp_path / "b.csv").symlink_to(tmp_path / "a.csv")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,model,dataset\na.csv,m,imagenet\n")
    store = tmp_path / "store.duckdb"
    argv = ["import", "predictions", "--manifest", str(manifest), "--db", str(store)]
    assert main(argv) == 2
    assert "line 2, column file: a symbolic link loop: 'a.csv'" in _error(capsys)
    argv = ["import", "predictions", str(tmp_path / "a.csv"), "--model", "m"]
    assert main([*argv, "--dataset", "imagenet", "--db", str(store)]) == 2
    assert "is a symbolic link loop" in _error(capsys)


def test_stale_writer_marker_naming_a_live_unrelated_pid_is_removed(tmp_path: Path) -> None:
    store = tmp_path / "results.duckdb"
    unrelated = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(60)"])
    try:
        marker = tmp_path / f".results.duckdb.{unrelated.pid}.writer-waiting"
        marker.touch()  # what a killed writer left, its PID since reused
        assert not writer_waiting(store)
        assert not marker.exists()
    finally:
        unrelated.kill()
        unrelated.wait()


def test_a_live_waiting_writer_still_counts(tmp_path: Path) -> None:
    store = tmp_path / "results.duckdb"
    code = (
        "import sys, time; from pathlib import Path\n"
        "from lottery_tui.store.write_intent import announce_writer\n"
        f"with announce_writer(Path({str(store)!r})):\n"
        "    print('waiting', flush=True); time.sleep(60)\n"
    )
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    writer = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, env=env)
    try:
        assert writer.stdout.readline().strip() == b"waiting"
        assert writer_waiting(store)
    finally:
        writer.kill()
        writer.wait()
    time.sleep(0.1)
    assert not writer_waiting(store)  # killed: its marker is stale and goes
    assert not list(tmp_path.glob("*.writer-waiting"))


def test_ctrl_c_stops_a_console_read_of_a_fifo_promptly(results_db: Path, tmp_path: Path) -> None:
    """DuckDB blocks opening a FIFO nobody writes, where its interrupt cannot reach it."""
    fifo = tmp_path / "fifo"
    os.mkfifo(fifo)
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    proc = subprocess.Popen(
        [sys.executable, "-m", "lottery_tui.cli.main", "sql",
         f"SELECT * FROM read_text('{fifo}')", "--db", str(results_db)],
        stdout=subprocess.PIPE, stderr=subprocess.PIPE, env=env, text=True,
    )  # fmt: skip
    try:
        time.sleep(3)  # started, and blocked on the FIFO
        assert proc.poll() is None
        proc.send_signal(signal.SIGINT)
        _, err = proc.communicate(timeout=15)
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
    assert proc.returncode == 130
    assert err.strip().splitlines() == ["lottery: interrupted (the query was blocked on a file)"]


@pytest.mark.parametrize("via", ["--db", "LOTTERY_DB"])
def test_a_store_whose_folder_vanished_is_not_replaced(
    via: str, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """A store's folder moved away: a fresh store there would silently take the next import."""
    folder = tmp_path / "moved-away"
    store = folder / "results.duckdb"
    argv = ["sql", "SELECT 1"]
    if via == "--db":
        argv += ["--db", str(store)]
    else:
        monkeypatch.setenv("LOTTERY_DB", str(store))
    assert main(argv) == 2
    assert f"folder {folder} does not exist: create it, or give another --db" in _error(capsys)
    assert list(tmp_path.iterdir()) == []  # nothing created


@pytest.mark.parametrize(
    "fault",
    [
        duckdb.IOException('Could not write file "x": No space left on device'),
        OSError(errno.ENOSPC, os.strerror(errno.ENOSPC)),
    ],
)
def test_disk_full_during_the_first_build_leaves_nothing(
    fault: Exception, tmp_path: Path, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    """The build's last load fails as a full disk would: one line, and no half-built store."""
    from lottery_tui.store import seed

    def fill_the_disk(con, data) -> None:
        con.execute("INSERT INTO meta VALUES ('half', 'built')")
        raise fault

    monkeypatch.setattr(seed, "load_testbed", fill_the_disk)
    store = tmp_path / "results.duckdb"
    assert main(["sql", "SELECT 1", "--db", str(store)]) == 2
    err = _error(capsys)
    assert err.startswith(f"lottery: error: {store}: cannot build the store (nothing was created)")
    assert "No space left on device" in err
    assert list(tmp_path.iterdir()) == []  # no store, no .building, no .wal
