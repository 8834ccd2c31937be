"""kill -9 at several points of a large import, and a killed first-use build: the store always
opens afterwards and holds either exactly what it held before or the whole import; a killed
build's leftovers are removed at the next start."""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import sys
import time
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
import pytest

from lottery_tui.store.connection import connect
from lottery_tui.store.paths import data_dir
from tests.store.conftest import fingerprint_connection

LOTTERY = Path(sys.executable).with_name("lottery")
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}
KILL_AFTER_SECONDS = (0.3, 0.8, 1.4, 2.4)
WAL_POLL_SECONDS = 0.001


def fingerprint(store: Path) -> dict:
    """Every table's rows (count and hash), the import time of `sources` rows left out: two runs
    of the same import differ only there."""
    con = connect(store, read_only=True)  # opens (replaying committed work from the log)
    try:
        out = fingerprint_connection(con)
        out["sources"] = con.execute(
            "SELECT count(*), sum(hash(source_id, name, kind, path, sha256, run_id, config)) "
            "FROM sources"
        ).fetchone()
    finally:
        con.close()
    return out


@pytest.fixture(scope="module")
def big_predictions(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """50,000 per-image predictions the shipped store does not have (new bytes, new model)."""
    table = pq.read_table(data_dir() / "imagenet-val-predictions" / "convit_small.parquet")
    pred = table.column("pred")
    shifted = pc.cast(pc.bit_wise_and(pc.add(pc.cast(pred, pa.int32()), 1), 511), pred.type)
    path = tmp_path_factory.mktemp("big") / "shifted.parquet"
    pq.write_table(table.set_column(table.schema.get_field_index("pred"), "pred", shifted), path)
    return path


def _import(store: Path, predictions: Path) -> subprocess.Popen[bytes]:
    return subprocess.Popen(
        [str(LOTTERY), "import", "predictions", str(predictions), "--model", "zz-killed",
         "--dataset", "imagenet", "--db", str(store)],
        env=ENV, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip


@pytest.fixture(scope="module")
def complete(results_db: Path, big_predictions: Path, tmp_path_factory) -> dict:
    """The fingerprint of the store after the import ran to the end."""
    store = tmp_path_factory.mktemp("complete") / "store.duckdb"
    shutil.copyfile(results_db, store)
    assert _import(store, big_predictions).wait(timeout=120) == 0
    return fingerprint(store)


@pytest.mark.parametrize("delay", KILL_AFTER_SECONDS)
def test_kill_9_during_a_large_import(
    delay: float, results_db: Path, big_predictions: Path, complete: dict, tmp_path: Path
) -> None:
    store = tmp_path / "store.duckdb"
    shutil.copyfile(results_db, store)
    before = fingerprint(store)
    proc = _import(store, big_predictions)
    time.sleep(delay)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = fingerprint(store)  # the store opens
    assert after in (before, complete)
    print(f"kill -9 after {delay} s: {'unchanged' if after == before else 'complete'}")


@pytest.mark.parametrize("wait_ms", [0, 3, 20])
def test_kill_9_while_the_commit_is_written(
    wait_ms: int, results_db: Path, big_predictions: Path, complete: dict, tmp_path: Path
) -> None:
    """Killed `wait_ms` after the write-ahead log appears: inside the commit."""
    store = tmp_path / "store.duckdb"
    shutil.copyfile(results_db, store)
    before = fingerprint(store)
    wal = store.with_name(store.name + ".wal")
    proc = _import(store, big_predictions)
    while proc.poll() is None and not wal.exists():
        time.sleep(WAL_POLL_SECONDS)
    time.sleep(wait_ms / 1000)
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    after = fingerprint(store)
    assert after in (before, complete)
    print(f"kill -9 {wait_ms} ms into the commit: {'unchanged' if after == before else 'complete'}")


def test_a_killed_first_use_build_is_cleaned_at_the_next_start(tmp_path: Path) -> None:
    store = tmp_path / "new" / "results.duckdb"
    store.parent.mkdir()
    proc = subprocess.Popen(
        [str(LOTTERY), "datasets", "--db", str(store)], env=ENV,
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )  # fmt: skip
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not list(store.parent.glob(".results.duckdb.*")):
        time.sleep(0.01)
    time.sleep(0.2)  # in the middle of the build
    proc.send_signal(signal.SIGKILL)
    proc.wait()
    dead = proc.pid
    # Whatever the kill hit, also leave what a build killed earlier would have left.
    (store.parent / f".results.duckdb.{dead}.building").write_bytes(b"half a store")
    (store.parent / f".results.duckdb.{dead}.building.wal").write_bytes(b"log")
    live = store.parent / f".results.duckdb.{os.getppid()}.building"  # a live PID: kept
    live.write_bytes(b"in progress")
    con = connect(store, read_only=True)
    con.close()
    left = sorted(p.name for p in store.parent.iterdir())
    assert left == sorted(["results.duckdb", live.name])
