"""The store built from the shipped data/ holds what the issue promises, checked against data/
read independently (csv module, pyarrow, json) rather than through the importers."""

from __future__ import annotations

import csv
import json
from collections import Counter
from pathlib import Path

import duckdb
import numpy as np
import pyarrow.parquet as pq
import pytest

from lottery_tui.store import seed
from lottery_tui.store.paths import data_dir

TIMM_DIR = data_dir() / "timm-results"
PRED_DIR = data_dir() / "imagenet-val-predictions"


@pytest.fixture(scope="module")
def con(shipped_db: Path) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


def rows(con: duckdb.DuckDBPyConnection, sql: str, params: object = None) -> list[tuple]:
    return con.execute(sql, params).fetchall()


def test_every_timm_file_gives_1556_results_from_source_timm(con) -> None:
    files = sorted(TIMM_DIR.glob("results-*.csv"))
    assert len(files) == 8
    counts = dict(
        rows(con, "SELECT dataset, count(*) FROM results WHERE source = 'timm' GROUP BY 1")
    )
    assert len(counts) == 8
    for path in files:
        with open(path, newline="") as handle:
            n_rows = sum(1 for _ in csv.DictReader(handle))
        assert n_rows == 1556
    assert set(counts.values()) == {1556}


def test_timm_values_match_the_csv(con) -> None:
    with open(TIMM_DIR / "results-imagenet-real.csv", newline="") as handle:
        first = next(csv.DictReader(handle))
    stored = rows(
        con,
        "SELECT top1, top5 FROM results WHERE model = ? AND dataset = 'imagenet-real'",
        [first["model"]],
    )
    assert stored == [(float(first["top1"]), float(first["top5"]))]


def test_same_weights_at_two_image_sizes_stay_distinct(con) -> None:
    with open(TIMM_DIR / "results-imagenet.csv", newline="") as handle:
        file_rows = list(csv.DictReader(handle))
    counts = Counter(row["model"] for row in file_rows)
    doubled = {name for name, n in counts.items() if n > 1}
    assert len(doubled) == 290
    stored = rows(
        con,
        "SELECT m.name, m.base_name, m.img_size FROM results r JOIN models m ON m.name = r.model "
        "WHERE r.dataset = 'imagenet' AND r.source = 'timm'",
    )
    assert len(stored) == 1556 == len({name for name, _, _ in stored})
    for name, base, size in stored:
        if base in doubled:
            assert name == f"{base}@{size}"
        else:
            assert name == base
    # the two sizes really carry different accuracies
    example = sorted(doubled)[0]
    sizes = {row["img_size"]: float(row["top1"]) for row in file_rows if row["model"] == example}
    for size, top1 in sizes.items():
        assert rows(
            con, "SELECT top1 FROM results WHERE model = ? AND dataset = 'imagenet'",
            [f"{example}@{size}"],
        ) == [(top1,)]  # fmt: skip


def test_imagenet_a_row_set_differs_from_imagenet(con) -> None:
    def models_on(dataset: str) -> set[str]:
        return {r[0] for r in rows(con, "SELECT model FROM results WHERE dataset = ? "
                                        "AND source = 'timm'", [dataset])}  # fmt: skip

    only_a = models_on("imagenet-a") - models_on("imagenet")
    only_val = models_on("imagenet") - models_on("imagenet-a")
    assert only_a == {"resmlp_24_224.fb_dino"}
    assert only_val == {"resnet50.tv_in1k"}


def test_thousands_separator_in_param_count(con) -> None:
    assert rows(
        con, "SELECT param_count FROM models WHERE name = 'eva_giant_patch14_336.clip_ft_in1k'"
    ) == [(1013.01,)]


def test_metadata_derived_from_names(con) -> None:
    assert rows(
        con,
        "SELECT architecture, family, framework, pretrained_tag FROM models "
        "WHERE name = 'resmlp_24_224.fb_dino'",
    ) == [("resmlp_24_224", "resmlp", "dino", "fb_dino")]


def _labels() -> np.ndarray:
    table = pq.read_table(data_dir() / "imagenet" / "val_labels.parquet")
    labels = np.empty(50000, dtype=np.int64)
    labels[table.column("image_idx").to_numpy()] = table.column("label").to_numpy()
    return labels


def _preds(model: str) -> np.ndarray:
    table = pq.read_table(PRED_DIR / f"{model}.parquet")
    preds = np.full(50000, -1, dtype=np.int64)
    preds[table.column("image_idx").to_numpy()] = table.column("pred").to_numpy()
    return preds


@pytest.mark.parametrize("model", ["vgg11", "resnet50", "swin_base_patch4_window7_224"])
def test_real_accuracy_recomputed_independently(con, model: str) -> None:
    real = json.loads((data_dir() / "imagenet" / "real.json").read_text())
    preds = _preds(model)
    hits = [preds[i] in labels for i, labels in enumerate(real) if labels]
    assert len(hits) == 46837
    expected = 100 * sum(hits) / len(hits)
    stored = rows(
        con, "SELECT top1, n_images, source FROM results WHERE model = ? AND dataset = ?",
        [model, "imagenet-real"],
    )  # fmt: skip
    assert stored[0][1:] == (46837, "analysing-relations")
    assert stored[0][0] == pytest.approx(expected, abs=1e-9)
    per_image = rows(
        con, "SELECT count(*), avg(correct::INT) * 100 FROM predictions "
        "WHERE model = ? AND dataset = 'imagenet-real'", [model],
    )  # fmt: skip
    assert per_image[0][0] == 46837
    assert per_image[0][1] == pytest.approx(expected, abs=1e-9)


def test_published_real_range_of_the_15_models(con) -> None:
    """../shared/README.md: ReaL top-1 from 76.40 % (vgg11) to 89.19 % (swin_base)."""
    low, high = rows(
        con,
        "SELECT min(top1), max(top1) FROM results "
        "WHERE dataset = 'imagenet-real' AND source = 'analysing-relations'",
    )[0]
    assert round(low, 2) == 76.40 and round(high, 2) == 89.19


def test_val_accuracy_of_every_shipped_model(con) -> None:
    labels = _labels()
    models = sorted(path.stem for path in PRED_DIR.glob("*.parquet"))
    assert len(models) == 15
    stored = dict(
        rows(
            con,
            "SELECT model, top1 FROM results WHERE dataset = 'imagenet' "
            "AND source = 'analysing-relations'",
        )
    )
    assert sorted(stored) == models
    for model in models:
        assert stored[model] == pytest.approx(100 * np.mean(_preds(model) == labels), abs=1e-9)


def test_predictions_view_joins_image_ids(con) -> None:
    counts = dict(rows(con, "SELECT dataset, count(*) FROM predictions GROUP BY 1"))
    assert counts == {"imagenet": 15 * 50000, "imagenet-real": 15 * 46837}
    labels = _labels()
    sample = rows(
        con,
        "SELECT image_id, pred, correct FROM predictions "
        "WHERE model = 'resnet50' AND dataset = 'imagenet' ORDER BY image_id LIMIT 3",
    )
    preds = _preds("resnet50")
    for index, (image_id, pred, correct) in enumerate(sample):
        assert image_id == f"ILSVRC2012_val_{index + 1:08d}.JPEG"
        assert pred == preds[index] and correct == (preds[index] == labels[index])


def test_results_view_has_one_row_per_model_and_dataset(con) -> None:
    # a model is (source, name): the testbed's resnet50 is not analysing-relations' resnet50
    distinct = "SELECT count(*) FROM (SELECT DISTINCT source, model, dataset FROM results)"
    assert rows(con, distinct) == rows(con, "SELECT count(*) FROM results")


def test_every_row_has_provenance(con) -> None:
    assert rows(
        con,
        "SELECT count(*) FROM aggregate_results r ANTI JOIN sources s USING (source_id)",
    ) == [(0,)]
    sources = rows(con, "SELECT name, count(*), count(sha256) FROM sources GROUP BY 1 ORDER BY 1")
    assert sources == [("analysing-relations", 15, 15), ("imagenet-testbed", 1, 1), ("timm", 8, 8)]


def test_builtin_datasets(con) -> None:
    datasets = {r[0]: r[1:] for r in rows(
        con, "SELECT dataset_id, n_images, n_classes, multi_label, shares_images_with "
        "FROM datasets")}  # fmt: skip
    assert datasets["imagenet-real"] == (46837, 1000, True, "imagenet")
    assert datasets["imagenet-r"][1] == 200 and datasets["imagenet-a"][1] == 200
    assert datasets["imagenet-a-clean"] == (10000, 200, False, "imagenet")
    assert datasets["objectnet"] == (18514, 113, False, None)
    assert datasets["objectnet-clean"] == (6250, 125, False, "imagenet")
    assert datasets["imagenet-c"] == (50000, 1000, False, None)
    assert len(datasets) == 13


def test_a_failed_build_leaves_no_file(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    def broken(con: duckdb.DuckDBPyConnection, data: Path) -> None:
        raise RuntimeError("simulated crash while loading predictions")

    monkeypatch.setattr(seed, "load_shipped_predictions", broken)
    target = tmp_path / "store.duckdb"
    with pytest.raises(RuntimeError, match="simulated crash"):
        seed.build_store(target)
    assert list(tmp_path.iterdir()) == []
