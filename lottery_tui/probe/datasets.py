"""Dataset folders: find the layout, list the images with labels, validate before any compute.

Labels are always ImageNet's 0-999 indices in sorted-wnid order. ImageNet val comes as flat
`ILSVRC2012_val_%08d.JPEG` files (labels from the shipped label file) or wnid folders; V2 uses
folders `0/`..`999/` that are class indices (int(), never string order); Sketch, R and A use wnid
folders, R and A over 200 classes whose predictions are masked to those columns. ReaL is not probed
directly: it is derived from an ImageNet val run at ingest.
"""

from __future__ import annotations

import hashlib
import re
from dataclasses import dataclass
from functools import cache
from pathlib import Path

from lottery_tui.errors import InputError

IMAGE_SUFFIXES = (".jpeg", ".jpg", ".png")
_VAL_NAME = re.compile(r"ILSVRC2012_val_\d{8}\.JPEG$")


@dataclass(frozen=True)
class DatasetRule:
    layout: str  # 'val', 'index-folders' or 'wnid-folders'
    n_images: int
    subset: str | None = None  # 'imagenet-r' / 'imagenet-a': 200-class masking


RULES: dict[str, DatasetRule] = {
    "imagenet": DatasetRule("val", 50000),
    "imagenetv2-matched-frequency": DatasetRule("index-folders", 10000),
    "imagenetv2-threshold-0.7": DatasetRule("index-folders", 10000),
    "imagenetv2-top-images": DatasetRule("index-folders", 10000),
    "imagenet-sketch": DatasetRule("wnid-folders", 50889),
    "imagenet-r": DatasetRule("wnid-folders", 30000, "imagenet-r"),
    "imagenet-a": DatasetRule("wnid-folders", 7500, "imagenet-a"),
}


# Scored at no cost from an ImageNet val run: val images of the R / A classes, masked the same way.
CLEAN_SUBSETS = {"imagenet-r-clean": "imagenet-r", "imagenet-a-clean": "imagenet-a"}


@dataclass(frozen=True)
class ImageItem:
    path: Path
    image_id: str
    label: int


@dataclass
class DatasetListing:
    dataset: str
    root: Path
    layout: str
    items: list[ImageItem]
    classes: list[int] | None  # allowed prediction columns (R/A), None = all 1000

    def fingerprint(self) -> str:
        """Identifies the exact image list (for the feature cache key)."""
        digest = hashlib.sha256(str(self.root.resolve()).encode())
        for item in self.items:
            digest.update(f"\n{item.image_id}\t{item.label}".encode())
        return digest.hexdigest()


def _data_file(name: str) -> Path:
    from lottery_tui.store.paths import data_dir

    path = data_dir() / "imagenet" / name
    if not path.is_file():
        raise InputError("shipped class data missing (reinstall lottery-tui)", path)
    return path


@cache
def wnids() -> tuple[str, ...]:
    return tuple(_data_file("imagenet_synsets.txt").read_text().split())


@cache
def subset_indices(subset: str) -> tuple[int, ...]:
    letter = subset.rsplit("-", 1)[-1]
    return tuple(int(x) for x in _data_file(f"imagenet_{letter}_indices.txt").read_text().split())


@cache
def val_labels() -> dict[str, int]:
    import pyarrow.parquet as pq

    table = pq.read_table(_data_file("val_labels.parquet"), columns=["image_id", "label"])
    return dict(
        zip(table.column("image_id").to_pylist(), table.column("label").to_pylist(), strict=True)
    )


def _images_in(folder: Path) -> list[Path]:
    return sorted(
        p
        for p in folder.iterdir()
        if p.is_file() and not p.name.startswith(".") and p.suffix.lower() in IMAGE_SUFFIXES
    )


def _class_folders(root: Path) -> list[Path]:
    return sorted(p for p in root.iterdir() if p.is_dir() and not p.name.startswith("."))


def _folder_label(folder: Path, layout: str, allowed: set[int]) -> int:
    index = {w: i for i, w in enumerate(wnids())}
    if layout == "index-folders":
        if not folder.name.isdigit() or not 0 <= int(folder.name) < 1000:
            raise InputError("expected class folders named 0..999 (ImageNet-V2 layout)", folder)
        label = int(folder.name)
    else:
        if folder.name not in index:
            raise InputError("folder name is not an ImageNet wnid", folder)
        label = index[folder.name]
    if label not in allowed:
        raise InputError("class is not one of this dataset's 200 classes", folder)
    return label


def list_dataset(dataset: str, root: Path | str, *, allow_subset: bool = False) -> DatasetListing:
    """List and validate a dataset folder; every problem is raised before any image is decoded."""
    if dataset == "imagenet-real":
        raise InputError(
            "imagenet-real is derived from an ImageNet val run: probe --dataset imagenet=PATH"
        )
    if dataset not in RULES:
        raise InputError(f"unknown dataset {dataset!r} (known: {', '.join(sorted(RULES))})")
    rule = RULES[dataset]
    root = Path(root)
    if not root.is_dir():
        raise InputError("dataset folder not found", root)
    classes = list(subset_indices(rule.subset)) if rule.subset else None
    allowed = set(classes) if classes else set(range(1000))
    flat = _images_in(root)
    if rule.layout == "val" and flat:
        items, layout = _val_flat(root, flat), "val-flat"
    else:
        items, layout = _folders(root, rule, allowed, allow_subset), rule.layout
    if not items:
        raise InputError("no images found (expected .JPEG/.jpg/.png files)", root)
    if not allow_subset and len(items) != rule.n_images:
        raise InputError(
            f"{dataset}: found {len(items)} images, expected {rule.n_images} "
            "(pass --allow-subset to probe a part of it)",
            root,
        )
    return DatasetListing(dataset, root, layout, items, classes)


def _val_flat(root: Path, files: list[Path]) -> list[ImageItem]:
    labels = val_labels()
    items = []
    for path in files:
        if path.name not in labels:
            raise InputError(
                "not an ImageNet val file name (ILSVRC2012_val_%08d.JPEG) with a label", path
            )
        items.append(ImageItem(path, path.name, labels[path.name]))
    return items


def _folders(
    root: Path, rule: DatasetRule, allowed: set[int], allow_subset: bool
) -> list[ImageItem]:
    folders = _class_folders(root)
    if not folders:
        raise InputError("no class folders and no images found", root)
    items: list[ImageItem] = []
    seen: set[int] = set()
    official = val_labels() if rule.layout == "val" else {}
    for folder in folders:
        label = _folder_label(
            folder, "wnid-folders" if rule.layout == "val" else rule.layout, allowed
        )
        seen.add(label)
        images = _images_in(folder)
        if not images and not allow_subset:
            raise InputError("class folder has no images", folder)
        for path in images:
            if path.name in official and official[path.name] != label:
                raise InputError(
                    f"official label of this val image is class {official[path.name]}, "
                    f"not the folder's class {label}",
                    path,
                )
            # Val images keep their file name as id, so they match the store's val images.
            image_id = (
                path.name
                if _VAL_NAME.match(path.name) and rule.layout == "val"
                else (f"{folder.name}/{path.name}")
            )
            items.append(ImageItem(path, image_id, label))
    if not allow_subset and seen != allowed:
        missing = sorted(allowed - seen)
        raise InputError(
            f"{len(missing)} class folders missing (first: {missing[:5]}; "
            "pass --allow-subset to probe a part of the dataset)",
            root,
        )
    return items


def list_train_folder(root: Path | str, *, allow_subset: bool = False) -> DatasetListing:
    """An ImageNet train folder (wnid folders) for head training or k-NN."""
    root = Path(root)
    if not root.is_dir():
        raise InputError("train folder not found", root)
    rule = DatasetRule("wnid-folders", 0)
    try:
        items = _folders(root, rule, set(range(1000)), allow_subset)
    except InputError as exc:  # say which folder: a job also lists its test set
        raise InputError(
            f"train folder (wnid class folders): {exc.message}", exc.path, exc.line, exc.column
        ) from exc
    if not items:
        raise InputError("no images found in the train folder", root)
    return DatasetListing("imagenet-train", root, "wnid-folders", items, None)
