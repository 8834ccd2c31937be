"""The SQL policy (`store/sql_policy.py`) against every write path found so far, through both
consoles: `lottery sql` and the explorer's SQL view (its worker code without the screen).

Each attempt runs in an empty working directory next to a copy of the store; afterwards no file
may have appeared there and the store's bytes must be unchanged. Attempts marked REFUSED must also
be refused by the policy with one line naming the statement type.
"""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path

import duckdb
import pytest

from lottery_tui.cli.main import main
from lottery_tui.errors import LotteryError, ReadOnlyViolation
from lottery_tui.tui.database import ExplorerDatabase
from lottery_tui.tui.queries import run_sql

from .conftest import file_fingerprint, files_under

REFUSED = True
HARMLESS = False  # may run, but must neither write a file nor change the store

ATTEMPTS = [
    ("IMPORT DATABASE 'e'", REFUSED, "IMPORT"),
    ("CALL enable_logging(level='debug', storage='file', storage_path='logs'); SELECT 'x'",
     REFUSED, "CALL"),
    ("SELECT * FROM enable_logging(level='debug', storage='file', storage_path='logs')",
     HARMLESS, None),
    ("PRAGMA enable_profiling='json'; SET profiling_output='p.json'; SELECT 1", REFUSED, "PRAGMA"),
    ("SET profiling_output='p.json'; SELECT 1", REFUSED, "SET"),
    ("SELECT * FROM enable_profiling(format='json', save_location='p.json')", HARMLESS, None),
    ("SET threads = 1", REFUSED, "SET"),
    ("SET memory_limit = '1GB'", REFUSED, "SET"),
    ("SET enable_external_access = false", REFUSED, "SET"),
    ("SET temp_directory = 'spill'", REFUSED, "SET"),
    ("SET lock_configuration = false", REFUSED, "SET"),
    ("RESET threads", REFUSED, "RESET"),
    ("SET VARIABLE x = 1", REFUSED, "SET"),
    ("USE memory", REFUSED, "USE"),
    ("COPY results TO 'out.csv'", REFUSED, "COPY"),
    ("COPY (SELECT 1) TO 'out.parquet' (FORMAT parquet)", REFUSED, "COPY"),
    ("COPY (PIVOT results ON dataset USING max(top1)) TO 'pivot.csv'", REFUSED, "COPY"),
    ("EXPLAIN ANALYZE COPY results TO 'explained.csv'", REFUSED, "EXPLAIN COPY"),
    ("EXPLAIN ANALYZE (FORMAT json) COPY results TO 'explained.csv'", REFUSED, "EXPLAIN COPY"),
    ("EXPLAIN ANALYZE COPY (PIVOT results ON dataset) TO 'explained.csv'", REFUSED,
     "EXPLAIN COPY"),
    ("EXPLAIN ANALYZE DELETE FROM models", REFUSED, "EXPLAIN DELETE"),
    ("EXPORT DATABASE 'exported'", REFUSED, "EXPORT"),
    ("ATTACH 'other.duckdb' AS other", REFUSED, "ATTACH"),
    ("ATTACH 'other.duckdb' AS other; CREATE TABLE other.t AS SELECT 1", REFUSED, "ATTACH"),
    ("DETACH other", REFUSED, "DETACH"),
    ("UPDATE EXTENSIONS", REFUSED, "UPDATE EXTENSIONS"),
    ("SELECT 1; UPDATE EXTENSIONS", REFUSED, "UPDATE EXTENSIONS"),
    ("INSTALL httpfs", REFUSED, "INSTALL"),
    ("LOAD httpfs", REFUSED, "LOAD"),
    ("FORCE INSTALL sqlite", REFUSED, "FORCE"),
    ("SELECT * FROM read_csv('https://example.invalid/x.csv')", HARMLESS, None),
    ("SELECT * FROM read_parquet('s3://bucket/x.parquet')", HARMLESS, None),
    ("SELECT * FROM sqlite_scan('x.sqlite', 't')", HARMLESS, None),
    ("INSERT INTO sources (source_id, name, kind) VALUES (99, 'x', 'import')", REFUSED, "INSERT"),
    ("WITH a AS (SELECT 1) INSERT INTO meta SELECT 'k', 'v'", REFUSED, "INSERT"),
    ("INSERT INTO meta PIVOT results ON dataset", REFUSED, "INSERT"),
    ("UPDATE models SET name = 'x'", REFUSED, "UPDATE"),
    ("DELETE FROM aggregate_results", REFUSED, "DELETE"),
    ("SELECT 1; DELETE FROM models", REFUSED, "DELETE"),
    ("DROP VIEW results", REFUSED, "DROP"),
    ("TRUNCATE models", REFUSED, "TRUNCATE"),
    ("ALTER TABLE models ADD COLUMN x INT", REFUSED, "ALTER"),
    ("CREATE TABLE t AS SELECT 1", REFUSED, "CREATE"),
    ("CREATE TEMP TABLE t AS SELECT 1", REFUSED, "CREATE"),
    ("CREATE TEMP TABLE t AS PIVOT results ON dataset", REFUSED, "CREATE"),
    ("CREATE MACRO m(x) AS x + 1", REFUSED, "CREATE"),
    ("CREATE SECRET (TYPE s3, KEY_ID 'a', SECRET 'b')", REFUSED, "CREATE"),
    ("CREATE PERSISTENT SECRET s (TYPE s3, KEY_ID 'a', SECRET 'b')", REFUSED, "CREATE"),
    ("CHECKPOINT", REFUSED, "CHECKPOINT"),
    ("CALL checkpoint()", REFUSED, "CALL"),
    ("SELECT * FROM force_checkpoint()", HARMLESS, None),
    ("SELECT * FROM checkpoint()", HARMLESS, None),
    ("VACUUM", REFUSED, "VACUUM"),
    ("ANALYZE", REFUSED, "ANALYZE"),
    ("BEGIN TRANSACTION", REFUSED, "BEGIN"),
    ("PREPARE p AS SELECT 1", REFUSED, "PREPARE"),
    ("EXECUTE p", REFUSED, "EXECUTE"),
    ("PRAGMA show_tables", REFUSED, "PRAGMA"),
    ("PRAGMA force_checkpoint", REFUSED, "PRAGMA"),
    ("SELECT * FROM add_grammar_extension('x')", HARMLESS, None),
    ("SELECT * FROM truncate_duckdb_logs()", HARMLESS, None),
    ("SELECT * FROM query('COPY results TO ''q.csv''')", HARMLESS, None),
    ("SELECT * FROM read_duckdb('absent.duckdb', table_name = 'x')", HARMLESS, None),
]  # fmt: skip
N_ATTEMPTS = len(ATTEMPTS)


@pytest.fixture
def workdir(tmp_path: Path, results_db: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """An empty working directory holding an IMPORT DATABASE payload, the store beside it."""
    store = tmp_path / "store.duckdb"
    shutil.copyfile(results_db, store)
    work = tmp_path / "work"
    (work / "e").mkdir(parents=True)
    (work / "e" / "schema.sql").write_text("COPY (SELECT 42) TO 'imported.csv';\n")
    (work / "e" / "load.sql").write_text("")
    monkeypatch.chdir(work)
    return work


def _store(work: Path) -> Path:
    return work.parent / "store.duckdb"


def _check_nothing_written(work: Path, before_files: set[str], before_store: tuple) -> None:
    assert files_under(work.parent) == before_files, "a file appeared"
    assert file_fingerprint(_store(work)) == before_store, "the store changed"


@pytest.mark.parametrize(("sql", "refused", "kind"), ATTEMPTS)
def test_lottery_sql_cannot_write(sql: str, refused: bool, kind: str | None, workdir: Path,
                                  capsys: pytest.CaptureFixture[str]) -> None:  # fmt: skip
    before = files_under(workdir.parent), file_fingerprint(_store(workdir))
    code = main(["sql", sql, "--db", str(_store(workdir))])
    err = capsys.readouterr().err
    assert "Traceback" not in err
    if refused:
        assert code != 0
        assert err.startswith(f"lottery: error: lottery sql is read-only: {kind}"), err
        assert err.count("\n") == 1
    elif code != 0:
        assert err.startswith("lottery: error: ") and err.count("\n") == 1, err
    _check_nothing_written(workdir, *before)


@pytest.mark.parametrize(("sql", "refused", "kind"), ATTEMPTS)
def test_explorer_sql_view_cannot_write(sql: str, refused: bool, kind: str | None,
                                        workdir: Path) -> None:  # fmt: skip
    before = files_under(workdir.parent), file_fingerprint(_store(workdir))
    database = ExplorerDatabase(str(_store(workdir)))
    try:
        with database.cursor(tag="sql") as cur:
            if refused:
                with pytest.raises(ReadOnlyViolation, match=f"read-only: {kind}"):
                    run_sql(cur, sql)
            else:
                with contextlib.suppress(duckdb.Error, LotteryError):
                    run_sql(cur, sql)  # failing is fine; writing is not
    finally:
        database.close()
    _check_nothing_written(workdir, *before)


def test_configuration_is_locked_for_the_explorer(workdir: Path) -> None:
    """A function reached from a SELECT cannot switch file output on: the lock refuses it."""
    database = ExplorerDatabase(str(_store(workdir)))
    with database.cursor() as cur, pytest.raises(duckdb.InvalidInputException, match="locked"):
        cur.sql("SELECT * FROM enable_logging(storage='file', storage_path='logs')").fetchall()
    database.close()


def test_local_files_can_still_be_joined(workdir: Path, capsys) -> None:
    """Documented: reading a local CSV for a join stays allowed."""
    (workdir / "mine.csv").write_text("model,tag\nbat_resnext26ts.ch_in1k,baseline\n")
    code = main(["sql", "SELECT r.model, m.tag FROM results r JOIN read_csv('mine.csv') m "
                 "USING (model) WHERE r.dataset = 'imagenet'", "--format", "csv",
                 "--db", str(_store(workdir))])  # fmt: skip
    assert code == 0
    assert capsys.readouterr().out == "model,tag\nbat_resnext26ts.ch_in1k,baseline\n"


def test_a_sqlite_file_as_the_store_is_one_line(tmp_path: Path, capsys, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    lite = tmp_path / "lite.db"
    con = duckdb.connect(":memory:")
    con.close()
    lite.write_bytes(b"SQLite format 3\x00" + bytes(4080))
    before = files_under(tmp_path)
    code = main(["sql", "SELECT 1", "--db", str(lite)])
    err = capsys.readouterr().err
    assert code != 0 and err.count("\n") == 1
    assert err.startswith(f"lottery: error: {lite}: cannot open the store")
    assert files_under(tmp_path) == before


@pytest.mark.parametrize(
    "sql",
    [
        "SELECT count(*) FROM results",
        "FROM results LIMIT 1",
        "VALUES (1)",
        "WITH a AS (SELECT 1 AS x) SELECT * FROM a",
        "DESCRIBE results",
        "SHOW TABLES",
        "SUMMARIZE SELECT top1 FROM results",
        "PIVOT (SELECT model, dataset, top1 FROM results WHERE model LIKE 'bat%') "
        "ON dataset USING max(top1)",
        "WITH r AS (SELECT model, dataset, top1 FROM results WHERE model LIKE 'bat%') "
        "PIVOT r ON dataset USING max(top1)",
        "UNPIVOT (SELECT 1 AS a, 2 AS b) ON a, b",
        "EXPLAIN SELECT * FROM results",
        "EXPLAIN ANALYZE SELECT count(*) FROM results",
        "EXPLAIN ANALYZE PIVOT results ON dataset USING max(top1)",
    ],
)
def test_queries_pass_the_policy(sql: str, workdir: Path, capsys) -> None:
    before = files_under(workdir.parent), file_fingerprint(_store(workdir))
    code = main(["sql", sql, "--format", "csv", "--db", str(_store(workdir))])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    assert captured.out.count("\n") >= 2  # a header and at least one row
    _check_nothing_written(workdir, *before)
