"""The shipped ImageNet testbed (source `imagenet-testbed`) against its CSV read independently
(csv module, pandas), and its rank agreement against scipy on the raw file."""

from __future__ import annotations

import csv
import json
from pathlib import Path

import duckdb
import numpy as np
import pandas as pd
import pytest
from scipy import stats

from lottery_tui.cli.main import main
from lottery_tui.store.paths import data_dir

RAW = data_dir() / "imagenet-testbed" / "robustness_top1s.csv"
# Written out here rather than imported, so a wrong mapping in the code cannot pass.
EXPECTED_COLUMNS = {
    "imagenet": "val",
    "imagenetv2-matched-frequency": "imagenetv2-matched-frequency-format-val",
    "imagenetv2-threshold-0.7": "imagenetv2-threshold-0.7-format-val",
    "imagenetv2-top-images": "imagenetv2-top-images-format-val",
    "imagenet-sketch": "imagenet-sketch",
    "imagenet-r": "imagenet-r",
    "imagenet-a": "imagenet-a",
    "imagenet-r-clean": "val-on-imagenet-r-classes",
    "imagenet-a-clean": "val-on-imagenet-a-classes",
    "objectnet": "objectnet-1.0-beta",
    "objectnet-clean": "val-on-objectnet-classes",
}
C_CORRUPTIONS = [
    "gaussian_noise",
    "shot_noise",
    "impulse_noise",
    "defocus_blur",
    "glass_blur",
    "motion_blur",
    "zoom_blur",
    "snow",
    "frost",
    "fog",
    "brightness",
    "contrast",
    "elastic_transform",
    "pixelate",
    "jpeg_compression",
]


def raw_frame() -> pd.DataFrame:
    frame = pd.read_csv(RAW).set_index("model")
    grid = [f"imagenet-c.{c}.{s}_on-disk" for c in C_CORRUPTIONS for s in range(1, 6)]
    complete = frame[grid].notna().all(axis=1)
    mean = frame[grid].mean(axis=1).where(complete).rename("imagenet-c-mean")
    return pd.concat([frame, mean], axis=1)


@pytest.fixture(scope="module")
def stored(shipped_db: Path) -> dict[tuple[str, str], tuple[float, int]]:
    con = duckdb.connect(str(shipped_db), read_only=True)
    try:
        found = con.execute(
            "SELECT model, dataset, top1, n_images FROM results WHERE source = 'imagenet-testbed'"
        ).fetchall()
    finally:
        con.close()
    return {(m, d): (t, n) for m, d, t, n in found}


def test_the_shipped_file_is_upstream_byte_for_byte() -> None:
    import hashlib

    digest = hashlib.sha256(RAW.read_bytes()).hexdigest()
    assert digest.startswith("6b32665be2eef159")
    assert (RAW.parent / "LICENSE").read_text().startswith("MIT License")


def test_every_non_empty_cell_of_the_mapped_settings_is_a_row(stored) -> None:
    with open(RAW, newline="") as handle:
        file_rows = list(csv.DictReader(handle))
    expected = {
        (row["model"], dataset): float(row[column])
        for row in file_rows
        for dataset, column in EXPECTED_COLUMNS.items()
        if row[column].strip()
    }
    frame = raw_frame()
    expected.update(
        {(m, "imagenet-c"): float(v) for m, v in frame["imagenet-c-mean"].dropna().items()}
    )
    assert stored.keys() == expected.keys()
    assert max(abs(stored[key][0] - value) for key, value in expected.items()) < 1e-8
    counts = pd.Series([d for _, d in stored]).value_counts()
    assert counts["imagenet"] == 335 and counts["imagenet-r"] == 329
    assert counts["imagenet-c"] == 200


def test_image_counts_are_the_testbeds(stored) -> None:
    n_images = {d: n for (_, d), (_, n) in stored.items()}
    assert n_images["objectnet"] == 18514 and n_images["objectnet-clean"] == 6250
    assert n_images["imagenet-c"] == 50000 and n_images["imagenetv2-top-images"] == 10000


def test_self_supervised_linear_probes_are_there(stored) -> None:
    for model in ("resnet50_swav", "resnet50_simsiam", "resnet50_simclrv2_linear_probe_tf_port"):
        assert (model, "imagenet") in stored and (model, "imagenet-sketch") in stored


def test_tau_b_of_val_against_each_variant_matches_scipy_on_the_raw_file(
    shipped_db: Path, capsys
) -> None:
    args = ["report", "--source", "imagenet-testbed", "--format", "json", "--resamples", "20"]
    assert main([*args, "--seed", "1", "--db", str(shipped_db)]) == 0
    report = json.loads(capsys.readouterr().out)
    taus = {row["dataset"]: row for row in report["rank_agreement"]}
    frame = raw_frame()
    columns = {**EXPECTED_COLUMNS, "imagenet-c": "imagenet-c-mean"}
    del columns["imagenet"]
    assert set(taus) == set(columns)
    for dataset, column in columns.items():
        both = frame[["val", column]].dropna()
        expected = stats.kendalltau(both["val"], both[column], variant="b").statistic
        assert taus[dataset]["n_models"] == len(both), dataset
        assert np.isclose(taus[dataset]["kendall_tau_b"], expected, rtol=0, atol=1e-12), dataset


def test_names_shared_with_the_per_image_source_stay_two_models(shipped_db: Path) -> None:
    """The testbed's resnet50 is torchvision's checkpoint, analysing-relations' is timm's."""
    con = duckdb.connect(str(shipped_db), read_only=True)
    try:
        rows = con.execute(
            "SELECT source, top1 FROM results WHERE model = 'resnet50' AND dataset = 'imagenet'"
        ).fetchall()
        per_image = con.execute(
            "SELECT count(DISTINCT model) FROM results "
            "WHERE source = 'analysing-relations' AND dataset = 'imagenet'"
        ).fetchall()
    finally:
        con.close()
    top1 = dict(rows)
    assert abs(top1["imagenet-testbed"] - 76.130005) < 1e-4
    assert abs(top1["analysing-relations"] - 80.386) < 1e-3
    assert per_image == [(15,)]
