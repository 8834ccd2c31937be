"""Every bad input is refused through the real CLI with one line naming file, line and column,
a non-zero exit, and a store left exactly as it was."""

from __future__ import annotations

from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lottery_tui.cli.main import main

from .conftest import fingerprint

HEADER = b"model,dataset,top1,top5\n"

LONG_CASES = {
    # name: (file bytes, expected "where: what" after the path)
    "empty file": (b"", ": file is empty"),
    "blank file": (b"\n \n", ": file is empty"),
    "header only": (HEADER, ": no data rows"),
    "malformed quote": (HEADER + b'm,imagenet,50,"60\n', ", line 2, column 4: malformed CSV"),
    "too few fields": (HEADER + b"m,imagenet,50\n",
                       ", line 2, column top5: expected 4 fields, found 3"),
    "missing column": (b"model,top1\nm,50\n", ", line 1: missing column 'dataset'"),
    "unknown column": (b"model,dataset,top1,top_5\nm,imagenet,50,60\n",
                       ", line 1, column 4: unknown column 'top_5'"),
    "non-numeric accuracy": (HEADER + b"m,imagenet,abc,90\n",
                             ", line 2, column top1: not a number: 'abc'"),
    "nan accuracy": (HEADER + b"m,imagenet,nan,90\n", ", line 2, column top1: not a finite number"),
    "above 100": (HEADER + b"m,imagenet,50,90\nn,imagenet,150,160\n",
                  ", line 3, column top1: accuracy 150 is above 100 %"),
    "negative": (HEADER + b"m,imagenet,-5,90\n", ", line 2, column top1: accuracy -5 is negative"),
    "top5 below top1": (HEADER + b"m,imagenet,80,70\n",
                        ", line 2, column top5: top5 70 is below top1 80"),
    "duplicate key": (HEADER + b"m,imagenet,50,60\nn,imagenet,51,61\nm,imagenet,52,62\n",
                      ", line 4, column model: duplicate row for model 'm' on dataset 'imagenet' "
                      "(first on line 2)"),
    "ambiguous scale": (HEADER + b"m,imagenet,0.05,0.08\n", ": ambiguous scale"),
    "unknown dataset": (HEADER + b"m,imagenet,50,60\nm,imagenet-z,50,60\n",
                        ", line 3, column dataset: unknown dataset 'imagenet-z'"),
    "non-UTF-8": (HEADER + b"m\xff,imagenet,50,60\n",
                  ", line 2, column 2: not UTF-8 text: byte 0xff"),
    "empty model": (HEADER + b",imagenet,50,60\n", ", line 2, column model: empty model"),
}  # fmt: skip


def run_cli(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.mark.parametrize("case", sorted(LONG_CASES))
def test_bad_long_csv_is_refused_and_store_unchanged(
    case: str, shipped_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    content, expected = LONG_CASES[case]
    store = copy_store(shipped_db)
    bad = tmp_path / "bad.csv"
    bad.write_bytes(content)
    before = fingerprint(store)
    code, out, err = run_cli(["import", "results", str(bad), "--db", str(store)], capsys)
    assert code != 0
    assert out == ""
    assert err.startswith(f"lottery: error: {bad}{expected}")
    assert err.count("\n") == 1 and err.endswith("\n")  # one line
    assert fingerprint(store) == before


def test_one_bad_file_among_good_ones_writes_nothing(
    shipped_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(shipped_db)
    good = tmp_path / "good.csv"
    good.write_bytes(HEADER + b"fine,imagenet,50,60\n")
    bad = tmp_path / "bad.csv"
    bad.write_bytes(HEADER + b"m,imagenet-z,50,60\n")
    before = fingerprint(store)
    code, _, err = run_cli(["import", "results", str(good), str(bad), "--db", str(store)], capsys)
    assert code != 0 and "unknown dataset 'imagenet-z'" in err
    assert fingerprint(store) == before


TIMM_HEADER = b"model,img_size,top1,top1_err,top5,top5_err,param_count,crop_pct,interpolation\n"
TIMM_ROW = b"a.x,224,80.1,19.9,95.0,5.0,25.56,0.875,bicubic\n"
TIMM_CASES = {
    "duplicate model and size": (
        TIMM_HEADER + TIMM_ROW + b"b.x,224,79,21,94,6,1,0.9,bilinear\n" + TIMM_ROW,
        ", line 4, column model: duplicate row for model 'a.x' at img_size 224 (first on line 2)",
    ),
    "non-integer img_size": (
        TIMM_HEADER + b"a.x,big,80.1,19.9,95.0,5.0,25.56,0.875,bicubic\n",
        ", line 2, column img_size: not an integer: 'big'",
    ),
    "bad param_count": (
        TIMM_HEADER + b'a.x,224,80.1,19.9,95.0,5.0,"1,0x3",0.875,bicubic\n',
        ", line 2, column param_count: not a number: '1,0x3'",
    ),
    "missing top1": (b"model,img_size,top5\na.x,224,95\n", ", line 1: missing column 'top1'"),
}


@pytest.mark.parametrize("case", sorted(TIMM_CASES))
def test_bad_timm_csv_is_refused_and_store_unchanged(
    case: str, shipped_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    content, expected = TIMM_CASES[case]
    store = copy_store(shipped_db)
    bad = tmp_path / "results-imagenet.csv"
    bad.write_bytes(content)
    before = fingerprint(store)
    code, _, err = run_cli(["import", "timm", str(bad), "--db", str(store)], capsys)
    assert code != 0
    assert err.startswith(f"lottery: error: {bad}{expected}")
    assert err.count("\n") == 1 and err.endswith("\n")
    assert fingerprint(store) == before


def test_timm_file_name_without_dataset_needs_option(
    shipped_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(shipped_db)
    other = tmp_path / "my-results.csv"
    other.write_bytes(TIMM_HEADER + TIMM_ROW)
    code, _, err = run_cli(["import", "timm", str(other), "--db", str(store)], capsys)
    assert code != 0 and "pass --dataset ID" in err


PRED_CASES = {
    "unknown image": (
        b"image_id,pred\nILSVRC2012_val_00000001.JPEG,3\nnot-an-image.jpg,4\n",
        ", line 3, column image_id: image 'not-an-image.jpg' is not an image of dataset 'imagenet'",
    ),
    "class out of range": (
        b"ILSVRC2012_val_00000001.JPEG,3\nILSVRC2012_val_00000002.JPEG,1000\n",
        ", line 2, column pred: pred is not a class of this dataset (0..999): 1000",
    ),
    "negative class": (
        b"ILSVRC2012_val_00000001.JPEG,-3\n",
        ", line 1, column pred: pred out of range: -3",
    ),
    "duplicate image": (
        b"file_name,predicted_class\nILSVRC2012_val_00000001.JPEG,3\n"
        b"ILSVRC2012_val_00000002.JPEG,3\nILSVRC2012_val_00000001.JPEG,5\n",
        ", line 4, column image_id: duplicate image 'ILSVRC2012_val_00000001.JPEG' "
        "(first on line 2)",
    ),
    "non-integer class": (
        b"image_id,pred\nILSVRC2012_val_00000001.JPEG,three\n",
        ", line 2, column pred: not an integer: 'three'",
    ),
    "missing prediction column": (
        b"image_id,guess\nILSVRC2012_val_00000001.JPEG,3\n",
        ", line 1: missing prediction column",
    ),
    "non-UTF-8": (b"ILSVRC2012_val_\xe900000001.JPEG,3\n", ", line 1, column 16: not UTF-8 text"),
    "empty": (b"", ": file is empty"),
}


@pytest.mark.parametrize("case", sorted(PRED_CASES))
def test_bad_predictions_are_refused_and_store_unchanged(
    case: str, shipped_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    content, expected = PRED_CASES[case]
    store = copy_store(shipped_db)
    bad = tmp_path / "preds.csv"
    bad.write_bytes(content)
    before = fingerprint(store)
    args = ["import", "predictions", str(bad), "--model", "m", "--dataset", "imagenet"]
    code, _, err = run_cli([*args, "--db", str(store)], capsys)
    assert code != 0
    assert err.startswith(f"lottery: error: {bad}{expected}")
    assert err.count("\n") == 1 and err.endswith("\n")
    assert fingerprint(store) == before


def test_bad_parquet_types_are_refused(shipped_db: Path, copy_store, tmp_path: Path, capsys):
    store = copy_store(shipped_db)
    bad = tmp_path / "preds.parquet"
    pq.write_table(pa.table({"image_idx": [0, 1], "pred": [1.5, 2.0]}), bad)
    before = fingerprint(store)
    args = ["import", "predictions", str(bad), "--model", "m", "--dataset", "imagenet"]
    code, _, err = run_cli([*args, "--db", str(store)], capsys)
    assert code != 0
    expected = "column pred: column 'pred' must hold integers, not double"
    assert err == f"lottery: error: {bad}, {expected}\n"
    assert fingerprint(store) == before
