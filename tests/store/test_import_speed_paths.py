"""The shortcuts that keep one predictions import close to DuckDB's own read + insert (issue 19,
item 8) give exactly what the general paths give: the windowed long-line check, the sorted-keys
uniqueness check, the row-for-row image lookup, the model lookup before the insert, and the
commit that checkpoints."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest

from lottery_tui.cli.main import main
from lottery_tui.errors import InputError
from lottery_tui.store import connection, csvfile
from lottery_tui.store import predictions_import as importer
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.sources import add_source


def _first_long_line(data: bytes, max_line: int) -> int | None:
    """The reference: the 1-based number of the first line over `max_line` bytes."""
    lengths = [len(line) for line in data.split(b"\n")]
    return next((n for n, length in enumerate(lengths, 1) if length > max_line), None)


def test_the_windowed_line_check_agrees_with_measuring_every_line(tmp_path: Path) -> None:
    rng = np.random.default_rng(19)
    for _ in range(300):
        max_line = int(rng.integers(1, 40))
        lengths = rng.integers(0, max_line + 3, size=int(rng.integers(1, 60)))
        data = b"\n".join(b"x" * int(n) for n in lengths) + (b"\n" if rng.random() < 0.5 else b"")
        line = _first_long_line(data, max_line)
        if line is not None:
            with pytest.raises(InputError) as caught:
                csvfile.check_text_bytes(data, tmp_path / "f.csv", max_line=max_line)
            assert caught.value.line == line, (data, max_line)
        else:
            csvfile.check_text_bytes(data, tmp_path / "f.csv", max_line=max_line)


@pytest.mark.parametrize(
    ("keys", "distinct"),
    [
        (["a", "b", "c"], True),
        (["c", "a", "b"], True),  # not sorted: counted
        (["a", "b", "b", "c"], False),  # sorted with a repeat: not strictly increasing
        (["b", "a", "b"], False),
        ([3, 1, 2], True),
        ([1, 2, 2], False),
        (["a"], True),
    ],
)
def test_distinct_keys(keys: list, distinct: bool) -> None:
    assert importer._distinct(pa.chunked_array([keys])) is distinct


def test_positions_row_for_row_equal_the_hash_lookup() -> None:
    known = pa.chunked_array([["a", "b"], ["c", "d"]])
    for values in (["a", "b", "c", "d"], ["d", "c", "b", "a"], ["a", "b", "c", "x"], ["b"]):
        chunked = pa.chunked_array([values])
        got = importer._positions(chunked, known)
        assert got.to_pylist() == pc.index_in(chunked, value_set=known).to_pylist(), values


def _rows(store: Path, sql: str) -> list[tuple]:
    con = duckdb.connect(str(store), read_only=True)
    try:
        return con.execute(sql).fetchall()
    finally:
        con.close()


def _val_ids(store: Path) -> list[str]:
    return [r[0] for r in _rows(store, "SELECT image_id FROM images WHERE dataset_id = 'imagenet'")]


def _predictions(store: Path) -> list[tuple]:
    return _rows(
        store, "SELECT dataset, image_id, pred FROM predictions WHERE model = 'm' ORDER BY ALL"
    )


def test_a_file_in_stored_order_imports_like_the_same_rows_shuffled(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    ids = _val_ids(empty_db)
    rng = np.random.default_rng(7)
    preds = rng.integers(0, 1000, len(ids))
    stores = []
    for name, order in (("ordered", np.arange(len(ids))), ("shuffled", rng.permutation(len(ids)))):
        path = tmp_path / f"{name}.csv"
        path.write_text("image_id,pred\n" + "".join(f"{ids[i]},{preds[i]}\n" for i in order))
        store = copy_store(empty_db).rename(tmp_path / f"{name}.duckdb")
        args = ["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"]
        assert main([*args, "--db", str(store)]) == 0, capsys.readouterr().err
        stores.append(store)
    ordered, shuffled = (_predictions(s) for s in stores)
    assert len(ordered) == 50000 + 46837  # val, and ReaL derived
    assert ordered == shuffled


def test_a_file_in_stored_order_with_one_unknown_image_names_its_line(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    ids = _val_ids(empty_db)
    ids[1234] = "not-an-image.JPEG"
    path = tmp_path / "p.csv"
    path.write_text("image_id,pred\n" + "".join(f"{i},1\n" for i in ids))
    store = copy_store(empty_db)
    args = ["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"]
    assert main([*args, "--db", str(store)]) == InputError.exit_code
    err = capsys.readouterr().err
    assert f"{path}, line 1236" in err and "not-an-image.JPEG" in err, err


class _WatchedClose:
    """A connection that records, as it is closed, whether the store has a WAL: a commit that
    checkpointed left none for the close to copy over."""

    def __init__(self, con: duckdb.DuckDBPyConnection, wal: Path, seen: list[bool]) -> None:
        self._con, self._wal, self._seen = con, wal, seen

    def __getattr__(self, name: str):
        return getattr(self._con, name)

    def close(self) -> None:
        self._seen.append(self._wal.exists())
        self._con.close()


def test_a_write_transaction_checkpoints_at_its_commit(
    empty_db: Path, copy_store, monkeypatch: pytest.MonkeyPatch
) -> None:
    store = copy_store(empty_db)
    seen: list[bool] = []
    real = connection.connect
    monkeypatch.setattr(
        connection,
        "connect",
        lambda *a, **k: _WatchedClose(real(*a, **k), Path(f"{store}.wal"), seen),
    )
    with connection.write_transaction(store) as con:
        con.execute("CREATE TABLE t AS SELECT range AS x FROM range(100000)")
    assert seen == [False]  # the commit wrote the store file itself, no WAL
    check = duckdb.connect(str(store), read_only=True)
    assert check.execute("SELECT count(*), sum(x) FROM t").fetchall() == [(100000, 4999950000)]
    check.close()


def test_ensure_models_adds_the_new_and_keeps_the_stored(empty_db: Path, copy_store) -> None:
    """Looked up first, then only the new ones inserted (no ON CONFLICT): ids, metadata and
    identities (source name, name) come out as an insert-or-ignore would give them."""
    con = duckdb.connect(str(copy_store(empty_db)))
    try:
        timm = add_source(con, name="timm", kind="import")
        user = add_source(con, name="user", kind="import")
        first = ensure_models(con, [describe("resnet50", img_size=224)], timm)
        again = ensure_models(
            con, [describe("resnet50", img_size=999), describe("vit_small"), describe("vit_small")],
            [timm, timm, timm],
        )  # fmt: skip
        assert again["resnet50"] == first["resnet50"] and set(again) == {"resnet50", "vit_small"}
        other = ensure_models(con, [describe("resnet50")], user)  # another source: another model
        assert other["resnet50"] not in (first["resnet50"], again["vit_small"])
        rows = con.execute("SELECT source, name, img_size FROM models ORDER BY ALL").fetchall()
        assert rows == [("timm", "resnet50", 224), ("timm", "vit_small", None),
                        ("user", "resnet50", None)]  # fmt: skip
        with pytest.raises(ValueError, match="one name from two sources"):
            ensure_models(con, [describe("x"), describe("x")], [timm, user])
    finally:
        con.close()


def test_a_new_model_on_two_datasets_sharing_images_keeps_one_set_each(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    """A new model's first write skips the replace (nothing of it is stored yet); its second,
    on imagenet-real after imagenet derived ReaL's set, must replace that set."""
    ids = _val_ids(empty_db)
    for name, pred in (("val", 1), ("real", 2)):
        (tmp_path / f"{name}.csv").write_text(
            "image_id,pred\n" + "".join(f"{i},{pred}\n" for i in ids)
        )
    manifest = tmp_path / "manifest.csv"
    manifest.write_text("file,model,dataset\nval.csv,m,imagenet\nreal.csv,m,imagenet-real\n")
    store = copy_store(empty_db)
    argv = ["import", "predictions", "--manifest", str(manifest), "--db", str(store)]
    assert main(argv) == 0, capsys.readouterr().err
    sets = _rows(
        store, "SELECT dataset_id, count(*) FROM prediction_sets GROUP BY ALL ORDER BY ALL"
    )
    preds = _rows(
        store,
        "SELECT dataset, count(*), min(pred), max(pred) FROM predictions GROUP BY ALL ORDER BY ALL",
    )
    results = _rows(store, "SELECT dataset, n_images FROM results ORDER BY ALL")
    assert sets == [("imagenet", 1), ("imagenet-real", 1)]
    assert preds == [("imagenet", 50000, 1, 1), ("imagenet-real", 46837, 2, 2)]
    assert results == [("imagenet", 50000), ("imagenet-real", 46837)]
