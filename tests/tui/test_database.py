"""The explorer's shared read-only connection: lending the store to a writer, cancelling."""

from __future__ import annotations

import shutil
import threading

import duckdb
import pytest

from lottery_tui.tui.database import ExplorerDatabase


@pytest.fixture
def db_copy(small_db, tmp_path):
    path = tmp_path / "store.duckdb"
    shutil.copy(small_db, path)
    return path


def test_released_lets_a_writer_in_and_reopens_after(db_copy):
    database = ExplorerDatabase(str(db_copy))
    with database.cursor() as cur:
        before = cur.execute("SELECT count(*) FROM models").fetchone()[0]
    with database.released():
        writer = duckdb.connect(str(db_copy))  # fails while a read-only handle is open
        writer.execute("UPDATE models SET framework = 'dino' WHERE model_id = 1")
        writer.close()
    with database.cursor() as cur:
        assert cur.execute("SELECT count(*) FROM models").fetchone()[0] == before
        assert cur.execute("SELECT framework FROM models WHERE model_id = 1").fetchone()[0] == (
            "dino"
        )
    database.close()


def test_cursor_waits_while_released(db_copy):
    database = ExplorerDatabase(str(db_copy))
    seen: list[int] = []

    def reader() -> None:
        with database.cursor() as cur:
            seen.append(cur.execute("SELECT 1").fetchone()[0])

    with database.released():
        thread = threading.Thread(target=reader)
        thread.start()
        thread.join(0.3)
        assert seen == []  # blocked until the store comes back
    thread.join(5)
    assert seen == [1]
    database.close()


def test_cancel_before_the_query_starts(db_copy):
    database = ExplorerDatabase(str(db_copy))
    database.cancel("sql")
    with pytest.raises(duckdb.InterruptException), database.cursor(tag="sql"):
        pass
    with database.cursor(tag="sql") as cur:  # the cancel was used up
        assert cur.execute("SELECT 2").fetchone()[0] == 2
    database.close()
