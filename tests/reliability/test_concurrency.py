"""Concurrency: writers beside an open explorer, two writers at once, a writer beside readers.

DuckDB lets one process write a file only while no other process has it open. Writers wait up to
`LOCK_RETRY_SECONDS` for the lock; the explorer opens the store only for a query batch.
"""

from __future__ import annotations

import asyncio
import os
import shutil
import subprocess
import sys
import textwrap
import time
from pathlib import Path

import duckdb
import pytest

import lottery_tui.tui.app as app_module
from lottery_tui.tui.app import LotteryApp
from lottery_tui.tui.database import ExplorerDatabase
from lottery_tui.tui.views.results import ResultsView

LOTTERY = Path(sys.executable).with_name("lottery")
ROOT = Path(__file__).resolve().parents[2]
ENV = {**os.environ, "PYTHONPATH": str(ROOT)}


def _results_csv(path: Path, models: list[str]) -> Path:
    lines = ["model,dataset,top1,top5"]
    lines += [f"{m},imagenet,{50 + i / 100:.2f},99.0" for i, m in enumerate(models)]
    path.write_text("\n".join(lines) + "\n")
    return path


def _import(store: Path, csv: Path, source: str) -> subprocess.Popen[str]:
    return subprocess.Popen(
        [str(LOTTERY), "import", "results", str(csv), "--source", source, "--db", str(store)],
        env=ENV, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True,
    )  # fmt: skip


def _models(store: Path, source: str) -> set[str]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        rows = con.execute("SELECT model FROM results WHERE source = ?", [source]).fetchall()
    finally:
        con.close()
    return {r[0] for r in rows}


@pytest.fixture
def store(results_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    shutil.copyfile(results_db, path)
    return path


def test_the_explorer_holds_no_connection_while_idle(store: Path) -> None:
    database = ExplorerDatabase(str(store))
    with database.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM results").fetchone()[0] > 0
    assert database.holds_connection  # kept for the rest of a burst of queries...
    time.sleep(database.idle_close_seconds + 0.5)
    assert not database.holds_connection  # ...then closed
    writer = duckdb.connect(str(store))  # refused if a read-only handle were still open
    writer.close()
    database.close()


async def test_import_beside_the_open_explorer_shows_the_new_rows(
    store: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(app_module, "STORE_CHECK_SECONDS", 0.2)
    app = LotteryApp(db=str(store), cursor_blink=False, watch_tty=False)
    async with app.run_test(size=(100, 30)) as pilot:
        view = app.query_one(ResultsView)
        for _ in range(200):
            if view.grid is not None:
                break
            await pilot.pause(0.05)
        assert view.grid is not None
        before = view.grid.table.num_rows
        csv = _results_csv(tmp_path / "new.csv", ["zz_beside_explorer"])
        proc = await asyncio.create_subprocess_exec(
            str(LOTTERY), "import", "results", str(csv), "--source", "mine", "--db", str(store),
            env=ENV, stderr=asyncio.subprocess.PIPE,
        )  # fmt: skip
        _, err = await proc.communicate()
        assert proc.returncode == 0, err.decode()
        deadline = time.monotonic() + 15
        while time.monotonic() < deadline:
            grid = view.grid
            if grid is not None and grid.table.num_rows == before + 1:
                break
            await pilot.pause(0.1)
        assert view.grid.table.num_rows == before + 1
        assert "zz_beside_explorer" in view.grid.table.column("model").to_pylist()


def test_two_writers_at_once(store: Path, tmp_path: Path) -> None:
    """Both imports land whole: the second waits for the first's lock."""
    a = _results_csv(tmp_path / "a.csv", [f"zz_a_{i}" for i in range(200)])
    b = _results_csv(tmp_path / "b.csv", [f"zz_b_{i}" for i in range(200)])
    procs = [_import(store, a, "writer-a"), _import(store, b, "writer-b")]
    outcomes = [(p.wait(timeout=60), p.stderr.read()) for p in procs]
    assert [code for code, _ in outcomes] == [0, 0], outcomes
    assert _models(store, "writer-a") == {f"zz_a_{i}" for i in range(200)}
    assert _models(store, "writer-b") == {f"zz_b_{i}" for i in range(200)}


READER = textwrap.dedent(
    """
    import sys, time
    from pathlib import Path
    from lottery_tui.tui.database import ExplorerDatabase
    database = ExplorerDatabase(sys.argv[1])
    stop, seen = Path(sys.argv[2]), set()
    while not stop.exists():
        with database.cursor() as cur:
            seen.add(cur.execute(
                "SELECT count(*) FROM results WHERE source = 'beside-readers'").fetchone()[0])
        time.sleep(0.02)
    print(sorted(seen))
    """
)


def test_a_writer_beside_a_loop_of_readers(store: Path, tmp_path: Path) -> None:
    """Readers opening the store per query (as the explorer does) never block a writer for
    good, and never see half an import."""
    stop = tmp_path / "stop"
    readers = [
        subprocess.Popen([sys.executable, "-c", READER, str(store), str(stop)], env=ENV,
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        for _ in range(2)
    ]  # fmt: skip
    try:
        time.sleep(1.5)  # the readers are looping
        csv = _results_csv(tmp_path / "c.csv", [f"zz_c_{i}" for i in range(300)])
        writer = _import(store, csv, "beside-readers")
        code, err = writer.wait(timeout=60), writer.stderr.read()
        time.sleep(0.5)
    finally:
        stop.touch()
    outputs = [r.communicate(timeout=30) for r in readers]
    assert code == 0, err
    for (out, reader_err), reader in zip(outputs, readers, strict=True):
        assert reader.returncode == 0, reader_err
        assert set(eval(out)) <= {0, 300}
        assert 300 in eval(out)
