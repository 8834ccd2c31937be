"""The `lottery` CLI end to end: sql (read-only, three formats), models, datasets, db info."""

from __future__ import annotations

import csv
import io
import json
import subprocess
import sys
from pathlib import Path

import duckdb
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store.schema import SCHEMA_VERSION

LOTTERY = Path(sys.executable).with_name("lottery")


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def direct(db: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


QUERY = "SELECT model, dataset, top1, top5 FROM results WHERE model LIKE 'vit_small%' ORDER BY ALL"


def test_sql_csv_matches_a_direct_query(shipped_db: Path, capsys) -> None:
    code, out, _ = run(["sql", QUERY, "--format", "csv", "--db", str(shipped_db)], capsys)
    assert code == 0
    parsed = list(csv.reader(io.StringIO(out)))
    assert parsed[0] == ["model", "dataset", "top1", "top5"]
    expected = direct(shipped_db, QUERY)
    assert len(parsed) - 1 == len(expected) > 10
    for row, (model, dataset, top1, top5) in zip(parsed[1:], expected, strict=True):
        assert row[:2] == [model, dataset]
        assert float(row[2]) == top1
        assert row[3] == ("" if top5 is None else str(top5)) or float(row[3]) == top5


def test_sql_json_matches_a_direct_query(shipped_db: Path, capsys) -> None:
    code, out, _ = run(["--db", str(shipped_db), "sql", QUERY, "--format", "json"], capsys)
    assert code == 0
    records = json.loads(out)
    assert [tuple(r.values()) for r in records] == direct(shipped_db, QUERY)
    assert set(records[0]) == {"model", "dataset", "top1", "top5"}


def test_sql_table_format(shipped_db: Path, capsys) -> None:
    code, out, _ = run(
        ["sql", "SELECT model, top1 FROM results WHERE model = 'vgg11' "
         "AND source = 'analysing-relations' ORDER BY dataset",
         "--db", str(shipped_db)], capsys,
    )  # fmt: skip
    lines = out.splitlines()
    assert code == 0
    assert lines[0].split() == ["model", "top1"]
    assert set(lines[1]) <= {"-", " "}
    assert lines[2].split() == ["vgg11", "69.048"]
    assert lines[-1] == "(2 rows)"


def test_sql_reads_the_query_from_stdin(shipped_db: Path, capsys, monkeypatch) -> None:
    monkeypatch.setattr(sys, "stdin", io.StringIO("SELECT count(*) AS n FROM datasets"))
    code, out, _ = run(["sql", "-", "--format", "csv", "--db", str(shipped_db)], capsys)
    assert code == 0 and out == "n\n13\n"


@pytest.mark.parametrize(
    ("statement", "kind"),
    [
        ("INSERT INTO datasets (dataset_id, display_name, n_classes) VALUES ('x', 'x', 1)",
         "INSERT"),
        ("DELETE FROM aggregate_results", "DELETE"),
        ("UPDATE models SET name = 'x'", "UPDATE"),
        ("DROP VIEW results", "DROP"),
        ("CREATE TABLE t AS SELECT 1", "CREATE"),
        ("COPY results TO '/tmp/lottery-copy.csv'", "COPY"),
        ("ATTACH '/tmp/other.duckdb' AS other", "ATTACH"),
        ("SELECT 1; DELETE FROM models", "DELETE"),
    ],
)  # fmt: skip
def test_sql_refuses_statements_that_change_anything(
    statement: str, kind: str, shipped_db: Path, copy_store, capsys
) -> None:
    store = copy_store(shipped_db)
    before = direct(store, "SELECT count(*), sum(hash(r)) FROM results r")
    code, out, err = run(["sql", statement, "--db", str(store)], capsys)
    assert code != 0 and out == ""
    assert err.startswith(f"lottery: error: lottery sql is read-only: {kind} statements")
    assert err.count("\n") == 1
    assert direct(store, "SELECT count(*), sum(hash(r)) FROM results r") == before


def test_sql_error_is_one_line(shipped_db: Path, capsys) -> None:
    code, _, err = run(["sql", "SELECT nope FROM results", "--db", str(shipped_db)], capsys)
    assert code != 0
    assert err.startswith("lottery: error: query failed: Binder Error")
    assert err.count("\n") == 1


def test_models_filters(shipped_db: Path, capsys) -> None:
    code, out, _ = run(
        ["models", "--like", "resnet50.a1_in1k*", "--format", "json", "--db", str(shipped_db)],
        capsys,
    )
    assert code == 0
    assert [m["model"] for m in json.loads(out)] == ["resnet50.a1_in1k@224", "resnet50.a1_in1k@288"]
    code, out, _ = run(
        ["models", "--source", "analysing-relations", "--format", "csv", "--db", str(shipped_db)],
        capsys,
    )
    rows = list(csv.DictReader(io.StringIO(out)))
    assert len(rows) == 15
    assert all(r["datasets"] == "imagenet,imagenet-real" for r in rows)
    code, out, _ = run(
        ["models", "--framework", "dino", "--format", "csv", "--db", str(shipped_db)], capsys
    )
    assert [r["model"] for r in csv.DictReader(io.StringIO(out))] == ["resmlp_24_224.fb_dino"]


def test_datasets_listing(shipped_db: Path, capsys) -> None:
    code, out, _ = run(["datasets", "--format", "json", "--db", str(shipped_db)], capsys)
    assert code == 0
    by_id = {d["dataset"]: d for d in json.loads(out)}
    assert len(by_id) == 13
    assert by_id["imagenet-real"]["shares_images"] == "imagenet"
    assert by_id["imagenet-real"]["per_image_models"] == 15
    assert by_id["imagenet-sketch"]["results"] == 1556 + 335  # timm and the testbed


def test_db_info(shipped_db: Path, capsys) -> None:
    code, out, _ = run(["db", "info", "--format", "json", "--db", str(shipped_db)], capsys)
    assert code == 0
    info = json.loads(out)
    assert info["path"] == str(shipped_db)
    assert info["schema_version"] == SCHEMA_VERSION
    assert info["counts"]["results"] == direct(shipped_db, "SELECT count(*) FROM results")[0][0]
    assert {s["name"] for s in info["sources"]} == {
        "timm",
        "analysing-relations",
        "imagenet-testbed",
    }


def test_lottery_db_env_store_is_created_on_first_use(tmp_path, monkeypatch, capsys) -> None:
    target = tmp_path / "fresh" / "results.duckdb"
    target.parent.mkdir()  # an explicit path's folder must exist (test_bad_store_paths.py)
    monkeypatch.setenv("LOTTERY_DB", str(target))
    code, out, _ = run(["sql", "SELECT count(*) AS n FROM results", "--format", "csv"], capsys)
    # timm and analysing-relations, and the testbed's 3,873 (tests/store/test_testbed.py)
    assert code == 0 and out == f"n\n{12478 + 3873}\n"
    assert target.exists()


def test_console_script_end_to_end(shipped_db: Path, copy_store) -> None:
    store = copy_store(shipped_db)
    result = subprocess.run(
        [str(LOTTERY), "sql", "select * from results limit 3"],
        capture_output=True, text=True, timeout=60, env={"LOTTERY_DB": str(store), "PATH": ""},
    )  # fmt: skip
    assert result.returncode == 0, result.stderr
    lines = result.stdout.splitlines()
    assert lines[0].split() == [
        "model",
        "dataset",
        "top1",
        "top5",
        "n_images",
        "source",
        "pretraining",
        "protocol",
    ]
    assert lines[-1] == "(3 rows)"


def test_help_lists_the_commands() -> None:
    result = subprocess.run([str(LOTTERY), "--help"], capture_output=True, text=True, timeout=60)
    assert result.returncode == 0
    for command in ("sql", "models", "datasets", "import", "db"):
        assert command in result.stdout
