"""The importers' part of the bad-input catalogue (issue 19, items 5 and 7): numbers Python reads
but no results file means, control characters in any text field, a duplicated column in a
predictions header, UTF-16 without a byte-order mark, over-long lines and a Parquet file that
would decode to far more than its size. Each is refused through the real CLI with one escaped
line naming file, line and column, a non-zero exit, and a store whose bytes did not change."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store import csvfile, predictions_import

from .conftest import file_fingerprint

VAL = "ILSVRC2012_val_{:08d}.JPEG"
TIMM_HEADER = "model,img_size,top1,top5,param_count,crop_pct,interpolation\n"
TIMM_ROW = "a.x,224,80.1,95.0,25.56,0.875,bicubic\n"
ARABIC_70 = "\u0667\u0660"  # ٧٠: Arabic-Indic digits seven, zero

# name: (command after `import`, file name, file bytes, expected error after "FILE")
CASES = {
    "underscore in an accuracy": (
        ["results"], "r.csv", b"model,dataset,top1\nm,imagenet,7_0\n",
        ", line 2, column top1: not a number: '7_0'",
    ),
    "Arabic-Indic accuracy": (
        ["results"], "r.csv", f"model,dataset,top1\nm,imagenet,{ARABIC_70}\n".encode(),
        f", line 2, column top1: not a number: '{ARABIC_70}'",
    ),
    "underscore in a wide cell": (
        ["results"], "w.csv", b"model,imagenet\nm,5_0.5\n",
        ", line 2, column imagenet: not a number: '5_0.5'",
    ),
    "underscore in timm's img_size": (
        ["timm"], "results-imagenet.csv", (TIMM_HEADER + TIMM_ROW.replace("224", "2_24")).encode(),
        ", line 2, column img_size: not an integer: '2_24'",
    ),
    "Arabic-Indic img_size": (
        ["timm"], "results-imagenet.csv",
        (TIMM_HEADER + TIMM_ROW.replace("224", "\u0662\u0662\u0664")).encode(),
        ", line 2, column img_size: not an integer: '\u0662\u0662\u0664'",
    ),
    "ESC in timm's interpolation": (
        ["timm"], "results-imagenet.csv",
        (TIMM_HEADER + TIMM_ROW.replace("bicubic", "bicubic\x1b[31m")).encode(),
        ", line 2, column interpolation: interpolation 'bicubic\\x1b[31m' contains the control "
        "character U+001B",
    ),
    "ESC in a header name": (
        ["results"], "r.csv", b"model,dataset,top1,x\x1b]52\nm,imagenet,50,1\n",
        ", line 1, column 4: column name 'x\\x1b]52' contains the control character U+001B",
    ),
    "underscore in a predicted class": (
        ["predictions", "--model", "m", "--dataset", "imagenet"], "p.csv",
        f"image_id,pred\n{VAL.format(1)},1_0\n".encode(),
        ", line 2, column pred: not an integer: '1_0'",
    ),
    "Arabic-Indic predicted class": (
        ["predictions", "--model", "m", "--dataset", "imagenet"], "p.csv",
        f"image_id,pred\n{VAL.format(1)},\u0663\n".encode(),
        ", line 2, column pred: not an integer: '\u0663'",
    ),
    "duplicated column in a predictions header": (
        ["predictions", "--model", "m", "--dataset", "imagenet"], "p.csv",
        f"image_id,pred,pred\n{VAL.format(1)},1,2\n".encode(),
        ", line 1, column 3: column 'pred' appears twice in the header",
    ),
    "ESC in a predictions image id": (
        ["predictions", "--model", "m", "--dataset", "imagenet"], "p.csv",
        f"image_id,pred\n{VAL.format(1)},1\nx\x1b[2J,2\n".encode(),
        ", line 3, column image_id: image id contains a control character: 'x\\x1b[2J'",
    ),
    "UTF-16 without a BOM": (
        ["results"], "r.csv", "model,dataset,top1\nm,imagenet,50\n".encode("utf-16-le"),
        ", line 1: looks like UTF-16 text without a byte-order mark",
    ),
    "UTF-16 big-endian without a BOM": (
        ["timm"], "results-imagenet.csv", (TIMM_HEADER + TIMM_ROW).encode("utf-16-be"),
        ", line 1: looks like UTF-16 text without a byte-order mark",
    ),
    "a line over 1 MiB": (
        ["results"], "r.csv",
        b"model,dataset,top1\nm,imagenet,50\n" + b"n" * (csvfile.MAX_LINE_BYTES + 1)
        + b",imagenet,50\n",
        ", line 3: line longer than 1,048,576 bytes",
    ),
    "a predictions line over 1 MiB": (
        ["predictions", "--model", "m", "--dataset", "imagenet"], "p.csv",
        f"image_id,pred\n{VAL.format(1)},1\n".encode() + b"n" * (csvfile.MAX_LINE_BYTES + 1)
        + b",1\n",
        ", line 3: line longer than 1,048,576 bytes",
    ),
    "UTF-16 predictions without a BOM": (
        ["predictions", "--model", "m", "--dataset", "imagenet"], "p.csv",
        f"image_id,pred\n{VAL.format(1)},1\n".encode("utf-16-le"),
        ", line 1: looks like UTF-16 text without a byte-order mark",
    ),
}  # fmt: skip


@pytest.fixture
def store(results_db: Path, tmp_path: Path) -> Path:
    path = tmp_path / "store.duckdb"
    shutil.copyfile(results_db, path)
    return path


def refused(args: list[str], store: Path, capsys, expected: str) -> str:
    before = file_fingerprint(store)
    code = main([*args, "--db", str(store)])
    out, err = capsys.readouterr()
    assert code != 0 and out == ""
    assert err.startswith(f"lottery: error: {expected}"), err
    assert err.count("\n") == 1 and err.endswith("\n")
    assert "\x1b" not in err and "\0" not in err and "Traceback" not in err
    assert file_fingerprint(store) == before
    return err


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_import_is_refused(case: str, store: Path, tmp_path: Path, capsys) -> None:
    command, name, content, expected = CASES[case]
    path = tmp_path / name
    path.write_bytes(content)
    refused(["import", command[0], str(path), *command[1:]], store, capsys, f"{path}{expected}")


@pytest.mark.parametrize("importer", ["results", "timm", "predictions"])
def test_an_empty_source_name_is_refused(
    importer: str, store: Path, tmp_path: Path, capsys
) -> None:
    files = {
        "results": ("r.csv", "model,dataset,top1\nm,imagenet,50\n", []),
        "timm": ("results-imagenet.csv", TIMM_HEADER + TIMM_ROW, []),
        "predictions": ("p.csv", f"image_id,pred\n{VAL.format(1)},1\n",
                        ["--model", "m", "--dataset", "imagenet"]),
    }  # fmt: skip
    name, text, extra = files[importer]
    path = tmp_path / name
    path.write_text(text)
    for blank in ("", "  "):
        refused(["import", importer, str(path), *extra, "--source", blank], store, capsys,
                f"empty source name {blank!r}: give --source a name")  # fmt: skip


def test_labels_with_control_characters_or_foreign_digits_are_refused(
    store: Path, tmp_path: Path, capsys
) -> None:
    for body, expected in [
        ("a.png,1\nb\x1b[1m.png,2\n",
         ", line 3, column image_id: image id 'b\\x1b[1m.png' contains the control character"),
        ("a.png,1\nb.png,\u0663\n", ", line 3, column label: not an integer: '\u0663'"),
    ]:  # fmt: skip
        path = tmp_path / "labels.csv"
        path.write_text("image_id,label\n" + body)
        refused(["import", "dataset", "mine", "--classes", "10", "--labels", str(path)], store,
                capsys, f"{path}{expected}")  # fmt: skip


def test_an_input_over_the_size_limit_is_refused_before_it_is_read(
    store: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "r.csv"
    path.write_text("model,dataset,top1\n" + "".join(f"m{i},imagenet,50\n" for i in range(100)))
    monkeypatch.setattr(csvfile, "MAX_INPUT_BYTES", 1000)
    size = path.stat().st_size
    expected = f"{path}: file is {size:,} bytes, over the limit of 1,000 bytes for one input"
    refused(["import", "results", str(path)], store, capsys, expected)


@pytest.mark.parametrize("kind", ["integers", "text"])
def test_a_parquet_file_that_would_decode_past_the_limit_is_refused_from_its_metadata(
    kind: str, store: Path, tmp_path: Path, capsys, monkeypatch: pytest.MonkeyPatch
) -> None:
    path = tmp_path / "p.parquet"
    n = 200_000  # one repeated value: a few KB on disk, megabytes decoded
    key = (
        {"image_idx": pa.array([0] * n, pa.int64())}
        if kind == "integers"
        else {"image_id": pa.array(["x" * 100] * n)}
    )
    pq.write_table(pa.table({**key, "pred": pa.array([1] * n, pa.int64())}), path)
    assert path.stat().st_size < 50_000
    monkeypatch.setattr(predictions_import, "MAX_INPUT_BYTES", 1_000_000)
    monkeypatch.setattr(  # nothing may decode the columns before the refusal
        pq.ParquetFile, "read", lambda *a, **k: pytest.fail("decoded before refusing")
    )
    # each row: an 8-byte pred, and an 8-byte image_idx or a 4-byte offset and 100 characters
    decoded = n * 8 + (n * 8 if kind == "integers" else n * (4 + 100))
    refused(["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"], store,
            capsys, f"{path}: its data would decode to about {decoded:,} bytes, over the limit "
            "of 1,000,000 bytes for one input")  # fmt: skip


@pytest.mark.parametrize("bad", ["a\x1b[2Jb", "a\x85b", "a\x7fb"])
def test_a_control_character_in_a_parquet_image_id_is_refused(
    bad: str, store: Path, tmp_path: Path, capsys
) -> None:
    path = tmp_path / "p.parquet"
    ids = [VAL.format(1), "é.JPEG", bad]  # a non-ASCII id before it: 0xC3, not a control
    pq.write_table(pa.table({"image_id": ids, "pred": pa.array([1, 2, 3], pa.int64())}), path)
    refused(["import", "predictions", str(path), "--model", "m", "--dataset", "imagenet"], store,
            capsys, f"{path}, column image_id: row 3: image id contains a control character: "
            f"{bad!r}")  # fmt: skip
