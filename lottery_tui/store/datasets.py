"""The datasets a store knows: the builtin ImageNet variants, and ones users register."""

from __future__ import annotations

import re
from dataclasses import dataclass

import duckdb

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import check_printable
from lottery_tui.store.query import first_row

# What a dataset is to the others: an independent test set ("variant"), or one built from
# dataset `role_of` (a subset of its images, the same images relabelled, another version of it).
# Datasets built from one another are one family: verdicts, lottery indices, swap counts and
# Friedman count one independent family once (lottery_tui/report/families.py).
VARIANT = "variant"
SUBSET = "subset"
RELABELLING = "relabelling"
VERSION = "version"
ROLES = (VARIANT, SUBSET, RELABELLING, VERSION)


@dataclass(frozen=True)
class Dataset:
    dataset_id: str
    display_name: str
    n_images: int | None
    n_classes: int
    multi_label: bool = False
    shares_images_with: str | None = None
    class_subset: str | None = None
    role: str = VARIANT
    role_of: str | None = None  # the dataset it is a subset, relabelling or version of


BUILTIN_DATASETS: tuple[Dataset, ...] = (
    Dataset("imagenet", "ImageNet val", 50000, 1000),
    Dataset(
        "imagenet-real",
        "ImageNet-ReaL",
        46837,
        1000,
        True,
        "imagenet",
        None,
        RELABELLING,
        "imagenet",
    ),
    # V2's three sets draw from one candidate pool by three selection rules (Recht et al. 2019):
    # MatchedFrequency is the one the paper headlines, the other two are versions of it.
    Dataset("imagenetv2-matched-frequency", "ImageNet-V2 MatchedFrequency", 10000, 1000),
    Dataset(
        "imagenetv2-threshold-0.7",
        "ImageNet-V2 Threshold0.7",
        10000,
        1000,
        role=VERSION,
        role_of="imagenetv2-matched-frequency",
    ),
    Dataset(
        "imagenetv2-top-images",
        "ImageNet-V2 TopImages",
        10000,
        1000,
        role=VERSION,
        role_of="imagenetv2-matched-frequency",
    ),
    Dataset("imagenet-sketch", "ImageNet-Sketch", 50889, 1000),
    Dataset("imagenet-r", "ImageNet-R", 30000, 200, class_subset="imagenet-r"),
    Dataset("imagenet-a", "ImageNet-A", 7500, 200, class_subset="imagenet-a"),
    Dataset(
        "imagenet-r-clean",
        "ImageNet val (R classes)",
        10000,
        200,
        False,
        "imagenet",
        "imagenet-r",
        SUBSET,
        "imagenet",
    ),
    Dataset(
        "imagenet-a-clean",
        "ImageNet val (A classes)",
        10000,
        200,
        False,
        "imagenet",
        "imagenet-a",
        SUBSET,
        "imagenet",
    ),
    # ObjectNet 1.0 beta on its 113 classes that overlap ImageNet's (125 ImageNet classes), and
    # ImageNet val on those 125 classes; image counts as the ImageNet testbed scores them.
    Dataset("objectnet", "ObjectNet (ImageNet classes)", 18514, 113),
    Dataset(
        "objectnet-clean",
        "ImageNet val (ObjectNet classes)",
        6250,
        125,
        False,
        "imagenet",
        role=SUBSET,
        role_of="imagenet",
    ),
    # One aggregate of the corruption grid (lottery_tui.store.testbed.IMAGENET_C): each of its
    # 75 corrupted copies of val has 50,000 images.
    Dataset("imagenet-c", "ImageNet-C (mean of 15 corruptions x 5 severities)", 50000, 1000),
)

# timm's results/ file name -> canonical dataset id.
TIMM_FILE_DATASETS: dict[str, str] = {
    "results-imagenet.csv": "imagenet",
    "results-imagenet-real.csv": "imagenet-real",
    "results-imagenetv2-matched-frequency.csv": "imagenetv2-matched-frequency",
    "results-imagenetv2-threshold-0.7.csv": "imagenetv2-threshold-0.7",
    "results-imagenetv2-top-images.csv": "imagenetv2-top-images",
    "results-sketch.csv": "imagenet-sketch",
    "results-imagenet-r.csv": "imagenet-r",
    "results-imagenet-a.csv": "imagenet-a",
    "results-imagenet-r-clean.csv": "imagenet-r-clean",
    "results-imagenet-a-clean.csv": "imagenet-a-clean",
}

_DATASET_ID = re.compile(r"[a-z0-9][a-z0-9._-]*")


def insert_datasets(
    con: duckdb.DuckDBPyConnection, datasets: tuple[Dataset, ...], *, builtin: bool
) -> None:
    con.executemany(
        "INSERT INTO datasets (dataset_id, display_name, n_images, n_classes, multi_label, "
        "shares_images_with, class_subset, builtin, role, role_of) "
        "VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)",
        [
            [
                d.dataset_id,
                d.display_name,
                d.n_images,
                d.n_classes,
                d.multi_label,
                d.shares_images_with,
                d.class_subset,
                builtin,
                d.role,
                d.role_of,
            ]
            for d in datasets
        ],
    )


def register_dataset(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    """Add a user's dataset; its id must be new, lower-case, and any shared dataset must exist."""
    if not _DATASET_ID.fullmatch(dataset.dataset_id):
        raise InputError(
            f"dataset id {dataset.dataset_id!r} must be lower-case letters, digits, '.', '_' or '-'"
        )
    if dataset_exists(con, dataset.dataset_id):
        raise InputError(f"dataset {dataset.dataset_id!r} already exists")
    if dataset.n_classes < 1 or dataset.n_classes > 32767:
        raise InputError(f"number of classes must be between 1 and 32767, not {dataset.n_classes}")
    if dataset.n_images is not None and not 1 <= dataset.n_images <= 2**31 - 1:
        raise InputError(
            f"number of images must be between 1 and {2**31 - 1}, not {dataset.n_images}"
        )
    check_printable(dataset.display_name, "dataset name")
    check_role(con, dataset)
    shared = dataset.shares_images_with
    if shared is not None:
        root = get_dataset(con, shared)
        if root is None:
            raise InputError(f"dataset {shared!r} (whose images are shared) does not exist")
        if root.shares_images_with is not None:
            raise InputError(
                f"dataset {shared!r} shares the images of {root.shares_images_with!r}: "
                f"share with {root.shares_images_with!r} instead"
            )
    insert_datasets(con, (dataset,), builtin=False)


def check_role(con: duckdb.DuckDBPyConnection, dataset: Dataset) -> None:
    """A variant names no other dataset; a subset, relabelling or version names an existing one."""
    if dataset.role not in ROLES:
        raise InputError(f"dataset role {dataset.role!r} is not one of {', '.join(ROLES)}")
    if dataset.role == VARIANT:
        if dataset.role_of is not None:
            raise InputError(f"a variant is built from no other dataset (got {dataset.role_of!r})")
        return
    if dataset.role_of is None or not dataset_exists(con, dataset.role_of):
        raise InputError(
            f"a {dataset.role} must name the existing dataset it comes from, "
            f"not {dataset.role_of!r}"
        )


def get_dataset(con: duckdb.DuckDBPyConnection, dataset_id: str) -> Dataset | None:
    row = first_row(
        con,
        "SELECT dataset_id, display_name, n_images, n_classes, multi_label, shares_images_with, "
        "class_subset, role, role_of FROM datasets WHERE dataset_id = ?",
        [dataset_id],
    )
    return None if row is None else Dataset(*row)


def has_labels(con: duckdb.DuckDBPyConnection, dataset_id: str) -> bool:
    """Whether the dataset has its own images or label sets (a relabelling like ReaL has only
    label sets): registering its labels again would duplicate them."""
    return (
        first_row(
            con,
            "SELECT 1 FROM images WHERE dataset_id = $d UNION ALL "
            "SELECT 1 FROM label_sets WHERE dataset_id = $d LIMIT 1",
            {"d": dataset_id},
        )
        is not None
    )


def dataset_exists(con: duckdb.DuckDBPyConnection, dataset_id: str) -> bool:
    return first_row(con, "SELECT 1 FROM datasets WHERE dataset_id = ?", [dataset_id]) is not None


def known_dataset_ids(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [row[0] for row in con.execute("SELECT dataset_id FROM datasets ORDER BY 1").fetchall()]


def image_dataset(con: duckdb.DuckDBPyConnection, dataset_id: str) -> str:
    """The dataset whose `images` rows this dataset uses: its own when it has any (a dataset
    sharing images partly, by id), else those of the dataset it shares them with (ReaL and the
    -clean sets use ImageNet val's). The `predictions` view applies the same rule."""
    row = first_row(
        con,
        """
        SELECT CASE WHEN EXISTS (SELECT 1 FROM images WHERE dataset_id = $d) THEN $d
                    ELSE coalesce(shares_images_with, dataset_id) END
        FROM datasets WHERE dataset_id = $d
        """,
        {"d": dataset_id},
    )
    if row is None:
        raise InputError(f"unknown dataset {dataset_id!r}")
    return str(row[0])


def set_image_count(con: duckdb.DuckDBPyConnection, dataset_id: str, n_images: int) -> None:
    """Record how many images a dataset scores (known once its labels are imported)."""
    con.execute("UPDATE datasets SET n_images = ? WHERE dataset_id = ?", [n_images, dataset_id])
