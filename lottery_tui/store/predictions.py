"""Writing per-image predictions, and the accuracies derived from them, in bulk.

Every writer of `image_predictions` (importers, the seed, probe ingest) goes through
`replace_predictions`: it replaces the given models' rows for a dataset as a whole, which keeps
(model_id, dataset_id, image_idx) unique without a costly primary-key index, writes the aggregate
accuracy, and re-derives multi-label datasets that share the images (ReaL from ImageNet val).
Checks ride along in the single insert pass (DuckDB's `error()`), so checking costs no extra scan.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import duckdb
import pyarrow as pa
import pyarrow.compute as pc

from lottery_tui.errors import InputError
from lottery_tui.store.query import first_row, registered

_names = itertools.count()


def replace_predictions_table(
    con: duckdb.DuckDBPyConnection, table: pa.Table, dataset_id: str
) -> None:
    """`replace_predictions` for an Arrow table (see there for its columns)."""
    name = f"_staged_predictions_{next(_names)}"
    with registered(con, name, table):
        model_ids = pc.unique(table.column("model_id")).to_pylist()
        replace_predictions(con, name, dataset_id, model_ids)


def replace_predictions(
    con: duckdb.DuckDBPyConnection, staged: str, dataset_id: str, model_ids: Sequence[int]
) -> None:
    """Replace the predictions on `dataset_id` of the models `model_ids` with those in `staged`.

    `staged` is a table, view, registered Arrow table or table function (e.g. `read_parquet(...)`)
    with columns model_id, source_id, image_idx (index into the images of the dataset, or of the
    dataset whose images it shares), pred, and optionally top5 (list of classes) and label
    (overrides the dataset's label). Raises InputError, leaving the transaction to be rolled back,
    on a class out of range, an unknown or unlabelled image, or an image predicted twice.
    """
    columns = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {staged}").fetchall()}
    has_top5 = "top5" in columns
    images, multi_label, max_class = _dataset(con, dataset_id)
    models = list(model_ids)
    con.execute(
        "DELETE FROM image_predictions WHERE dataset_id = $d AND list_contains($m, model_id)",
        {"d": dataset_id, "m": models},
    )
    pred = (
        f"CASE WHEN s.pred >= 0 AND s.pred < {max_class} THEN s.pred::SMALLINT ELSE "
        f"error('predicted class ' || s.pred || ' is outside 0..{max_class - 1}') END"
    )
    top5 = "s.top5::SMALLINT[]" if has_top5 else "NULL"
    if multi_label:
        label_join = "JOIN label_sets l ON l.dataset_id = $d AND l.image_idx = s.image_idx"
        correct = f"list_contains(l.labels, ({pred}))"
    else:
        label = "coalesce(s.label, i.label)" if "label" in columns else "i.label"
        label_join = "JOIN images i ON i.dataset_id = $images AND i.image_idx = s.image_idx"
        correct = (
            f"CASE WHEN {label} IS NULL THEN error('image ' || i.image_id || ' has no label "
            f"in dataset {images}') ELSE ({pred}) = {label} END"
        )
    try:
        inserted = con.execute(
            f"""
            INSERT INTO image_predictions
            SELECT s.model_id, $d, s.image_idx, {pred}, {top5}, {correct}, s.source_id
            FROM {staged} s {label_join}
            """,
            {"d": dataset_id, "images": images} if not multi_label else {"d": dataset_id},
        ).fetchall()[0][0]
    except duckdb.InvalidInputException as exc:  # raised by error() in the checks above
        raise InputError(str(exc).removeprefix("Invalid Input Error: ").splitlines()[0]) from None
    if not multi_label:
        given = con.execute(f"SELECT count(*) FROM {staged}").fetchall()[0][0]
        if inserted != given:
            _raise_unknown_image(con, staged, images)
    write_aggregates(con, dataset_id, models, has_top5=has_top5, check_unique=True)
    for derived in _multi_label_sharers(con, dataset_id):
        derive_multi_label(con, derived, dataset_id, models, has_top5=has_top5)


def derive_multi_label(
    con: duckdb.DuckDBPyConnection,
    target: str,
    shared: str,
    model_ids: Sequence[int],
    *,
    has_top5: bool = False,
) -> None:
    """Score `shared`'s predictions against `target`'s label sets (ReaL from ImageNet val).

    Images with an empty label set have no `label_sets` row, so they are not scored. The sets
    are unnested into (image, class) pairs: a hash join beats list_contains on 700k rows.
    """
    params = {"target": target, "shared": shared, "m": list(model_ids)}
    con.execute(
        "DELETE FROM image_predictions WHERE dataset_id = $target AND list_contains($m, model_id)",
        {"target": target, "m": params["m"]},
    )
    top5 = "p.top5" if has_top5 else "NULL"  # not reading an all-NULL list column saves time
    con.execute(
        f"""
        INSERT INTO image_predictions
        SELECT p.model_id, $target, p.image_idx, p.pred, {top5}, coalesce(h.hit, false),
               p.source_id
        FROM image_predictions p
        JOIN (SELECT image_idx FROM label_sets WHERE dataset_id = $target) l
          ON l.image_idx = p.image_idx
        LEFT JOIN (SELECT DISTINCT image_idx, unnest(labels) AS label, true AS hit
                   FROM label_sets WHERE dataset_id = $target) h
          ON h.image_idx = p.image_idx AND h.label = p.pred
        WHERE p.dataset_id = $shared AND list_contains($m, p.model_id)
        """,
        params,
    )
    write_aggregates(con, target, model_ids, has_top5=has_top5, check_unique=False)


def write_aggregates(
    con: duckdb.DuckDBPyConnection,
    dataset_id: str,
    model_ids: Sequence[int],
    *,
    has_top5: bool,
    check_unique: bool,
) -> None:
    """Accuracy in percent over each model's scored images (top-5 only when given)."""
    params = {"d": dataset_id, "m": list(model_ids)}
    distinct = "count(*)"
    if check_unique:
        # One bit per image: far cheaper than count(DISTINCT image_idx) on 750k rows.
        low, high = first_row(
            con,
            "SELECT min(image_idx), max(image_idx) FROM images WHERE dataset_id = "
            "(SELECT coalesce(shares_images_with, dataset_id) FROM datasets WHERE dataset_id = ?)",
            [dataset_id],
        ) or (0, 0)
        distinct = f"bit_count(bitstring_agg(image_idx, {int(low or 0)}, {int(high or 0)}))"
    rows = con.execute(
        f"""
        SELECT model_id, 100 * avg(correct::INTEGER), count(*), {distinct}, min(source_id)
        FROM image_predictions
        WHERE dataset_id = $d AND list_contains($m, model_id)
        GROUP BY model_id
        """,
        params,
    ).fetchall()
    for model_id, _, n, distinct, _ in rows:
        if n != distinct:
            raise InputError(
                f"{n - distinct} image(s) predicted more than once by model id {model_id}"
            )
    table = pa.table(
        {
            "model_id": pa.array([r[0] for r in rows], pa.int32()),
            "top1": pa.array([r[1] for r in rows], pa.float64()),
            "n_images": pa.array([r[2] for r in rows], pa.int32()),
            "source_id": pa.array([r[4] for r in rows], pa.int32()),
        }
    )
    name = f"_aggregates_{next(_names)}"
    with registered(con, name, table):
        con.execute(
            f"INSERT OR REPLACE INTO aggregate_results "
            f"SELECT model_id, $d, top1, NULL, n_images, source_id FROM {name}",
            {"d": dataset_id},
        )
    if has_top5:
        _write_top5(con, dataset_id, params)


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
        "SELECT DISTINCT model_id FROM image_predictions WHERE dataset_id = ?", [row[0]]
    ).fetchall()
    if models:
        has_top5 = bool(
            first_row(
                con,
                "SELECT 1 FROM image_predictions WHERE dataset_id = ? AND top5 IS NOT NULL LIMIT 1",
                [row[0]],
            )
        )
        derive_multi_label(con, target, row[0], [m for (m,) in models], has_top5=has_top5)


def _dataset(con: duckdb.DuckDBPyConnection, dataset_id: str) -> tuple[str, bool, int]:
    row = first_row(
        con,
        """
        SELECT coalesce(shares_images_with, dataset_id), multi_label, n_classes, class_subset
        FROM datasets WHERE dataset_id = ?
        """,
        [dataset_id],
    )
    if row is None:
        raise InputError(f"unknown dataset {dataset_id!r}")
    images, multi_label, n_classes, class_subset = row
    # 200-class subsets (R, A) keep ImageNet's 0-999 class indices.
    return images, bool(multi_label), 1000 if class_subset else int(n_classes)


def _raise_unknown_image(con: duckdb.DuckDBPyConnection, staged: str, images: str) -> None:
    row = first_row(
        con,
        f"""
        SELECT s.image_idx FROM {staged} s
        ANTI JOIN (SELECT image_idx FROM images WHERE dataset_id = $images) i
          ON i.image_idx = s.image_idx
        LIMIT 1
        """,
        {"images": images},
    )
    detail = f"image index {row[0]}" if row else "an image"
    raise InputError(f"{detail} is not an image of dataset {images!r}")


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
