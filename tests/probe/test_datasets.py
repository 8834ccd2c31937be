"""Dataset layouts and their validation (before any compute), CMYK and corrupt JPEGs."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pyarrow.parquet as pq
import pytest

from lottery_tui.errors import InputError
from lottery_tui.probe.datasets import list_dataset, list_train_folder
from lottery_tui.probe.engine import run_job
from tests.probe.conftest import read_predictions, val_names, write_image

SHIPPED = Path(__file__).resolve().parents[2] / "data" / "imagenet"


def official_labels() -> dict[str, int]:
    table = pq.read_table(SHIPPED / "val_labels.parquet")
    return dict(zip(table["image_id"].to_pylist(), table["label"].to_pylist(), strict=True))


def wnid_list() -> list[str]:
    return (SHIPPED / "imagenet_synsets.txt").read_text().split()


def r_indices() -> list[int]:
    return [int(x) for x in (SHIPPED / "imagenet_r_indices.txt").read_text().split()]


def test_val_flat_uses_the_shipped_labels(val_folder):
    listing = list_dataset("imagenet", val_folder, allow_subset=True)
    labels = official_labels()
    assert listing.layout == "val-flat"
    assert [(i.image_id, i.label) for i in listing.items] == [(n, labels[n]) for n in val_names(12)]


def test_val_wnid_folders_keep_file_names_as_ids(tmp_path):
    rng = np.random.default_rng(0)
    labels, wnids = official_labels(), wnid_list()
    for name in val_names(4):
        write_image(tmp_path / "val" / wnids[labels[name]] / name, rng)
    listing = list_dataset("imagenet", tmp_path / "val", allow_subset=True)
    assert listing.layout == "val"
    assert sorted((i.image_id, i.label) for i in listing.items) == sorted(
        (n, labels[n]) for n in val_names(4)
    )


def test_val_folder_disagreeing_with_official_label_is_an_error(tmp_path):
    name = val_names(1)[0]
    wrong = wnid_list()[(official_labels()[name] + 1) % 1000]
    write_image(tmp_path / "val" / wrong / name, np.random.default_rng(0))
    with pytest.raises(InputError, match="official label"):
        list_dataset("imagenet", tmp_path / "val", allow_subset=True)


def test_val_flat_file_without_label_is_named(tmp_path):
    write_image(tmp_path / "val" / "holiday.jpg", np.random.default_rng(0))
    with pytest.raises(InputError, match=r"holiday\.jpg"):
        list_dataset("imagenet", tmp_path / "val", allow_subset=True)


def test_v2_folders_are_class_indices_not_string_order(tmp_path):
    rng = np.random.default_rng(0)
    for folder in ("0", "2", "10", "999"):
        write_image(tmp_path / "v2" / folder / "a.jpeg", rng)
    listing = list_dataset("imagenetv2-matched-frequency", tmp_path / "v2", allow_subset=True)
    assert {i.image_id: i.label for i in listing.items} == {
        "0/a.jpeg": 0,
        "2/a.jpeg": 2,
        "10/a.jpeg": 10,
        "999/a.jpeg": 999,
    }


def test_v2_non_numeric_folder_is_an_error(tmp_path):
    write_image(tmp_path / "v2" / "n01440764" / "a.jpeg", np.random.default_rng(0))
    with pytest.raises(InputError, match=r"0\.\.999"):
        list_dataset("imagenetv2-top-images", tmp_path / "v2", allow_subset=True)


def test_full_dataset_requires_every_class_and_the_expected_count(tmp_path):
    rng = np.random.default_rng(0)
    for folder in ("0", "1"):
        write_image(tmp_path / "v2" / folder / "a.jpeg", rng)
    with pytest.raises(InputError, match="998 class folders missing"):
        list_dataset("imagenetv2-threshold-0.7", tmp_path / "v2")
    wnids = wnid_list()
    for i in r_indices():
        write_image(tmp_path / "r" / wnids[i] / "a.jpg", rng, size=(8, 8))
    with pytest.raises(InputError, match="found 200 images, expected 30000"):
        list_dataset("imagenet-r", tmp_path / "r")


def test_imagenet_r_rejects_a_class_outside_its_200(tmp_path):
    outside = next(i for i in range(1000) if i not in set(r_indices()))
    write_image(tmp_path / "r" / wnid_list()[outside] / "a.jpg", np.random.default_rng(0))
    with pytest.raises(InputError, match="200 classes"):
        list_dataset("imagenet-r", tmp_path / "r", allow_subset=True)


@pytest.mark.parametrize(
    ("dataset", "message"),
    [("imagenet-real", "derived from an ImageNet val run"), ("cifar10", "unknown dataset")],
)
def test_dataset_ids_that_cannot_be_probed(tmp_path, dataset, message):
    with pytest.raises(InputError, match=message):
        list_dataset(dataset, tmp_path, allow_subset=True)


def test_missing_folder_and_empty_folder(tmp_path):
    with pytest.raises(InputError, match="not found"):
        list_dataset("imagenet-sketch", tmp_path / "nope", allow_subset=True)
    (tmp_path / "empty").mkdir()
    with pytest.raises(InputError, match="no class folders"):
        list_dataset("imagenet-sketch", tmp_path / "empty", allow_subset=True)
    with pytest.raises(InputError, match="train folder not found"):
        list_train_folder(tmp_path / "nope")


def test_imagenet_r_predictions_are_masked_to_its_200_classes(resnet18, tmp_path, make_spec):
    import torch

    rng = np.random.default_rng(2)
    wnids, subset = wnid_list(), r_indices()
    for i in subset[:6]:
        write_image(tmp_path / "r" / wnids[i] / "x.jpg", rng)
    torch.save(resnet18.state_dict(), tmp_path / "r18.pth")
    spec = make_spec(
        checkpoint=str(tmp_path / "r18.pth"), dataset="imagenet-r", dataset_path=str(tmp_path / "r")
    )
    run_job(spec, tmp_path / "run")
    rows = read_predictions(tmp_path / "run")
    assert len(rows) == 6
    allowed = set(subset)
    assert all(set(r["top5"]) <= allowed for r in rows.values())
    assert all(r["label"] in allowed for r in rows.values())


def test_cmyk_decodes_and_corrupt_jpeg_is_a_named_skip(resnet18, val_folder, tmp_path, make_spec):
    import torch

    bad = val_names(1, start=12)[0]
    (val_folder / bad).write_bytes(b"\xff\xd8\xff\xe0 definitely not a jpeg")
    torch.save(resnet18.state_dict(), tmp_path / "r18.pth")
    spec = make_spec(checkpoint=str(tmp_path / "r18.pth"), dataset_path=str(val_folder))
    result = run_job(spec, tmp_path / "run")
    rows = read_predictions(tmp_path / "run")
    assert val_names(12)[3] in rows  # the CMYK image is scored
    assert bad not in rows
    assert result.n_images == 12
    assert result.n_skipped == 1
    assert result.config["skipped"][0]["image_id"] == bad
    assert result.config["fallback_decoded"] == []


def test_truncated_jpeg_is_read_by_the_fallback_decoder(tmp_path):
    from lottery_tui.probe.preprocess import decode_rgb

    path = tmp_path / "t.jpg"
    write_image(path, np.random.default_rng(3), size=(64, 64))
    data = path.read_bytes()
    path.write_bytes(data[: len(data) * 3 // 4])  # PIL refuses a truncated file
    img, note = decode_rgb(path)
    assert img.size == (64, 64) and img.mode == "RGB"
    assert "truncated" in note


@pytest.mark.parametrize("dataset", ["imagenet-sketch", "imagenet-a"])
def test_sketch_and_a_wnid_folders(tmp_path, dataset):
    rng = np.random.default_rng(0)
    wnids = wnid_list()
    letter_a = [int(x) for x in (SHIPPED / "imagenet_a_indices.txt").read_text().split()]
    classes = letter_a[:2] if dataset == "imagenet-a" else [0, 999]
    for c in classes:
        write_image(tmp_path / "d" / wnids[c] / "sketch_1.JPEG", rng)
    listing = list_dataset(dataset, tmp_path / "d", allow_subset=True)
    assert {i.image_id: i.label for i in listing.items} == {
        f"{wnids[c]}/sketch_1.JPEG": c for c in classes
    }
    assert listing.classes == (letter_a if dataset == "imagenet-a" else None)
