"""Issue 19 item 6: a commit that cannot be written (a full disk, met as a write-size limit: the
write fails with EFBIG as ENOSPC would) and a store whose folder is moved away during the commit
end in one clear line, with the store holding its old content, and usable.

Each import runs in a child process, where `RLIMIT_FSIZE` caps the size any file may grow to
(no root, no tmpfs needed) and the folder is moved from inside the transaction, just before the
commit. The commit is tried both ways a writer's commit can go: written to the WAL (DuckDB's
default, forced by a high `checkpoint_threshold`) and checkpointed into the store file (ours).
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from tests.store.conftest import fingerprint

ROOT = Path(__file__).resolve().parents[2]
THRESHOLDS = {"WAL": "1GB", "checkpoint": "0KB"}

CHILD = """
import os, resource, signal, sys
from lottery_tui.cli.main import main
from lottery_tui.store import connection, predictions_import

store, csv, threshold, fault = sys.argv[1:5]
connection.CHECKPOINT_ON_COMMIT = threshold
write = predictions_import.write_prediction_files

def write_then_fault(con, files, **options):
    outcomes = write(con, files, **options)
    if fault == "move":  # the rows are written, the commit comes next
        os.rename(os.path.dirname(store), os.path.dirname(store) + "-moved")
    elif fault == "disk full":  # a file may grow no further than it is now, WAL included
        signal.signal(signal.SIGXFSZ, signal.SIG_IGN)  # else the process is killed
        limit = os.path.getsize(store) if threshold == "0KB" else 4096
        resource.setrlimit(resource.RLIMIT_FSIZE, (limit, resource.RLIM_INFINITY))
    return outcomes

predictions_import.write_prediction_files = write_then_fault
argv = ["import", "predictions", csv, "--model", "m", "--dataset", "imagenet", "--db", store]
sys.exit(main(argv))
"""


def _predictions_csv(store: Path, path: Path) -> Path:
    con = duckdb.connect(str(store), read_only=True)
    try:
        ids = con.execute("SELECT image_id FROM images WHERE dataset_id = 'imagenet'").fetchall()
    finally:
        con.close()
    path.write_text("image_id,pred\n" + "".join(f"{i},{n % 1000}\n" for n, (i,) in enumerate(ids)))
    return path


def _import(store: Path, csv: Path, commit: str, fault: str) -> subprocess.CompletedProcess:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    argv = [sys.executable, "-c", CHILD, str(store), str(csv), THRESHOLDS[commit], fault]
    return subprocess.run(argv, capture_output=True, text=True, env=env, timeout=120)


def _one_clear_line(err: str) -> str:
    assert len(err.splitlines()) == 1, err
    assert err.startswith("lottery: error: ") and "internal error" not in err, err
    return err


def _models(store: Path) -> set[str]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return {row[0] for row in con.execute("SELECT name FROM models").fetchall()}
    finally:
        con.close()


@pytest.mark.parametrize("commit", sorted(THRESHOLDS))
def test_a_commit_the_disk_cannot_take_keeps_the_old_store(
    commit: str, results_db: Path, tmp_path: Path
) -> None:
    store = tmp_path / "store" / "results.duckdb"
    store.parent.mkdir()
    shutil.copyfile(results_db, store)
    csv = _predictions_csv(store, tmp_path / "p.csv")
    before = fingerprint(store)
    done = _import(store, csv, commit, "disk full")
    assert done.returncode == 2, done.stderr
    err = _one_clear_line(done.stderr)
    assert f"{store}: cannot write the store (nothing was changed)" in err, err
    assert "File too large" in err, err  # the system's reason, as DuckDB gives it
    assert fingerprint(store) == before  # the old content, whatever the failed write left
    again = _import(store, csv, commit, "none")  # and it takes the same import afterwards
    assert again.returncode == 0, again.stderr
    assert "m" in _models(store)


@pytest.mark.parametrize("commit", sorted(THRESHOLDS))
def test_a_store_folder_moved_away_during_the_commit(
    commit: str, results_db: Path, tmp_path: Path
) -> None:
    folder = tmp_path / "store"
    store = folder / "results.duckdb"
    folder.mkdir()
    shutil.copyfile(results_db, store)
    csv = _predictions_csv(store, tmp_path / "p.csv")
    before = fingerprint(store)
    done = _import(store, csv, commit, "move")
    moved = tmp_path / "store-moved" / "results.duckdb"
    assert done.returncode == 2, done.stderr
    err = _one_clear_line(done.stderr)
    assert f"{store}: cannot write the store (nothing was changed)" in err, err
    assert "No such file or directory" in err, err  # DuckDB cannot reach the store's WAL
    assert not folder.exists()  # nothing recreated where the store was
    assert fingerprint(moved) == before  # the moved store holds its old content, and works
    assert _import(moved, csv, commit, "none").returncode == 0
    assert "m" in _models(moved)
