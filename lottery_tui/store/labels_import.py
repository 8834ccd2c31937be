"""Labels of a user's dataset: CSV `image_id,label` (multi-label: classes separated by spaces)."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import (
    check_printable,
    claim_first,
    parse_csv,
    parse_int,
    require_columns,
)
from lottery_tui.store.query import registered


@dataclass(frozen=True)
class LabelFile:
    path: Path
    image_ids: list[str]
    labels: list[list[int]]  # one class each for single-label datasets


def parse_labels_csv(path: Path, *, n_classes: int, multi_label: bool) -> LabelFile:
    rows = parse_csv(path)
    require_columns(rows, ("image_id", "label"))
    id_col, label_col = rows.column_index("image_id"), rows.column_index("label")
    first_line: dict[str, int] = {}
    image_ids: list[str] = []
    labels: list[list[int]] = []
    for line, fields in rows.rows:
        image_id = fields[id_col].strip()
        if not image_id:
            raise InputError("empty image id", path, line, "image_id")
        check_printable(image_id, "image id", path, line, "image_id")
        claim_first(first_line, image_id, f"image {image_id!r}", path, line, "image_id")
        parts = fields[label_col].split() if multi_label else [fields[label_col]]
        classes = [parse_int(part, path, line, "label") for part in parts]
        for value in classes:
            if not 0 <= value < n_classes:
                raise InputError(
                    f"label {value} is outside 0..{n_classes - 1}", path, line, "label"
                )
        image_ids.append(image_id)
        labels.append(classes)
    return LabelFile(path, image_ids, labels)


def write_labels(
    con: duckdb.DuckDBPyConnection,
    dataset_id: str,
    parsed: LabelFile,
    *,
    multi_label: bool,
    shares_images_with: str | None = None,
) -> None:
    """Images in sorted-id order; multi-label sets go to `label_sets` (empty sets unscored).

    A multi-label dataset sharing another's images (a relabelling, like ReaL) gets label sets
    only, keyed by the shared dataset's image indices. A single-label one sharing them partly
    (CIFAR-10.1 v6 and v4) gets its own images and labels, with the shared dataset's image_idx
    for the images they share by id, so the joint bootstrap draws those images together.
    """
    order = sorted(range(len(parsed.image_ids)), key=parsed.image_ids.__getitem__)
    table = pa.table(
        {
            "image_idx": pa.array(range(len(order)), pa.int32()),
            "image_id": [parsed.image_ids[i] for i in order],
            "label": pa.array(
                [None if multi_label else parsed.labels[i][0] for i in order], pa.int16()
            ),
            "labels": pa.array([parsed.labels[i] for i in order], pa.list_(pa.int16())),
        }
    )
    with registered(con, "_labels", table):
        if shares_images_with is not None and multi_label:
            _write_shared_label_sets(con, dataset_id, parsed, shares_images_with)
            return
        if shares_images_with is not None:
            _write_aligned_images(con, dataset_id, parsed, shares_images_with)
            return
        con.execute(
            "INSERT INTO images SELECT $d, image_idx, image_id, label FROM _labels",
            {"d": dataset_id},
        )
        if multi_label:
            con.execute(
                "INSERT INTO label_sets SELECT $d, image_idx, labels FROM _labels "
                "WHERE len(labels) > 0",
                {"d": dataset_id},
            )


def _write_shared_label_sets(
    con: duckdb.DuckDBPyConnection, dataset_id: str, parsed: LabelFile, shared: str
) -> None:
    unknown = con.execute(
        "SELECT image_id FROM _labels l ANTI JOIN "
        "(SELECT image_id FROM images WHERE dataset_id = $s) i USING (image_id) LIMIT 1",
        {"s": shared},
    ).fetchall()
    if unknown:
        raise InputError(
            f"image {unknown[0][0]!r} is not an image of dataset {shared!r}", parsed.path
        )
    con.execute(
        """
        INSERT INTO label_sets
        SELECT $d, i.image_idx, l.labels FROM _labels l
        JOIN images i ON i.dataset_id = $s AND i.image_id = l.image_id
        WHERE len(l.labels) > 0
        """,
        {"d": dataset_id, "s": shared},
    )


def _write_aligned_images(
    con: duckdb.DuckDBPyConnection, dataset_id: str, parsed: LabelFile, shared: str
) -> None:
    """Own image rows: the shared dataset's image_idx where the id is one of its images, else
    indices after every image of the shared dataset and of the others sharing it (so two
    datasets' new images never land on one index)."""
    n_shared = con.execute(
        "SELECT count(*) FROM _labels l "
        "JOIN images i ON i.dataset_id = $s AND i.image_id = l.image_id",
        {"s": shared},
    ).fetchall()[0][0]
    if n_shared == 0:
        raise InputError(
            f"no image of this file is an image of dataset {shared!r} (matched by image_id)",
            parsed.path,
        )
    con.execute(
        """
        INSERT INTO images
        SELECT $d,
               coalesce(i.image_idx,
                        (SELECT max(image_idx) FROM images WHERE dataset_id = $s OR dataset_id IN
                          (SELECT dataset_id FROM datasets WHERE shares_images_with = $s))
                        + (row_number() OVER (PARTITION BY i.image_idx IS NULL
                                              ORDER BY l.image_id))::INTEGER),
               l.image_id, l.label
        FROM _labels l LEFT JOIN images i ON i.dataset_id = $s AND i.image_id = l.image_id
        """,
        {"d": dataset_id, "s": shared},
    )
