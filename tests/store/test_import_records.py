"""Imports as records (issue 19, item 4): `lottery imports` lists them, `lottery imports remove`
takes one back in one transaction, the same bytes under other options import as asked, and a
result given by two files of one command is refused naming both."""

from __future__ import annotations

import json
from pathlib import Path

import duckdb
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store import import_records
from lottery_tui.store.connection import connect
from lottery_tui.store.paths import data_dir

from .conftest import fingerprint

TIMM_A = data_dir() / "timm-results" / "results-imagenet-a.csv"
VAL = "ILSVRC2012_val_{:08d}.JPEG"


def run(args: list[str], db: Path, capsys) -> tuple[int, str, str]:
    code = main([*args, "--db", str(db)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def ok(args: list[str], db: Path, capsys) -> str:
    code, out, err = run(args, db, capsys)
    assert code == 0, err
    return out


def query(db: Path, sql: str, params: object = None) -> list[tuple]:
    with duckdb.connect(str(db), read_only=True) as con:
        return con.execute(sql, params).fetchall()


def records(db: Path, capsys) -> list[dict]:
    return json.loads(ok(["imports", "--format", "json"], db, capsys))


def test_shipped_data_imports_are_listed_as_records(shipped_db: Path, capsys) -> None:
    listed = records(shipped_db, capsys)
    assert {r["kind"] for r in listed} == {"seed"}
    by_source: dict[str, list[dict]] = {}
    for record in listed:
        by_source.setdefault(record["source"], []).append(record)
    assert len(by_source["timm"]) == 8
    assert len(by_source["analysing-relations"]) == 15
    assert len(by_source["imagenet-testbed"]) == 1
    timm_a = next(r for r in listed if r["file"].endswith("results-imagenet-a.csv"))
    assert json.loads(timm_a["options"]) == {
        "importer": "timm", "dataset": "imagenet-a", "scale": None,
    }  # fmt: skip
    assert (
        timm_a["rows"]
        == query(
            shipped_db,
            "SELECT count(*) FROM results WHERE source = 'timm' AND dataset = 'imagenet-a'",
        )[0][0]
    )
    assert all(r["rows"] == 50000 for r in by_source["analysing-relations"])
    for record in listed:  # the stored sha256 is that of the file
        assert len(record["sha256"]) == 64 and record["id"] > 0 and record["time"]


LONG = "model,dataset,top1\nonly-here,imagenet,51.5\nother,imagenet-a,12.0\n"


def test_a_removed_import_leaves_the_store_as_before(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    ok(["import", "timm", str(TIMM_A)], store, capsys)
    before = fingerprint(store)
    path = tmp_path / "mine.csv"
    path.write_text(LONG)
    out = ok(["import", "results", str(path)], store, capsys)
    (new,) = [r for r in records(store, capsys) if r["file"] == str(path)]
    assert f"as import {new['id']}" in out and new["rows"] == 2
    assert json.loads(new["options"]) == {
        "importer": "results", "map": {}, "skip_unmapped": False, "scale": None,
    }  # fmt: skip
    out = ok(["imports", "remove", str(new["id"])], store, capsys)
    assert out == (
        f"removed import {new['id']} ({path}, source user): 2 results, 0 predictions, "
        "2 models left with no rows: only-here, other\n"
    )
    assert fingerprint(store) == before


def test_a_removed_predictions_import_takes_its_derived_rows_too(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    before = fingerprint(store)
    path = tmp_path / "p.csv"
    path.write_text("image_id,pred\n" + "".join(f"{VAL.format(i)},{i}\n" for i in range(1, 41)))
    ok(["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"], store, capsys)
    assert {d for (d,) in query(store, "SELECT DISTINCT dataset FROM predictions")} == {
        "imagenet", "imagenet-real",
    }  # fmt: skip
    (record,) = records(store, capsys)
    assert record["rows"] == 40
    (real,) = query(store, "SELECT count(*) FROM predictions WHERE dataset = 'imagenet-real'")[0]
    assert 0 < real <= 40
    out = ok(["imports", "remove", str(record["id"])], store, capsys)
    assert f"2 results, {40 + real} predictions, 1 model left with no rows: m\n" in out
    assert fingerprint(store) == before


def test_a_model_keeping_rows_from_another_import_stays(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("model,dataset,top1\nkept,imagenet,50\n")
    second.write_text("model,dataset,top1\nkept,imagenet-a,10\n")
    ok(["import", "results", str(first)], store, capsys)
    ok(["import", "results", str(second)], store, capsys)
    ids = {r["file"]: r["id"] for r in records(store, capsys)}
    out = ok(["imports", "remove", str(ids[str(first)])], store, capsys)
    assert "0 results" not in out and "0 models left with no rows" in out
    assert query(store, "SELECT model, dataset, top1 FROM results") == [
        ("kept", "imagenet-a", 10.0)
    ]
    # its provenance now names the import that still holds its rows
    assert query(store, "SELECT source_id FROM models") == [(ids[str(second)],)]


def test_remove_is_one_transaction(
    empty_db: Path, copy_store, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = copy_store(empty_db)
    path = tmp_path / "mine.csv"
    path.write_text(LONG)
    ok(["import", "results", str(path)], store, capsys)
    before = fingerprint(store)
    original = import_records.remove_import

    def fails_at_the_end(con, import_id):
        original(con, import_id)
        raise OSError("disk full")

    monkeypatch.setattr(import_records, "remove_import", fails_at_the_end)
    (record,) = records(store, capsys)
    assert main(["imports", "remove", str(record["id"]), "--db", str(store)]) != 0
    assert "disk full" in capsys.readouterr().err
    assert fingerprint(store) == before


def test_removing_an_unknown_import_is_one_line(empty_db: Path, copy_store, capsys) -> None:
    store = copy_store(empty_db)
    code, out, err = run(["imports", "remove", "99"], store, capsys)
    assert code != 0 and out == ""
    assert err == "lottery: error: no import with id 99 (`lottery imports` lists them)\n"


WIDE = "model,top1_a,top1_b\nw1,50.5,61.0\nw2,40.0,52.0\n"


@pytest.mark.parametrize(
    ("first", "again"),
    [
        (
            ["--map", "top1_a=imagenet", "--skip-unmapped"],
            ["--map", "top1_a=imagenet-a", "--skip-unmapped"],
        ),
        (
            ["--map", "top1_a=imagenet", "--skip-unmapped"],
            ["--map", "top1_a=imagenet", "--skip-unmapped", "--source", "paper"],
        ),
        (
            ["--map", "top1_a=imagenet", "--skip-unmapped"],
            ["--map", "top1_a=imagenet", "--skip-unmapped", "--scale", "percent"],
        ),
    ],
    ids=["map", "source", "scale"],
)
def test_the_same_bytes_under_other_options_import_as_asked(
    first: list[str], again: list[str], empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    path = tmp_path / "wide.csv"
    path.write_text(WIDE)
    ok(["import", "results", str(path), *first], store, capsys)
    out = ok(["import", "results", str(path), *first], store, capsys)
    assert "(same sha256, source and options), nothing changed" in out
    out = ok(["import", "results", str(path), *again], store, capsys)
    assert "imported 2 results" in out
    assert len(records(store, capsys)) == 2


def test_the_same_timm_bytes_under_another_dataset_import_as_asked(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    ok(["import", "timm", str(TIMM_A)], store, capsys)
    out = ok(["import", "timm", str(TIMM_A), "--dataset", "imagenet-r"], store, capsys)
    assert "results on imagenet-r as import" in out
    counts = query(store, "SELECT dataset, count(*) FROM results GROUP BY ALL ORDER BY ALL")
    assert counts[0][1] == counts[1][1] and [d for d, _ in counts] == ["imagenet-a", "imagenet-r"]


def test_the_same_predictions_under_another_source_import_as_asked(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    path = tmp_path / "p.csv"
    path.write_text(f"image_id,pred\n{VAL.format(1)},3\n")
    args = ["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"]
    ok(args, store, capsys)
    ok([*args, "--source", "rerun"], store, capsys)
    assert query(store, "SELECT source FROM predictions WHERE dataset = 'imagenet' ORDER BY 1") == [
        ("rerun",), ("user",),
    ]  # fmt: skip


def test_a_result_given_by_two_files_of_one_command_is_refused(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    first, second = tmp_path / "a.csv", tmp_path / "b.csv"
    first.write_text("model,dataset,top1\nx,imagenet,50\ndup,imagenet,51\n")
    second.write_text("model,dataset,top1\ny,imagenet,60\nz,imagenet,61\ndup,imagenet,62\n")
    before = fingerprint(store)
    code, _, err = run(["import", "results", str(first), str(second)], store, capsys)
    assert code != 0
    assert err == (
        f"lottery: error: {second}, line 4, column model: model 'dup' on 'imagenet' is also "
        f"given by {first}, line 3: give each result in one file of a command\n"
    )
    assert fingerprint(store) == before


def test_a_timm_result_given_by_two_files_of_one_command_is_refused(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    header, *rows = TIMM_A.read_text().splitlines(keepends=True)
    copy = tmp_path / "results-imagenet-a.csv"
    copy.write_text(header + rows[5])
    code, _, err = run(["import", "timm", str(TIMM_A), str(copy)], store, capsys)
    model, size = rows[5].split(",")[:2]
    assert code != 0
    assert err == (
        f"lottery: error: {copy}, line 2, column model: model {model!r} at img_size {size} on "
        f"'imagenet-a' is also given by {TIMM_A}, line 7: give each result in one file of a "
        "command\n"
    )


def _downgrade_to_v3(path: Path) -> None:
    """What a version 3 store looked like: no `imports`, sha256 UNIQUE in `sources`."""
    con = duckdb.connect(str(path))
    con.execute(
        """
        DROP TABLE imports;
        CREATE TABLE _v3 (
            source_id INTEGER PRIMARY KEY DEFAULT nextval('source_ids'), name VARCHAR NOT NULL,
            kind VARCHAR NOT NULL, path VARCHAR, sha256 VARCHAR UNIQUE, run_id VARCHAR,
            config JSON, created_at TIMESTAMP NOT NULL DEFAULT current_timestamp);
        INSERT INTO _v3 SELECT * FROM sources;
        DROP TABLE sources;
        ALTER TABLE _v3 RENAME TO sources;
        UPDATE meta SET value = '3' WHERE key = 'schema_version';
        """
    )
    con.close()


def test_a_v3_store_migrates_its_sources_to_records(
    shipped_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(shipped_db)
    path = tmp_path / "p.csv"
    path.write_text(f"image_id,pred\n{VAL.format(1)},3\n{VAL.format(2)},4\n")
    ok(["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"], store,
       capsys)  # fmt: skip
    expected = records(store, capsys)
    _downgrade_to_v3(store)
    with connect(store, read_only=False):  # migrates
        pass
    migrated = records(store, capsys)
    assert [(r["id"], r["file"], r["sha256"], r["rows"]) for r in migrated] == [
        (r["id"], r["file"], r["sha256"], r["rows"]) for r in expected
    ]
    # the timm and predictions options come back whole, so the same import is still a no-op
    assert [json.loads(r["options"]) for r in migrated if r["source"] != "imagenet-testbed"] == [
        json.loads(r["options"]) for r in expected if r["source"] != "imagenet-testbed"
    ]
    out = ok(["import", "timm", str(TIMM_A)], store, capsys)
    assert "nothing changed" in out
    # and sha256 is no longer unique: the same bytes under another source import
    ok(["import", "timm", str(TIMM_A), "--source", "again"], store, capsys)
