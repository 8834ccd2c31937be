"""Import integrity (issue 10, item 5), each found by trying bad input: refused through the real
CLI with one line naming file, line and column, a non-zero exit and an unchanged store."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store.paths import data_dir

from .conftest import fingerprint

VAL = "ILSVRC2012_val_{:08d}.JPEG"


def run(args: list[str], db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([*args, "--db", str(db)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def refused(args: list[str], store: Path, capsys, expected: str) -> None:
    """The command fails with one line that starts with `expected`; the store is unchanged."""
    before = fingerprint(store)
    code, out, err = run(args, store, capsys)
    assert code != 0, out
    assert err.startswith(f"lottery: error: {expected}"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert fingerprint(store) == before


@pytest.fixture(scope="module")
def val_labels() -> dict[int, int]:
    """Val image number (1-based, as in the file name) -> label, read independently."""
    table = pq.read_table(data_dir() / "imagenet" / "val_labels.parquet")
    return {
        i + 1: label
        for i, label in zip(table["image_idx"].to_pylist(), table["label"].to_pylist(), strict=True)
    }


@pytest.fixture(scope="module")
def r_classes() -> set[int]:
    return {
        int(x) for x in (data_dir() / "imagenet" / "imagenet_r_indices.txt").read_text().split()
    }


@pytest.fixture
def store(empty_db: Path, copy_store) -> Path:
    return copy_store(empty_db)


def test_a_clean_set_takes_only_images_of_its_200_classes(
    store: Path, tmp_path: Path, capsys, val_labels, r_classes
) -> None:
    inside = [n for n, label in sorted(val_labels.items()) if label in r_classes][:3]
    outside = next(n for n, label in sorted(val_labels.items()) if label not in r_classes)
    rows = [(n, val_labels[n]) for n in inside]
    path = tmp_path / "clean.csv"
    path.write_text("image_id,pred\n" + "".join(f"{VAL.format(n)},{p}\n" for n, p in rows)
                    + f"{VAL.format(outside)},{val_labels[outside]}\n")  # fmt: skip
    args = ["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet-r-clean"]
    refused(args, store, capsys,
            f"{path}, line 5, column image_id: image {VAL.format(outside)!r} "
            f"(class {val_labels[outside]}) is not an image of 'imagenet-r-clean'")  # fmt: skip
    path.write_text("image_id,pred\n" + "".join(f"{VAL.format(n)},{p}\n" for n, p in rows))
    code, out, err = run(args, store, capsys)
    assert code == 0, err
    assert "imported 3 predictions of m on imagenet-r-clean" in out


def test_a_label_column_disagreeing_with_the_store_needs_the_flag(
    store: Path, tmp_path: Path, capsys, val_labels
) -> None:
    path = tmp_path / "labelled.csv"
    wrong = (val_labels[2] + 1) % 1000
    path.write_text(
        "image_id,pred,label\n"
        f"{VAL.format(1)},{val_labels[1]},{val_labels[1]}\n"
        f"{VAL.format(2)},{wrong},{wrong}\n"
    )
    args = ["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"]
    refused(args, store, capsys,
            f"{path}, line 3, column label: label {wrong} of image {VAL.format(2)!r} disagrees "
            f"with dataset 'imagenet''s label {val_labels[2]}; pass --file-labels-win")  # fmt: skip
    code, _, err = run([*args, "--file-labels-win"], store, capsys)
    assert code == 0, err
    con = duckdb.connect(str(store), read_only=True)
    top1 = con.execute("SELECT top1 FROM results WHERE dataset = 'imagenet'").fetchall()
    con.close()
    assert top1 == [(100.0,)]  # scored against the file's labels, as asked


def test_the_same_file_under_another_model_is_refused(store: Path, tmp_path: Path, capsys):
    path = tmp_path / "p.csv"
    path.write_text(f"image_id,pred\n{VAL.format(1)},3\n")
    args = ["import", "predictions", str(path), "--dataset", "imagenet"]
    code, _, err = run([*args, "--model", "a"], store, capsys)
    assert code == 0, err
    refused([*args, "--model", "b"], store, capsys,
            f"{path}: the same file (same sha256) was already imported as model "
            "'user:a'")  # fmt: skip
    code, out, _ = run([*args, "--model", "a"], store, capsys)  # the same again: a no-op
    assert code == 0 and "(same sha256, source and options), nothing changed" in out


def test_negative_image_count_is_refused(store: Path, capsys) -> None:
    refused(["import", "dataset", "neg", "--images", "-5"], store, capsys,
            "number of images must be between 1 and 2147483647, not -5")  # fmt: skip


def test_re_running_an_identical_dataset_import_is_refused(
    store: Path, tmp_path: Path, capsys
) -> None:
    labels = tmp_path / "relabel.csv"
    labels.write_text(f"image_id,label\n{VAL.format(1)},1 2\n{VAL.format(2)},\n")
    args = ["import", "dataset", "relabel", "--multi-label", "--shares-images-with", "imagenet",
            "--labels", str(labels)]  # fmt: skip
    code, _, err = run(args, store, capsys)
    assert code == 0, err
    refused(args, store, capsys, "dataset 'relabel' already has its images and labels")


def parquet(path: Path, **columns: pa.Array) -> Path:
    pq.write_table(pa.table(columns), path)
    return path


TOP5_CASES = {
    "four classes": ([[1, 2, 3, 4, 5], [1, 2, 3, 4]],
                     "row 2: a top5 list of 4 classes; lists must hold 5"),
    "null class": ([[1, 2, 3, 4, 5], [1, None, 3, 4, 5]], "row 2: a top5 list holds a null class"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(TOP5_CASES))
def test_bad_top5_lists_are_refused(case: str, store: Path, tmp_path: Path, capsys) -> None:
    lists, expected = TOP5_CASES[case]
    path = parquet(
        tmp_path / "top5.parquet",
        image_idx=pa.array([0, 1], pa.int32()),
        pred=pa.array([1, 1], pa.int16()),
        top5=pa.array(lists, pa.list_(pa.int16())),
    )
    args = ["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"]
    refused(args, store, capsys, f"{path}, column top5: {expected}")


BIG = 2**63  # one beyond int64


@pytest.mark.parametrize("column", ["image_idx", "pred", "label"])
def test_integers_beyond_int64_are_refused(
    column: str, store: Path, tmp_path: Path, capsys
) -> None:
    values = {"image_idx": 1, "pred": 1, "label": 1, column: BIG}
    path = tmp_path / "big.csv"
    path.write_text(f"image_idx,pred,label\n0,1,1\n{values['image_idx']},{values['pred']},"
                    f"{values['label']}\n")  # fmt: skip
    args = ["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"]
    refused(args, store, capsys,
            f"{path}, line 3, column {column}: {column} out of range: '{BIG}'")  # fmt: skip


def test_unsigned_parquet_beyond_int64_is_refused(store: Path, tmp_path: Path, capsys) -> None:
    path = parquet(
        tmp_path / "big.parquet",
        image_idx=pa.array([0, 1], pa.int32()),
        pred=pa.array([1, BIG], pa.uint64()),
    )
    args = ["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"]
    refused(args, store, capsys, f"{path}, column pred: row 2: pred out of range: {BIG}")


ESCAPES = {
    "ANSI colour": "\x1b[31mred",
    "OSC 52 clipboard": "x\x1b]52;c;aGk=\x07",
    "C1 CSI": "\x9b2J",
}


@pytest.mark.parametrize("case", sorted(ESCAPES))
def test_names_with_control_characters_are_refused(
    case: str, store: Path, tmp_path: Path, capsys
) -> None:
    name = ESCAPES[case]
    long = tmp_path / "long.csv"
    long.write_text(f'model,dataset,top1\nfine,imagenet,50\n"{name}",imagenet,50\n')
    refused(["import", "results", str(long)], store, capsys,
            f"{long}, line 3, column model: model name {name!r} contains the control "
            "character")  # fmt: skip
    wide = tmp_path / "wide.csv"
    wide.write_text(f'model,imagenet\n"{name}",50\n')
    refused(["import", "results", str(wide)], store, capsys,
            f"{wide}, line 2, column model: model name {name!r} contains the control")  # fmt: skip
    preds = tmp_path / "p.csv"
    preds.write_text(f"image_id,pred\n{VAL.format(1)},3\n")
    base = ["import", "predictions", str(preds), "--dataset", "imagenet"]
    refused([*base, "--model", name], store, capsys, f"model name {name!r} contains the control")
    refused([*base, "--model", "m", "--source", name], store, capsys,
            f"source name {name!r} contains the control")  # fmt: skip
    refused(["import", "dataset", "mine", "--name", name], store, capsys,
            f"dataset name {name!r} contains the control")  # fmt: skip


def test_a_nul_byte_is_refused(store: Path, tmp_path: Path, capsys) -> None:
    path = tmp_path / "nul.csv"
    path.write_bytes(b"model,dataset,top1\nm\x00,imagenet,50\n")
    refused(["import", "results", str(path)], store, capsys,
            f"{path}, line 2, column model: model name 'm\\x00' contains the control character "
            "U+0000")  # fmt: skip
