"""Issue 19 item 6, the cases that still ended in `internal error`: an input file whose name is not
UTF-8, a truncated store, a store with flipped bits (met when it opens or by any later query), and
a store whose schema version was edited to an old one. Each is one clear line and a non-zero exit,
and the store is left as it was (byte for byte; in content where a failed migration was rolled
back, as DuckDB rewrites its header on closing)."""

from __future__ import annotations

import hashlib
import os
import shutil
from pathlib import Path

import pytest

from lottery_tui.cli.main import main
from tests.store.conftest import fingerprint

BLOCK, HEADERS = 262144, 3 * 4096  # DuckDB's block size, and its file and database headers
VAL = "ILSVRC2012_val_{:08d}.JPEG"


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _one_line(capsys) -> str:
    err = capsys.readouterr().err
    assert len(err.splitlines()) == 1, err
    assert err.startswith("lottery: error: "), err
    assert "internal error" not in err and "Traceback" not in err, err
    return err


def _non_utf8(folder: Path, name: bytes, text: str) -> str:
    """A file named by `name`'s bytes, as `sys.argv` hands such a name to the CLI."""
    path = os.fsencode(folder) + b"/" + name
    with open(path, "w") as handle:
        handle.write(text)
    return os.fsdecode(path)


IMPORTS = {
    "predictions": (
        ["import", "predictions", "{file}", "--model", "m", "--dataset", "imagenet"],
        f"image_id,pred\n{VAL.format(1)},1\n",
    ),
    "results": (["import", "results", "{file}"], "model,dataset,top1\nm,imagenet,50\n"),
    "timm": (
        ["import", "timm", "{file}", "--dataset", "imagenet"],
        "model,img_size,top1,top5,param_count,crop_pct,interpolation\nm,224,80,95,25,0.9,bicubic\n",
    ),
    "dataset labels": (
        ["import", "dataset", "my-set", "--labels", "{file}"],
        "image_id,label\na.png,1\n",
    ),
}


@pytest.mark.parametrize("kind", sorted(IMPORTS))
def test_an_input_whose_name_is_not_utf8(kind: str, results_db: Path, tmp_path: Path, capsys):
    store = tmp_path / "results.duckdb"
    shutil.copyfile(results_db, store)
    before = _digest(store)
    argv, text = IMPORTS[kind]
    name = _non_utf8(tmp_path, b"r\xff\xfe.csv", text)
    assert main([*(name if a == "{file}" else a for a in argv), "--db", str(store)]) == 2
    err = _one_line(capsys)
    assert "r\\xff\\xfe.csv: the file name is not valid UTF-8: rename the file" in err
    assert _digest(store) == before


def test_a_manifest_in_a_folder_whose_name_is_not_utf8(
    results_db: Path, tmp_path: Path, capsys
) -> None:
    store = tmp_path / "results.duckdb"
    shutil.copyfile(results_db, store)
    before = _digest(store)
    folder = os.fsencode(tmp_path) + b"/d\xfd"
    os.mkdir(folder)
    with open(folder + b"/p.csv", "w") as handle:
        handle.write(f"image_id,pred\n{VAL.format(1)},1\n")
    with open(folder + b"/manifest.csv", "w") as handle:
        handle.write("file,model,dataset\np.csv,m,imagenet\n")
    manifest = os.fsdecode(folder + b"/manifest.csv")
    assert main(["import", "predictions", "--manifest", manifest, "--db", str(store)]) == 2
    assert "d\\xfd/manifest.csv: the file name is not valid UTF-8" in _one_line(capsys)
    assert _digest(store) == before


COMMANDS = [
    ["sql", "SELECT count(*) FROM predictions"],
    ["models"],
    ["report"],
    ["import", "results", "{ok}"],
]


@pytest.mark.parametrize("size", ["half", "headers only", "100 bytes"])
def test_a_truncated_store(size: str, results_db: Path, tmp_path: Path, capsys) -> None:
    store = tmp_path / "results.duckdb"
    shutil.copyfile(results_db, store)
    length = {"half": store.stat().st_size // 2, "headers only": HEADERS, "100 bytes": 100}
    os.truncate(store, length[size])
    before = _digest(store)
    ok = tmp_path / "ok.csv"
    ok.write_text("model,dataset,top1\nm,imagenet,50\n")
    for argv in COMMANDS:
        assert main([*(str(ok) if a == "{ok}" else a for a in argv), "--db", str(store)]) == 2
        assert f"{store}: cannot" in _one_line(capsys), argv
        assert _digest(store) == before, argv  # nothing repaired, extended or rewritten
    assert not store.with_name(store.name + ".wal").exists()


def test_a_flipped_bit_in_any_block(results_db: Path, tmp_path: Path, capsys) -> None:
    """One byte flipped in every other block in turn: whether the store's open or a later query
    of the command meets it, the command gives one clear line (or, where it never reads that
    block, its normal output)."""
    store = tmp_path / "results.duckdb"
    blocks = (results_db.stat().st_size - HEADERS) // BLOCK
    met_by: set[str] = set()
    for block in range(0, blocks, 2):
        shutil.copyfile(results_db, store)
        data = bytearray(store.read_bytes())
        data[HEADERS + block * BLOCK + 100] ^= 0xFF
        store.write_bytes(data)
        for argv in COMMANDS[:3]:
            code = main([*argv, "--db", str(store)])
            if code == 0:
                capsys.readouterr()
                continue
            assert code == 2, argv
            err = _one_line(capsys)
            assert f"{store}: cannot" in err or "query failed: Corrupt database file" in err, err
            met_by.add(argv[0])
    assert met_by == {"sql", "models", "report"}  # each command met some damage


@pytest.mark.parametrize("version", ["0", "1"])
def test_a_store_whose_schema_version_was_edited_to_an_old_one(
    version: str, results_db: Path, tmp_path: Path, capsys
) -> None:
    import duckdb

    store = tmp_path / "results.duckdb"
    shutil.copyfile(results_db, store)
    con = duckdb.connect(str(store))
    con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [version])
    con.close()
    before = fingerprint(store)
    for argv in (["sql", "SELECT 1"], ["models"]):
        assert main([*argv, "--db", str(store)]) == 2
        err = _one_line(capsys)
        assert f"{store}: store has schema version {version}" in err, err
        assert "rebuild it" in err
        assert fingerprint(store) == before  # the failed migration was rolled back
