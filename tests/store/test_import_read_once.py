"""Each input is read once: the sha256 stored is that of the bytes whose rows are stored, even
when the file is replaced while the import is parsing it (issue 19, item 2)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lottery_tui.cli.main import main
from lottery_tui.errors import InputError
from lottery_tui.store import csvfile, predictions_import

VERSION_A = b"model,dataset,top1\nswapped-a,imagenet,51.5\n"
VERSION_B = b"model,dataset,top1\nswapped-b,imagenet,62.5\n"


def _swap_while_parsing(
    monkeypatch: pytest.MonkeyPatch, module, name: str, path: Path, replacement: bytes
) -> None:
    """Replace the file on disk as soon as the parse step starts (after the import opened it)."""
    original = getattr(module, name)

    def swapping(*args, **kwargs):
        path.write_bytes(replacement)
        return original(*args, **kwargs)

    monkeypatch.setattr(module, name, swapping)


def test_results_file_swapped_mid_import_stores_the_hash_of_the_rows_stored(
    empty_db: Path, copy_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = copy_store(empty_db)
    path = tmp_path / "results.csv"
    path.write_bytes(VERSION_A)
    _swap_while_parsing(monkeypatch, csvfile, "decode_utf8", path, VERSION_B)
    assert main(["import", "results", str(path), "--db", str(store)]) == 0
    with duckdb.connect(str(store), read_only=True) as con:
        models = [r[0] for r in con.execute("SELECT model FROM results").fetchall()]
        hashes = [
            r[0]
            for r in con.execute(
                "SELECT sha256 FROM sources WHERE path = ?", [str(path)]
            ).fetchall()
        ]
    assert models == ["swapped-a"]
    assert hashes == [hashlib.sha256(VERSION_A).hexdigest()]
    monkeypatch.undo()  # version B (now on disk) is new bytes: it imports
    assert main(["import", "results", str(path), "--db", str(store)]) == 0
    with duckdb.connect(str(store), read_only=True) as con:
        assert con.execute("SELECT count(*) FROM results WHERE model = 'swapped-b'").fetchone() == (
            1,
        )


def _predictions(path: Path, preds: list[int]) -> bytes:
    pq.write_table(
        pa.table(
            {
                "image_idx": pa.array(range(len(preds)), pa.int64()),
                "pred": pa.array(preds, pa.int64()),
            }
        ),
        path,
    )
    return path.read_bytes()


def test_parquet_swapped_mid_import_stores_the_hash_of_the_rows_stored(
    shipped_db: Path, copy_store, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = copy_store(shipped_db)
    path = tmp_path / "p.parquet"
    version_b = _predictions(tmp_path / "b.parquet", [1] * 10)
    version_a = _predictions(path, [0] * 10)
    _swap_while_parsing(monkeypatch, predictions_import, "_read_parquet", path, version_b)
    args = ["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"]
    assert main([*args, "--db", str(store)]) == 0
    with duckdb.connect(str(store), read_only=True) as con:
        preds = {
            r[0]
            for r in con.execute(
                "SELECT DISTINCT pred FROM image_predictions p JOIN sources s USING (source_id) "
                "WHERE s.path = ?",
                [str(path)],
            ).fetchall()
        }
        (sha,) = con.execute("SELECT sha256 FROM sources WHERE path = ?", [str(path)]).fetchone()
    assert preds == {0}
    assert sha == hashlib.sha256(version_a).hexdigest()


def test_input_over_the_size_limit_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "big.csv"
    path.write_bytes(VERSION_A * 10)
    with pytest.raises(InputError, match="over the limit of 100 bytes"):
        csvfile.read_input(path, max_bytes=100)


def test_overlong_line_is_refused_at_its_line_before_it_is_split(tmp_path: Path) -> None:
    data = b"model,dataset,top1\na,imagenet,1\n" + b"x" * 200 + b"\nb,imagenet,2\n"
    with pytest.raises(InputError) as caught:
        csvfile.check_text_bytes(data, tmp_path / "f.csv", max_line=100)
    assert caught.value.line == 3 and "longer than 100 bytes" in str(caught.value)
    csvfile.check_text_bytes(data, tmp_path / "f.csv", max_line=200)  # exactly 200: accepted
