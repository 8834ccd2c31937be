"""Importers on real files and realistic user files, through the CLI, checked against the data."""

from __future__ import annotations

import csv
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.parquet as pq
import pytest

from lottery_tui.cli.main import main
from lottery_tui.store.paths import data_dir

from .conftest import fingerprint

TIMM_DIR = data_dir() / "timm-results"


def query(path: Path, sql: str, params: object = None) -> list[tuple]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return con.execute(sql, params).fetchall()
    finally:
        con.close()


def lottery(args: list[str], db: Path, capsys: pytest.CaptureFixture[str]) -> str:
    code = main([*args, "--db", str(db)])
    captured = capsys.readouterr()
    assert code == 0, captured.err
    return captured.out


def test_all_timm_files_import_like_the_shipped_store(
    empty_db: Path, shipped_db: Path, copy_store, capsys
) -> None:
    store = copy_store(empty_db)
    files = sorted(str(p) for p in TIMM_DIR.glob("results-*.csv"))
    out = lottery(["import", "timm", *files], store, capsys)
    assert out.count("imported 1556 results on") == 8
    sql = "SELECT model, dataset, top1, top5, n_images FROM results ORDER BY ALL"
    assert query(store, sql) == query(
        shipped_db, sql.replace("FROM results", "FROM results WHERE source = 'timm'")
    )


def test_reimporting_the_same_file_changes_nothing(shipped_db: Path, copy_store, capsys) -> None:
    store = copy_store(shipped_db)
    before = fingerprint(store)
    out = lottery(["import", "timm", str(TIMM_DIR / "results-imagenet-a.csv")], store, capsys)
    assert "(same sha256, source and options), nothing changed" in out
    assert fingerprint(store) == before


def test_subset_import_keeps_names_consistent(empty_db: Path, copy_store, capsys) -> None:
    store = copy_store(empty_db)
    lottery(["import", "timm", str(TIMM_DIR / "results-imagenet-a.csv")], store, capsys)
    assert query(store, "SELECT count(*) FROM models WHERE name = 'resmlp_24_224.fb_dino'") == [
        (1,)
    ]
    lottery(["import", "timm", str(TIMM_DIR / "results-imagenet.csv")], store, capsys)
    per_model = query(
        store, "SELECT count(*) FROM models m JOIN aggregate_results r USING (model_id) "
        "GROUP BY m.model_id HAVING count(*) > 2"
    )  # fmt: skip
    assert per_model == []
    # 1,556 weights on A, plus resnet50.tv_in1k which only the ImageNet file lists
    assert query(store, "SELECT count(*) FROM models") == [(1557,)]


def test_a_single_size_file_reuses_the_stored_size_name(
    shipped_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(shipped_db)
    name, base, size = query(
        store, "SELECT name, base_name, img_size FROM models WHERE name LIKE '%@%' LIMIT 1"
    )[0]
    one = tmp_path / "results-imagenetv2-top-images.csv"
    one.write_text(f"model,img_size,top1,top5\n{base},{size},70.5,89.25\n")
    lottery(["import", "timm", str(one)], store, capsys)
    assert query(
        store,
        "SELECT model, top1, top5 FROM results WHERE dataset = 'imagenetv2-top-images' "
        "AND source = 'timm'",  # the shipped testbed has rows on it too
    ) == [(name, 70.5, 89.25)]


def test_long_csv_fractions_become_percent(empty_db: Path, copy_store, tmp_path: Path, capsys):
    store = copy_store(empty_db)
    path = tmp_path / "mine.csv"
    path.write_text("model,dataset,top1,top5,n_images\nmy-vit,imagenet,0.81,0.953,\n"
                    "my-vit,imagenet-r,0.4,,30000\n")  # fmt: skip
    out = lottery(["import", "results", str(path), "--source", "lab"], store, capsys)
    assert "imported 2 results (1 models, 2 datasets)" in out
    assert query(store, "SELECT dataset, top1, top5, n_images, source FROM results ORDER BY 1") == [
        ("imagenet", 81.0, 95.3, 50000, "lab"),
        ("imagenet-r", 40.0, None, 30000, "lab"),
    ]


def test_scale_option_decides_an_ambiguous_file(empty_db, copy_store, tmp_path, capsys) -> None:
    store = copy_store(empty_db)
    path = tmp_path / "near-chance.csv"
    path.write_text("model,dataset,top1\nrandom-init,imagenet-a,0.05\n")
    lottery(["import", "results", str(path), "--scale", "percent"], store, capsys)
    assert query(store, "SELECT top1 FROM results") == [(0.05,)]


def _shipped_predictions(model: str) -> tuple[np.ndarray, np.ndarray]:
    table = pq.read_table(data_dir() / "imagenet-val-predictions" / f"{model}.parquet")
    return table.column("image_idx").to_numpy(), table.column("pred").to_numpy()


def _write_headerless_csv(path: Path, model: str, with_label: bool) -> float:
    """analysing-relations' own layout (no header, rows by class), returning val top-1 in %."""
    labels = pq.read_table(data_dir() / "imagenet" / "val_labels.parquet").to_pydict()
    idx, pred = _shipped_predictions(model)
    label_of = dict(zip(labels["image_idx"], labels["label"], strict=True))
    order = sorted(range(len(idx)), key=lambda i: (label_of[idx[i]], idx[i]))
    with open(path, "w", newline="") as handle:
        writer = csv.writer(handle)
        for i in order:
            row = [f"ILSVRC2012_val_{idx[i] + 1:08d}.JPEG", int(pred[i])]
            writer.writerow([*row, label_of[idx[i]]] if with_label else row)
    return 100 * float(np.mean([pred[i] == label_of[idx[i]] for i in range(len(idx))]))


@pytest.mark.parametrize("with_label", [True, False])
def test_headerless_predictions_csv(
    empty_db: Path, shipped_db: Path, copy_store, tmp_path: Path, capsys, with_label: bool
) -> None:
    store = copy_store(empty_db)
    path = tmp_path / "topk_ids_vgg11.csv"
    expected = _write_headerless_csv(path, "vgg11", with_label)
    out = lottery(
        ["import", "predictions", str(path), "--model", "vgg11", "--dataset", "imagenet"],
        store,
        capsys,
    )
    assert "imported 50000 predictions of vgg11 on imagenet" in out
    sql = "SELECT dataset, top1, n_images FROM results WHERE model = 'vgg11' ORDER BY 1"
    got = query(store, sql)
    assert got[0] == ("imagenet", pytest.approx(expected), 50000)
    shipped = sql.replace(" ORDER BY", " AND source = 'analysing-relations' ORDER BY")
    assert got == query(shipped_db, shipped)  # ReaL derived the same way as the shipped store
    assert got[1][0] == "imagenet-real"


def test_predictions_for_the_same_model_are_replaced(shipped_db, copy_store, tmp_path, capsys):
    store = copy_store(shipped_db)
    idx, pred = _shipped_predictions("resnet50")
    path = tmp_path / "resnet50-fixed.parquet"
    always_zero = np.zeros_like(pred)
    pq.write_table(pa.table({"image_idx": idx, "pred": always_zero}), path)
    command = ["import", "predictions", str(path), "--model", "resnet50", "--dataset", "imagenet"]
    lottery([*command, "--source", "analysing-relations"], store, capsys)
    counts = query(
        store,
        "SELECT dataset, count(*), avg(pred) FROM predictions WHERE model = 'resnet50' "
        "GROUP BY 1 ORDER BY 1",
    )
    assert counts == [("imagenet", 50000, 0.0), ("imagenet-real", 46837, 0.0)]
    assert query(store, "SELECT top1 FROM results WHERE model = 'resnet50' AND "
                 "dataset = 'imagenet' AND source = 'analysing-relations'"
                 ) == [(100 * 50 / 50000,)]  # fmt: skip


def test_predictions_under_another_source_are_another_model(
    shipped_db, copy_store, tmp_path, capsys
):
    store = copy_store(shipped_db)
    idx, pred = _shipped_predictions("resnet50")
    path = tmp_path / "resnet50-zero.parquet"
    pq.write_table(pa.table({"image_idx": idx, "pred": np.zeros_like(pred)}), path)
    sql = (
        "SELECT source, dataset, count(*), avg(pred) FROM predictions WHERE model = 'resnet50' "
        "GROUP BY ALL ORDER BY ALL"
    )
    before = query(store, sql)
    lottery(
        ["import", "predictions", str(path), "--model", "resnet50", "--dataset", "imagenet"],
        store,
        capsys,
    )
    assert query(store, sql) == sorted(
        [*before, ("user", "imagenet", 50000, 0.0), ("user", "imagenet-real", 46837, 0.0)]
    )


def test_parquet_with_top5(empty_db: Path, copy_store, tmp_path: Path, capsys) -> None:
    store = copy_store(empty_db)
    labels = pq.read_table(data_dir() / "imagenet" / "val_labels.parquet")
    label = labels.column("label").to_numpy().astype(int)
    rng = np.random.default_rng(7)
    pred = np.where(rng.random(len(label)) < 0.5, label, (label + 1) % 1000)
    # the true label is among the top 5 for every image whose index is even
    top5 = [
        [int(p), int((lab if i % 2 == 0 else lab + 2) % 1000), 997, 998, 999]
        for i, (p, lab) in enumerate(zip(pred, label, strict=True))
    ]
    table = pa.table(
        {
            "image_id": labels.column("image_id"),
            "pred": pa.array(pred, pa.int16()),
            "top5": pa.array(top5, pa.list_(pa.int16())),
        }
    )
    path = tmp_path / "probe.parquet"
    pq.write_table(table, path)
    lottery(["import", "predictions", str(path), "--model", "p", "--dataset", "imagenet"],
            store, capsys)  # fmt: skip
    image_idx = labels.column("image_idx").to_numpy()
    in_top5 = np.array([lab in row for lab, row in zip(label, top5, strict=True)])
    ((top1, top5_acc),) = query(
        store, "SELECT top1, top5 FROM results WHERE model = 'p' AND dataset = 'imagenet'"
    )
    assert top1 == pytest.approx(100 * np.mean(pred == label))
    assert top5_acc == pytest.approx(100 * np.mean(in_top5))
    assert image_idx.min() == 0


def test_user_dataset_with_labels_then_predictions(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    labels = tmp_path / "labels.csv"
    labels.write_text("image_id,label\n" + "".join(f"img{i}.png,{i % 10}\n" for i in range(40)))
    out = lottery(
        ["import", "dataset", "toy-10", "--name", "Toy", "--classes", "10", "--labels",
         str(labels)], store, capsys,
    )  # fmt: skip
    assert "registered dataset toy-10 with 40 labelled images" in out
    preds = tmp_path / "preds.csv"
    preds.write_text("image_id,pred\n" + "".join(f"img{i}.png,{i % 5}\n" for i in range(40)))
    lottery(["import", "predictions", str(preds), "--model", "tiny", "--dataset", "toy-10"],
            store, capsys)  # fmt: skip
    expected = 100 * sum(i % 5 == i % 10 for i in range(40)) / 40
    assert query(store, "SELECT top1, n_images FROM results WHERE dataset = 'toy-10'") == [
        (expected, 40)
    ]
    listing = lottery(["datasets", "--format", "csv"], store, capsys)
    assert any(line.startswith("toy-10,Toy,40,10,") for line in listing.splitlines())


def test_new_dataset_takes_images_and_labels_from_a_predictions_file(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    store = copy_store(empty_db)
    lottery(["import", "dataset", "mine", "--classes", "3"], store, capsys)
    preds = tmp_path / "preds.csv"
    preds.write_text("file_name,predicted_class,label\nb.jpg,1,1\na.jpg,2,0\nc.jpg,0,0\n")
    lottery(["import", "predictions", str(preds), "--model", "m", "--dataset", "mine"],
            store, capsys)  # fmt: skip
    assert query(store, "SELECT image_id, pred, correct FROM predictions ORDER BY 1") == [
        ("a.jpg", 2, False), ("b.jpg", 1, True), ("c.jpg", 0, True)
    ]  # fmt: skip


def test_relabelling_of_val_scores_existing_models(
    shipped_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    """A user's multi-label relabelling of ImageNet val, like ReaL: existing models are scored."""
    store = copy_store(shipped_db)
    labels = tmp_path / "relabel.csv"
    # image 1 gets {65, 1}, image 2 no labels (unscored), image 3 gets {0}
    labels.write_text(
        "image_id,label\nILSVRC2012_val_00000001.JPEG,65 1\nILSVRC2012_val_00000002.JPEG,\n"
        "ILSVRC2012_val_00000003.JPEG,0\n"
    )
    lottery(["import", "dataset", "val-relabel", "--multi-label", "--shares-images-with",
             "imagenet", "--labels", str(labels)], store, capsys)  # fmt: skip
    rows = query(
        store,
        "SELECT v.model, v.image_id, v.correct, i.pred FROM predictions v "
        "JOIN predictions i ON i.model = v.model AND i.image_id = v.image_id "
        "AND i.dataset = 'imagenet' WHERE v.dataset = 'val-relabel' ORDER BY 1, 2",
    )
    assert len(rows) == 15 * 2
    sets = {"ILSVRC2012_val_00000001.JPEG": {65, 1}, "ILSVRC2012_val_00000003.JPEG": {0}}
    for _, image_id, correct, pred in rows:
        assert correct == (pred in sets[image_id])


def test_labels_for_a_builtin_dataset_then_predictions(
    empty_db: Path, copy_store, tmp_path: Path, capsys
) -> None:
    """imagenet-sketch ships without images: its labels can be added, then predictions."""
    store = copy_store(empty_db)
    labels = tmp_path / "sketch-labels.csv"
    labels.write_text(
        "image_id,label\n" + "".join(f"n{c:08d}/sketch_{c}.JPEG,{c}\n" for c in range(0, 1000, 10))
    )
    out = lottery(["import", "dataset", "imagenet-sketch", "--labels", str(labels)], store, capsys)
    assert "added labels to dataset imagenet-sketch with 100 labelled images" in out
    preds = tmp_path / "sketch-preds.csv"
    preds.write_text(
        "image_id,pred\n" + "".join(f"n{c:08d}/sketch_{c}.JPEG,{c if c < 500 else 0}\n"
                                    for c in range(0, 1000, 10))
    )  # fmt: skip
    lottery(["import", "predictions", str(preds), "--model", "m", "--dataset", "imagenet-sketch"],
            store, capsys)  # fmt: skip
    assert query(store, "SELECT top1, n_images FROM results") == [(50.0, 100)]
    code = main(
        ["import", "dataset", "imagenet-sketch", "--labels", str(labels), "--db", str(store)]
    )
    assert code != 0
    assert "already has its images and labels" in capsys.readouterr().err
    code = main(["import", "dataset", "imagenet", "--db", str(store)])
    assert code != 0
    assert "dataset 'imagenet' already exists" in capsys.readouterr().err
