"""`lottery import predictions --manifest`: many per-image files in one command and one
transaction, giving exactly what one import per file gives."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lottery_tui.cli.main import main

from .conftest import fingerprint

VAL = "ILSVRC2012_val_{:08d}.JPEG"


def run(args: list[str], db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([*args, "--db", str(db)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def make_files(folder: Path, seed: int = 0) -> list[tuple[str, str, str]]:
    """Files of several layouts (CSV with and without a header, Parquet with top-5), on two
    datasets, some in a subfolder; (relative path, model, dataset) each."""
    rng = np.random.default_rng(seed)
    (folder / "sub").mkdir(parents=True, exist_ok=True)
    entries = []
    for k in range(6):
        idx = np.sort(rng.choice(50000, 300, replace=False))
        pred = rng.integers(0, 1000, idx.size)
        names = [VAL.format(i + 1) for i in idx]
        lines = "".join(f"{n},{p}\n" for n, p in zip(names, pred, strict=True))
        if k % 3 == 0:
            rel = f"sub/m{k}.csv"
            (folder / rel).write_text("image_id,pred\n" + lines)
        elif k % 3 == 1:
            rel = f"m{k}.csv"
            (folder / rel).write_text(lines)
        else:
            rel = f"m{k}.parquet"
            top5 = [[int(p), *map(int, rng.integers(0, 1000, 4))] for p in pred]
            pq.write_table(
                pa.table({"image_idx": idx.astype(np.int32), "pred": pred, "top5": top5}),
                folder / rel,
            )
        entries.append((rel, f"model{k % 4}", "imagenet" if k < 4 else "imagenet-sketch"))
    return entries


def write_manifest(folder: Path, entries: list[tuple[str, str, str]]) -> Path:
    path = folder / "manifest.csv"
    path.write_text("file,model,dataset\n" + "".join(f"{f},{m},{d}\n" for f, m, d in entries))
    return path


def public_rows(db: Path) -> tuple[list[tuple], list[tuple]]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        results = con.execute("SELECT * FROM results WHERE source = 'user' ORDER BY ALL").fetchall()
        preds = con.execute(
            "SELECT p.* FROM predictions p JOIN results r USING (model, dataset) "
            "WHERE r.source = 'user' ORDER BY ALL"
        ).fetchall()
    finally:
        con.close()
    return results, preds


@pytest.fixture
def sketch_store(empty_db: Path, copy_store, tmp_path: Path, capsys) -> Path:
    """An empty store whose imagenet-sketch has 50,000 images named like val's (labels from
    val), so the test files can use both datasets."""
    store = copy_store(empty_db)
    con = duckdb.connect(str(store), read_only=True)
    labels = con.execute("SELECT image_id, label FROM images ORDER BY image_idx").fetchall()
    con.close()
    path = tmp_path / "sketch_labels.csv"
    path.write_text("image_id,label\n" + "".join(f"{i},{label}\n" for i, label in labels))
    code, _, err = run(
        ["import", "dataset", "imagenet-sketch", "--labels", str(path)], store, capsys
    )
    assert code == 0, err
    return store


def test_a_manifest_gives_what_one_import_per_file_gives(
    sketch_store: Path, tmp_path: Path, capsys
) -> None:
    entries = make_files(tmp_path / "files")
    manifest = write_manifest(tmp_path / "files", entries)
    one_by_one = tmp_path / "one.duckdb"
    one_by_one.write_bytes(sketch_store.read_bytes())
    code, out, err = run(
        ["import", "predictions", "--manifest", str(manifest)], sketch_store, capsys
    )
    assert code == 0, err
    assert out.count(": imported 300 predictions of model") == 6
    for rel, model, dataset in entries:
        args = ["import", "predictions", str(tmp_path / "files" / rel)]
        code, _, err = run([*args, "--model", model, "--dataset", dataset], one_by_one, capsys)
        assert code == 0, err
    results, preds = public_rows(sketch_store)
    assert (results, preds) == public_rows(one_by_one)
    assert sum(1 for p in preds if p[1] != "imagenet-real") == 6 * 300
    assert len({(r[0], r[1]) for r in results}) == 6 + 4  # and ReaL for the 4 on imagenet
    # Parquet top-5 made it: a top-5 accuracy on its rows
    assert any(r[3] is not None for r in results if r[1] == "imagenet-sketch")


def test_one_transaction_a_bad_last_file_writes_nothing(
    sketch_store: Path, tmp_path: Path, capsys
) -> None:
    entries = make_files(tmp_path / "files")
    (tmp_path / "files" / "bad.csv").write_text(
        f"image_id,pred\n{VAL.format(1)},3\n{VAL.format(2)},1000\n"
    )
    manifest = write_manifest(tmp_path / "files", [*entries, ("bad.csv", "bad", "imagenet")])
    before = fingerprint(sketch_store)
    code, _, err = run(["import", "predictions", "--manifest", str(manifest)], sketch_store, capsys)
    assert code != 0
    bad = (tmp_path / "files" / "bad.csv").resolve()
    assert err.startswith(f"lottery: error: {bad}, line 3, column pred: pred is not a class"), err
    assert fingerprint(sketch_store) == before


BAD_MANIFESTS = {
    "missing file": ("file,model,dataset\nm0.csv,a,imagenet\nnope.csv,b,imagenet\n",
                     ", line 3, column file: no such file: 'nope.csv'"),
    "duplicate model and dataset": ("file,model,dataset\nm0.csv,a,imagenet\nm1.csv,a,imagenet\n",
                                    ", line 3, column model: duplicate model 'a' on 'imagenet'"),
    "same file twice": ("file,model,dataset\nm0.csv,a,imagenet\n./m0.csv,b,imagenet\n",
                        ", line 3, column file: duplicate file './m0.csv' (first on line 2)"),
    "unknown column": ("file,model,dataset,notes\nm0.csv,a,imagenet,x\n",
                       ", line 1, column 4: unknown column 'notes'"),
    "missing column": ("file,model\nm0.csv,a\n", ", line 1: missing column 'dataset'"),
    "empty model": ("file,model,dataset\nm0.csv,,imagenet\n",
                    ", line 2, column model: empty model"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_MANIFESTS))
def test_bad_manifests_are_refused_before_the_store_opens(
    case: str, empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    text, expected = BAD_MANIFESTS[case]
    store = copy_store(empty_db)
    for name in ("m0.csv", "m1.csv"):
        (tmp_path / name).write_text(f"image_id,pred\n{VAL.format(1)},3\n")
    manifest = tmp_path / "manifest.csv"
    manifest.write_text(text)
    before = fingerprint(store)
    code, _, err = run(["import", "predictions", "--manifest", str(manifest)], store, capsys)
    assert code != 0
    assert err.startswith(f"lottery: error: {manifest}{expected}"), err
    assert err.count("\n") == 1
    assert fingerprint(store) == before


def test_the_same_bytes_under_two_models_are_refused(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    for name in ("a.csv", "b.csv"):
        (tmp_path / name).write_text(f"image_id,pred\n{VAL.format(1)},3\n")
    manifest = write_manifest(tmp_path, [("a.csv", "a", "imagenet"), ("b.csv", "b", "imagenet")])
    before = fingerprint(store)
    code, _, err = run(["import", "predictions", "--manifest", str(manifest)], store, capsys)
    assert code != 0
    assert "already imported as model 'user:a' on 'imagenet'" in err
    assert fingerprint(store) == before


def test_manifest_and_a_file_together_are_refused(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    manifest = write_manifest(tmp_path, [])
    args = ["import", "predictions", str(manifest), "--manifest", str(manifest)]
    code, _, err = run(args, store, capsys)
    assert code != 0
    assert err == "lottery: error: --manifest names every file, model and dataset: give it alone\n"
