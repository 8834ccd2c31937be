"""Writing per-image predictions, and the accuracies derived from them, in bulk.

Every writer of predictions (importers, the seed, probe ingest) goes through
`replace_predictions_table`: it replaces the given models' prediction sets for a dataset as a
whole, which keeps (model, dataset, image) unique without a costly primary-key index, writes the
aggregate accuracy, and re-derives multi-label datasets that share the images (ReaL from
ImageNet val).

Bulk ingest time grows with the width of the stored rows and with every join on the way in, so
the rows are three columns (`prediction_rows`: set, image, outcome; see `schema.py`) and the
checks, correctness and accuracies are computed with numpy on the staged Arrow table, against
the dataset's labels read once; DuckDB then only appends.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lottery_tui.errors import InputError
from lottery_tui.store.query import first_row, registered

_names = itertools.count()


@dataclass(frozen=True)
class _Labels:
    """A dataset's ground truth, indexed by image_idx: what scoring a prediction needs."""

    images: str  # the dataset whose images these are (ImageNet val for ReaL)
    known: np.ndarray  # bool: the image exists (multi-label: has a non-empty label set)
    label: np.ndarray  # int16, -1 where unknown (single-label only)
    pairs: np.ndarray | None  # multi-label: sorted image_idx * MAX_CLASSES + class keys


_MAX_CLASSES = 1 << 15  # classes are SMALLINT


def replace_predictions_table(
    con: duckdb.DuckDBPyConnection, table: pa.Table, dataset_id: str
) -> None:
    """Replace the predictions on `dataset_id` of the models in `table` with those in `table`.

    `table` has columns model_id, source_id, image_idx (index into the images of the dataset, or
    of the dataset whose images it shares), pred, and optionally top5 (list of classes) and label
    (overrides the dataset's label). Each distinct (model_id, source_id) becomes one prediction
    set. Raises InputError, leaving the transaction to be rolled back, on a class out of range,
    an unknown or unlabelled image, or an image predicted twice.
    """
    if table.num_rows == 0:
        return
    max_class = _max_class(con, dataset_id)
    truth = _labels(con, dataset_id)
    model = table.column("model_id").to_numpy().astype(np.int64)
    source = table.column("source_id").to_numpy().astype(np.int64)
    image = table.column("image_idx").to_numpy().astype(np.int64)
    pred = table.column("pred").to_numpy().astype(np.int64)
    bad = np.flatnonzero((pred < 0) | (pred >= max_class))
    if bad.size:
        raise InputError(f"predicted class {pred[bad[0]]} is outside 0..{max_class - 1}")
    in_range = (image >= 0) & (image < truth.known.size)
    scored = in_range & truth.known[np.where(in_range, image, 0)]
    if truth.pairs is None:
        if not scored.all():
            first = image[np.flatnonzero(~scored)[0]]
            raise InputError(f"image index {first} is not an image of dataset {truth.images!r}")
        label = truth.label[image]
        if "label" in table.column_names:
            given = table.column("label")
            label = np.where(
                pc.is_null(given).to_numpy(zero_copy_only=False),
                label,
                pc.fill_null(given, 0).to_numpy().astype(np.int16),
            )
        _check_labelled(con, truth, image, label)
        correct = pred == label
    else:  # images without a label set are not scored
        keep = np.flatnonzero(scored)
        table, model, source, image, pred = (
            table.take(keep), model[keep], source[keep], image[keep], pred[keep]
        )  # fmt: skip
        correct = np.isin(image * _MAX_CLASSES + pred, truth.pairs, assume_unique=False)
    models = np.unique(model)
    _check_unique(model, image, models, truth.known.size)
    delete_sets(con, dataset_id, models.tolist())
    pair = model << 32 | source
    pairs = np.unique(pair)
    set_ids = np.asarray(
        _new_sets(con, dataset_id, [(int(k >> 32), int(k & 0xFFFFFFFF)) for k in pairs]),
        dtype=np.int32,
    )
    row_set = set_ids[pc.index_in(pa.array(pair), pa.array(pairs)).to_numpy()]
    rows = pa.table(
        {
            "set_id": pa.array(row_set, pa.int32()),
            "image_idx": pa.array(image, pa.int32()),
            "outcome": pa.array(np.where(correct, pred, -1 - pred), pa.int16()),
        }
    )
    name = f"_rows_{next(_names)}"
    with registered(con, name, rows):
        con.execute(f"INSERT INTO prediction_rows SELECT * FROM {name}")
    has_top5 = "top5" in table.column_names
    if has_top5:
        top5 = pa.table({"set_id": rows.column("set_id"), "image_idx": rows.column("image_idx"),
                         "top5": table.column("top5")})  # fmt: skip
        with registered(con, name, top5):
            con.execute(
                f"INSERT INTO prediction_top5 SELECT set_id, image_idx, top5::SMALLINT[] "
                f"FROM {name} WHERE top5 IS NOT NULL"
            )
    _write_accuracy(con, dataset_id, model, source, correct, models)
    if has_top5:
        _write_top5(con, dataset_id, {"d": dataset_id, "m": models.tolist()})
    for derived in _multi_label_sharers(con, dataset_id):
        derive_multi_label(con, derived, dataset_id, models.tolist(), has_top5=has_top5)


def derive_multi_label(
    con: duckdb.DuckDBPyConnection,
    target: str,
    shared: str,
    model_ids: Sequence[int],
    *,
    has_top5: bool = False,
) -> None:
    """Score `shared`'s predictions against `target`'s label sets (ReaL from ImageNet val).

    Each set on `shared` gets a derived set on `target`. Images with an empty label set have no
    `label_sets` row, so they are not scored. The sets are unnested into (image, class) pairs:
    a hash join beats list_contains on 700k rows.
    """
    models = list(model_ids)
    delete_sets(con, target, models)
    old = con.execute(
        """
        SELECT set_id, model_id, source_id FROM prediction_sets
        WHERE dataset_id = $shared AND list_contains($m, model_id) ORDER BY set_id
        """,
        {"shared": shared, "m": models},
    ).fetchall()
    if not old:
        return
    new = _new_sets(con, target, [(model_id, source_id) for _, model_id, source_id in old])
    mapping = pa.table(
        {
            "old_set": pa.array([row[0] for row in old], pa.int32()),
            "new_set": pa.array(new, pa.int32()),
        }
    )
    derived = f"_derived_sets_{next(_names)}"
    with registered(con, derived, mapping):
        con.execute(
            f"""
            INSERT INTO prediction_rows
            SELECT k.new_set, p.image_idx, encode_outcome(p.pred, coalesce(h.hit, false))
            FROM (SELECT set_id, image_idx, predicted_class(outcome) AS pred
                  FROM prediction_rows) p
            JOIN {derived} k ON k.old_set = p.set_id
            JOIN (SELECT image_idx FROM label_sets WHERE dataset_id = $target) l
              ON l.image_idx = p.image_idx
            LEFT JOIN (SELECT DISTINCT image_idx, unnest(labels) AS label, true AS hit
                       FROM label_sets WHERE dataset_id = $target) h
              ON h.image_idx = p.image_idx AND h.label = p.pred
            """,
            {"target": target},
        )
        if has_top5:
            con.execute(
                f"""
                INSERT INTO prediction_top5
                SELECT k.new_set, t.image_idx, t.top5
                FROM prediction_top5 t
                JOIN {derived} k ON k.old_set = t.set_id
                SEMI JOIN (SELECT image_idx FROM label_sets WHERE dataset_id = $target) l
                  ON l.image_idx = t.image_idx
                """,
                {"target": target},
            )
    write_aggregates(con, target, models, has_top5=has_top5)


def delete_sets(con: duckdb.DuckDBPyConnection, dataset_id: str, model_ids: Sequence[int]) -> None:
    """Drop the models' prediction sets on `dataset_id`, with their rows."""
    rows = con.execute(
        "SELECT set_id FROM prediction_sets WHERE dataset_id = $d AND list_contains($m, model_id)",
        {"d": dataset_id, "m": list(model_ids)},
    ).fetchall()
    ids = [row[0] for row in rows]
    if not ids:
        return
    for table in ("prediction_rows", "prediction_top5", "prediction_sets"):
        con.execute(f"DELETE FROM {table} WHERE list_contains($ids, set_id)", {"ids": ids})


def write_aggregates(
    con: duckdb.DuckDBPyConnection, dataset_id: str, model_ids: Sequence[int], *, has_top5: bool
) -> None:
    """Accuracy in percent over each model's stored rows (top-5 only when given)."""
    params = {"d": dataset_id, "m": list(model_ids)}
    con.execute(
        """
        INSERT OR REPLACE INTO aggregate_results
        SELECT k.model_id, $d, 100 * avg((r.outcome >= 0)::INTEGER), NULL, count(*),
               min(k.source_id)
        FROM prediction_rows r
        JOIN (SELECT * FROM prediction_sets
              WHERE dataset_id = $d AND list_contains($m, model_id)) k ON k.set_id = r.set_id
        GROUP BY k.model_id
        """,
        params,
    )
    if has_top5:
        _write_top5(con, dataset_id, params)


def rederive_multi_label(con: duckdb.DuckDBPyConnection, target: str) -> None:
    """Score every model with predictions on the shared dataset against `target`'s label sets:
    run after registering a new relabelling (like ReaL) of a dataset that already has results."""
    row = first_row(
        con,
        "SELECT shares_images_with FROM datasets WHERE dataset_id = ? AND multi_label",
        [target],
    )
    if row is None or row[0] is None:
        return
    models = con.execute(
        "SELECT DISTINCT model_id FROM prediction_sets WHERE dataset_id = ?", [row[0]]
    ).fetchall()
    if models:
        has_top5 = bool(
            first_row(
                con,
                "SELECT 1 FROM prediction_top5 t JOIN prediction_sets s USING (set_id) "
                "WHERE s.dataset_id = ? LIMIT 1",
                [row[0]],
            )
        )
        derive_multi_label(con, target, row[0], [m for (m,) in models], has_top5=has_top5)


def _write_accuracy(
    con: duckdb.DuckDBPyConnection,
    dataset_id: str,
    model: np.ndarray,
    source: np.ndarray,
    correct: np.ndarray,
    models: np.ndarray,
) -> None:
    """Top-1 per model from the rows just checked, without reading them back."""
    rank = np.searchsorted(models, model)
    n = np.bincount(rank, minlength=models.size)
    hits = np.bincount(rank, weights=correct, minlength=models.size)
    first_source = np.full(models.size, np.iinfo(np.int64).max)
    np.minimum.at(first_source, rank, source)
    table = pa.table(
        {
            "model_id": pa.array(models, pa.int32()),
            "top1": pa.array(100 * hits / n, pa.float64()),
            "n_images": pa.array(n, pa.int32()),
            "source_id": pa.array(first_source, pa.int32()),
        }
    )
    name = f"_aggregates_{next(_names)}"
    with registered(con, name, table):
        con.execute(
            f"INSERT OR REPLACE INTO aggregate_results "
            f"SELECT model_id, $d, top1, NULL, n_images, source_id FROM {name}",
            {"d": dataset_id},
        )


def _write_top5(con: duckdb.DuckDBPyConnection, dataset_id: str, params: dict) -> None:
    """Top-5 accuracy, for models whose every prediction carries a top-5 list."""
    con.execute(
        """
        UPDATE aggregate_results a SET top5 = t.top5
        FROM (
            SELECT p.model_id,
                   100 * avg(CASE WHEN d.multi_label
                                  THEN (len(list_intersect(p.top5, l.labels)) > 0)::INTEGER
                                  ELSE list_contains(p.top5, i.label)::INTEGER END) AS top5
            FROM image_predictions p
            JOIN datasets d ON d.dataset_id = p.dataset_id
            LEFT JOIN images i ON i.dataset_id = coalesce(d.shares_images_with, d.dataset_id)
                              AND i.image_idx = p.image_idx
            LEFT JOIN label_sets l ON l.dataset_id = p.dataset_id AND l.image_idx = p.image_idx
            WHERE p.dataset_id = $d AND list_contains($m, p.model_id)
            GROUP BY p.model_id
            HAVING count(p.top5) = count(*)
        ) t
        WHERE a.model_id = t.model_id AND a.dataset_id = $d
        """,
        params,
    )


def _new_sets(
    con: duckdb.DuckDBPyConnection, dataset_id: str, sources: Sequence[tuple[int, int]]
) -> list[int]:
    """Create one prediction set per (model_id, source_id); their set ids, in that order."""
    rows = con.execute(
        """
        INSERT INTO prediction_sets (model_id, dataset_id, source_id)
        SELECT unnest($m), $d, unnest($s)
        RETURNING model_id, source_id, set_id
        """,
        {"d": dataset_id, "m": [m for m, _ in sources], "s": [s for _, s in sources]},
    ).fetchall()
    by_pair = {(model_id, source_id): set_id for model_id, source_id, set_id in rows}
    return [by_pair[(model_id, source_id)] for model_id, source_id in sources]


def _max_class(con: duckdb.DuckDBPyConnection, dataset_id: str) -> int:
    row = first_row(
        con, "SELECT n_classes, class_subset FROM datasets WHERE dataset_id = ?", [dataset_id]
    )
    if row is None:
        raise InputError(f"unknown dataset {dataset_id!r}")
    n_classes, class_subset = row
    # 200-class subsets (R, A) keep ImageNet's 0-999 class indices.
    return 1000 if class_subset else int(n_classes)


def _labels(con: duckdb.DuckDBPyConnection, dataset_id: str) -> _Labels:
    images, multi_label = first_row(
        con,
        "SELECT coalesce(shares_images_with, dataset_id), multi_label FROM datasets "
        "WHERE dataset_id = ?",
        [dataset_id],
    )
    if multi_label:
        rows = con.execute(
            "SELECT image_idx, unnest(labels) AS label FROM label_sets WHERE dataset_id = ?",
            [dataset_id],
        ).fetchnumpy()
        image = np.asarray(rows["image_idx"], dtype=np.int64)
        size = int(image.max()) + 1 if image.size else 0
        known = np.zeros(size, dtype=bool)
        known[image] = True
        pairs = np.unique(image * _MAX_CLASSES + np.asarray(rows["label"], dtype=np.int64))
        return _Labels(images, known, np.empty(0, np.int16), pairs)
    rows = con.execute(
        "SELECT image_idx, coalesce(label, -1) AS label FROM images WHERE dataset_id = ?", [images]
    ).fetchnumpy()
    image = np.asarray(rows["image_idx"], dtype=np.int64)
    size = int(image.max()) + 1 if image.size else 0
    known = np.zeros(size, dtype=bool)
    known[image] = True
    label = np.full(size, -1, dtype=np.int16)
    label[image] = np.asarray(rows["label"], dtype=np.int16)
    return _Labels(images, known, label, None)


def _check_labelled(
    con: duckdb.DuckDBPyConnection, truth: _Labels, image: np.ndarray, label: np.ndarray
) -> None:
    missing = np.flatnonzero(label < 0)
    if missing.size:
        row = first_row(
            con,
            "SELECT image_id FROM images WHERE dataset_id = ? AND image_idx = ?",
            [truth.images, int(image[missing[0]])],
        )
        raise InputError(f"image {row[0]} has no label in dataset {truth.images}")


def _check_unique(model: np.ndarray, image: np.ndarray, models: np.ndarray, size: int) -> None:
    """One bit of work per row: a bincount over (model, image), no sort."""
    rank = np.searchsorted(models, model)
    counts = np.bincount(rank * size + image, minlength=models.size * size)
    extra = np.flatnonzero(counts > 1)
    if extra.size:
        per_model = np.bincount(extra // size, weights=counts[extra] - 1, minlength=models.size)
        worst = int(np.flatnonzero(per_model)[0])
        raise InputError(
            f"{int(per_model[worst])} image(s) predicted more than once by model id "
            f"{int(models[worst])}"
        )


def _multi_label_sharers(con: duckdb.DuckDBPyConnection, dataset_id: str) -> list[str]:
    rows = con.execute(
        """
        SELECT d.dataset_id FROM datasets d
        WHERE d.shares_images_with = ? AND d.multi_label
          AND EXISTS (SELECT 1 FROM label_sets l WHERE l.dataset_id = d.dataset_id)
        ORDER BY 1
        """,
        [dataset_id],
    ).fetchall()
    return [row[0] for row in rows]
