"""The bad-input catalogue: well over 100 bad files across every importer (long results CSV, timm
CSV, predictions CSV and Parquet, dataset labels), each refused through the real CLI with one
line naming the file, line and column, a non-zero exit, no traceback, and a store whose bytes did
not change. Files are made by applying each kind of damage at several lines of a valid file.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from pathlib import Path

import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store.seed import build_store

from .conftest import file_fingerprint

N_ROWS = 8
LINES = (2, 5, 9)  # first data row, a middle one, the last one


def _val(i: int) -> str:
    return f"ILSVRC2012_val_{i:08d}.JPEG"


def _rows(make: Callable[[int], list[str]]) -> list[list[str]]:
    return [make(i) for i in range(1, N_ROWS + 1)]


LONG = (
    ["model", "dataset", "top1", "top5"],
    _rows(lambda i: [f"m{i}", "imagenet", f"{50 + i}", f"{80 + i}"]),
)
TIMM = (
    ["model", "img_size", "top1", "top1_err", "top5", "top5_err", "param_count"],
    _rows(lambda i: [f"m{i}.x", "224", f"{70 + i}", f"{30 - i}", f"{90 + i / 10}", "5", "25.5"]),
)
PREDS = (["image_id", "pred", "label"], _rows(lambda i: [_val(i), str(i), str(i + 1)]))
LABELS = (["image_id", "label"], _rows(lambda i: [f"img{i}.png", str(i % 10)]))

# Damage: (name, column to damage, new value); each is applied at every line of LINES.
DAMAGE = {
    "results": (LONG, [
        ("non-numeric", "top1", "abc"), ("nan", "top1", "nan"), ("infinite", "top1", "inf"),
        ("negative", "top1", "-5"), ("above 100", "top1", "150"), ("empty top1", "top1", ""),
        ("top5 below top1", "top5", "1"), ("non-numeric top5", "top5", "x"),
        ("empty model", "model", ""), ("unknown dataset", "dataset", "imagenet-zz"),
        ("empty dataset", "dataset", ""), ("duplicate key", "model", "m1"),
    ]),
    "timm": (TIMM, [
        ("non-numeric top1", "top1", "abc"), ("nan top1", "top1", "nan"),
        ("negative top1", "top1", "-1"), ("above 100", "top1", "101"),
        ("bad img_size", "img_size", "big"), ("bad param_count", "param_count", '"1,0x3"'),
        ("top5 below top1", "top5", "2"), ("empty model", "model", ""),
        ("duplicate model", "model", "m1.x"),
    ]),
    "predictions": (PREDS, [
        ("not an image", "image_id", "not-an-image.jpg"), ("non-numeric pred", "pred", "three"),
        ("negative pred", "pred", "-1"), ("pred out of range", "pred", "1000"),
        ("fractional pred", "pred", "1.5"), ("duplicate image", "image_id", _val(1)),
        ("empty image id", "image_id", ""), ("bad label", "label", "x"),
    ]),
    "labels": (LABELS, [
        ("non-numeric label", "label", "cat"), ("label out of range", "label", "10"),
        ("negative label", "label", "-1"), ("empty image id", "image_id", ""),
        ("duplicate image", "image_id", "img1.png"),
    ]),
}  # fmt: skip

# Damage to the text itself, at each line of LINES, for every CSV importer.
TEXT_DAMAGE = {
    "bad UTF-8": lambda line: line + "\udcff",
    "too few fields": lambda line: line.rsplit(",", 1)[0],
    "too many fields": lambda line: line + ",extra",
    "unterminated quote": lambda line: line.replace(",", ',"', 1),
}


def _csv(header: list[str], rows: list[list[str]]) -> str:
    return "\n".join(",".join(r) for r in [header, *rows]) + "\n"


def _cases() -> list[pytest.param]:
    cases = []
    for importer, ((header, rows), damages) in DAMAGE.items():
        for name, column, value in damages:
            for line in LINES:
                if name.startswith("duplicate") and line == 2:
                    continue  # a duplicate is reported where it repeats an earlier row
                changed = [list(r) for r in rows]
                changed[line - 2][header.index(column)] = value
                cases.append(pytest.param(importer, _csv(header, changed), line,
                                          id=f"{importer}-{name}-line{line}"))  # fmt: skip
        for name, damage in TEXT_DAMAGE.items():
            for line in LINES:
                lines = _csv(header, rows).splitlines()
                lines[line - 1] = damage(lines[line - 1])
                text = "\n".join(lines) + "\n"
                cases.append(pytest.param(importer, text, line, id=f"{importer}-{name}-line{line}"))
    return cases


CASES = _cases()


@pytest.fixture(scope="module")
def reference_store(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A store with the builtin datasets, ImageNet's images and labels, and no results."""
    path = tmp_path_factory.mktemp("catalogue") / "store.duckdb"
    build_store(path, with_results=False)
    return path


def _argv(importer: str, bad: Path, store: Path) -> list[str]:
    if importer == "results":
        return ["import", "results", str(bad)]
    if importer == "timm":
        return ["import", "timm", str(bad), "--dataset", "imagenet"]
    if importer == "predictions":
        return ["import", "predictions", str(bad), "--model", "m", "--dataset", "imagenet"]
    return ["import", "dataset", "my-set", "--classes", "10", "--labels", str(bad)]


def _write(importer: str, text: str, directory: Path) -> Path:
    path = directory / ("results-imagenet.csv" if importer == "timm" else f"{importer}.csv")
    path.write_bytes(text.encode("utf-8", "surrogateescape"))
    return path


@pytest.mark.parametrize(("importer", "text", "line"), CASES)
def test_bad_file_is_refused_with_file_line_and_column(
    importer: str, text: str, line: int, reference_store: Path, tmp_path: Path, capsys
) -> None:
    store = tmp_path / "store.duckdb"
    shutil.copyfile(reference_store, store)
    before = file_fingerprint(store)
    bad = _write(importer, text, tmp_path)
    code = main([*_argv(importer, bad, store), "--db", str(store)])
    err = capsys.readouterr().err
    assert code != 0
    assert "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith(f"lottery: error: {bad}, line {line}, column "), err
    assert file_fingerprint(store) == before


PARQUET_CASES = {
    "float pred": pa.table({"image_id": [_val(1), _val(2)], "pred": [1.5, 2.0]}),
    "negative pred": pa.table({"image_id": [_val(1), _val(2)], "pred": [1, -2]}),
    "pred out of range": pa.table({"image_id": [_val(1), _val(2)], "pred": [1, 5000]}),
    "unknown image": pa.table({"image_id": [_val(1), "nope.png"], "pred": [1, 2]}),
    "duplicate image": pa.table({"image_id": [_val(1), _val(1)], "pred": [1, 2]}),
    "null pred": pa.table({"image_id": [_val(1), _val(2)],
                           "pred": pa.array([1, None], pa.int16())}),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(PARQUET_CASES))
def test_bad_parquet_is_refused_with_file_row_and_column(
    case: str, reference_store: Path, tmp_path: Path, capsys
) -> None:
    store = tmp_path / "store.duckdb"
    shutil.copyfile(reference_store, store)
    before = file_fingerprint(store)
    bad = tmp_path / "preds.parquet"
    pq.write_table(PARQUET_CASES[case], bad)
    code = main(["import", "predictions", str(bad), "--model", "m", "--dataset", "imagenet",
                 "--db", str(store)])  # fmt: skip
    err = capsys.readouterr().err
    assert code != 0 and "Traceback" not in err and err.count("\n") == 1, err
    assert err.startswith(f"lottery: error: {bad}, "), err
    assert ", column " in err, err
    assert file_fingerprint(store) == before


def test_the_catalogue_has_over_100_files() -> None:
    assert len(CASES) + len(PARQUET_CASES) >= 100
