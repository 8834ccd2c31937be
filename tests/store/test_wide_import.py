"""Wide result tables (`model` plus one column per dataset) through the real CLI."""

from __future__ import annotations

from pathlib import Path

import duckdb
import pandas as pd
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store.paths import data_dir

from .conftest import fingerprint

TESTBED_MAP = {
    "val": "imagenet",
    "imagenet-sketch": "imagenet-sketch",
    "imagenet-a": "imagenet-a",
    "imagenet-r": "imagenet-r",
    "val-on-imagenet-r-classes": "imagenet-r-clean",
    "imagenetv2-matched-frequency-format-val": "imagenetv2-matched-frequency",
}


def source_csv() -> Path:
    """The testbed's CSV as shipped (byte-for-byte upstream)."""
    return data_dir() / "imagenet-testbed" / "robustness_top1s.csv"


def run(args: list[str], db: Path, capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main([*args, "--db", str(db)])
    captured = capsys.readouterr()
    return code, captured.out, captured.err


def rows(db: Path, source: str) -> dict[tuple[str, str], float]:
    con = duckdb.connect(str(db), read_only=True)
    try:
        found = con.execute(
            "SELECT model, dataset, top1 FROM results WHERE source = ?", [source]
        ).fetchall()
    finally:
        con.close()
    return {(m, d): t for m, d, t in found}


def test_the_testbed_csv_imports_in_one_command(empty_db: Path, copy_store, capsys) -> None:
    store = copy_store(empty_db)
    maps = [f"--map={column}={dataset}" for column, dataset in TESTBED_MAP.items()]
    args = ["import", "results", str(source_csv()), "--source", "tb", "--skip-unmapped", *maps]
    code, out, err = run(args, store, capsys)
    assert code == 0, err
    raw = pd.read_csv(source_csv()).set_index("model")
    expected = {
        (model, dataset): float(value)
        for column, dataset in TESTBED_MAP.items()
        for model, value in raw[column].dropna().items()
    }
    found = rows(store, "tb")
    assert found.keys() == expected.keys()
    # the store keeps percent to 9 decimals (lottery_tui.store.scale.to_percent)
    assert max(abs(found[k] - expected[k]) for k in expected) <= 5e-10
    # empty cells are "not evaluated": 335 models on val, 338 rows in the file
    assert sum(1 for _, d in expected if d == "imagenet") == 335
    assert f"imported {len(expected)} results" in out


WIDE = "model,imagenet,imagenet-a,extra\nm1,80.5,,x\nm2,70.25,10.5,y\nm3,,,z\n"


def test_empty_cells_are_not_evaluated_and_maps_rename(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    path = tmp_path / "wide.csv"
    path.write_text("model,top_one_val,imagenet,imagenet-a\nm1,80.5,1,\nm2,70.25,2,10.5\n")
    args = ["import", "results", str(path), "--map", "top_one_val=imagenet"]
    code, out, err = run(args, store, capsys)
    assert code == 0, err
    # the explicit map wins over the column named `imagenet`, which is left out
    assert rows(store, "user") == {
        ("m1", "imagenet"): 80.5,
        ("m2", "imagenet"): 70.25,
        ("m2", "imagenet-a"): 10.5,
    }
    assert "imported 3 results (2 models, 2 datasets)" in out


BAD_WIDE = {
    # name: (file text, extra args, expected message after the path)
    "unmapped column": (WIDE, [], ", line 1, column 4: column 'extra' is not a known dataset"),
    "bad cell": ("model,imagenet\nm1,80\nm2,8o\n", [],
                 ", line 3, column imagenet: not a number: '8o'"),
    "above 100": ("model,imagenet\nm1,80\nm2,180\n", [],
                  ", line 3, column imagenet: accuracy 180 is above 100 %"),
    "map to unknown dataset": (WIDE, ["--map", "extra=imagenet-q", "--skip-unmapped"],
                               ", line 1, column 4: unknown dataset 'imagenet-q' for column"),
    "map names a missing column": (WIDE, ["--map", "nope=imagenet"],
                                   ", line 1: --map names column 'nope', which the header lacks"),
    "two columns one dataset": (WIDE, ["--map", "extra=imagenet-r", "--map", "imagenet=imagenet-r"],
                                ", line 1, column 4: columns 'imagenet' and 'extra' both give"),
    "duplicate model": ("model,imagenet\nm1,80\nm1,81\n", [],
                        ", line 3, column model: duplicate model 'm1' (first on line 2)"),
    "nothing mapped": ("model,foo\nm1,80\n", ["--skip-unmapped"],
                       ", line 1: no column maps to a known dataset"),
    "map on a long file": ("model,dataset,top1\nm1,imagenet,80\n", ["--map", "a=imagenet"],
                           ", line 1: --map and --skip-unmapped apply to wide tables"),
}  # fmt: skip


@pytest.mark.parametrize("case", sorted(BAD_WIDE))
def test_bad_wide_tables_are_refused_with_the_store_unchanged(
    case: str, empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    text, extra, expected = BAD_WIDE[case]
    store = copy_store(empty_db)
    before = fingerprint(store)
    path = tmp_path / "bad.csv"
    path.write_text(text)
    code, _, err = run(["import", "results", str(path), *extra], store, capsys)
    assert code != 0
    assert err.startswith(f"lottery: error: {path}{expected}"), err
    assert err.count("\n") == 1 and "Traceback" not in err
    assert fingerprint(store) == before


def test_bad_map_option_is_one_line(empty_db: Path, copy_store, tmp_path: Path, capsys) -> None:
    store = copy_store(empty_db)
    path = tmp_path / "w.csv"
    path.write_text(WIDE)
    code, _, err = run(["import", "results", str(path), "--map", "extra"], store, capsys)
    assert code != 0
    assert err == "lottery: error: --map 'extra': expected COLUMN=DATASET\n"
