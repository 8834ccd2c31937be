"""Writing per-image predictions, and the accuracies derived from them, in bulk.

Every writer of predictions (importers, the seed, probe ingest) goes through
`replace_predictions`: it replaces the given models' prediction sets for a dataset as a whole,
which keeps (model, dataset, image) unique without a costly primary-key index, writes the
aggregate accuracy, and re-derives multi-label datasets that share the images (ReaL from
ImageNet val). Bulk ingest time grows with the width of the stored rows, so they are three
columns (`prediction_rows`: set, image, outcome; see `schema.py`). Checks ride along in the
single insert pass (DuckDB's `error()`), so checking costs no extra scan.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence

import duckdb
import pyarrow as pa

from lottery_tui.errors import InputError
from lottery_tui.store.query import first_row, registered

_names = itertools.count()


def replace_predictions_table(
    con: duckdb.DuckDBPyConnection, table: pa.Table, dataset_id: str
) -> None:
    """Replace the predictions on `dataset_id` of the models in `table` with those in `table`.

    `table` has columns model_id, source_id, image_idx (index into the images of the dataset, or
    of the dataset whose images it shares), pred, and optionally top5 (list of classes) and label
    (overrides the dataset's label). Each distinct (model_id, source_id) becomes one prediction
    set. Raises InputError (see `replace_predictions`).
    """
    pairs = table.select(["model_id", "source_id"]).group_by(["model_id", "source_id"])
    sources = pairs.aggregate([]).to_pylist()
    keys = pa.table(
        {
            "model_id": pa.array([row["model_id"] for row in sources], pa.int64()),
            "source_id": pa.array([row["source_id"] for row in sources], pa.int64()),
            "pair": pa.array(range(len(sources)), pa.int64()),
        }
    )
    name, keys_name = f"_staged_predictions_{next(_names)}", f"_pairs_{next(_names)}"
    staged = f"""(
        SELECT k.pair, t.* EXCLUDE (model_id, source_id) FROM {name} t
        JOIN {keys_name} k ON k.model_id = t.model_id AND k.source_id = t.source_id
    )"""
    with registered(con, name, table), registered(con, keys_name, keys):
        replace_predictions(
            con,
            staged,
            dataset_id,
            [(row["model_id"], row["source_id"]) for row in sources],
            n_rows=table.num_rows,
        )


def replace_predictions(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    dataset_id: str,
    sources: Sequence[tuple[int, int]],
    *,
    n_rows: int,
) -> None:
    """Replace the predictions on `dataset_id` of the models in `sources` with those in `staged`.

    `staged` is a table, view, registered Arrow table or subquery of `n_rows` rows with columns
    pair (BIGINT: the row's index in `sources`, the (model_id, source_id) it comes from),
    image_idx (index into the images of the dataset, or of the dataset whose images it shares),
    pred, and optionally top5 (list of classes) and label (overrides the dataset's label). Each
    pair becomes one prediction set. Raises InputError, leaving the transaction to be rolled
    back, on a class out of range, an unknown or unlabelled image, or an image predicted twice.
    """
    if not sources:
        return
    columns = {row[0] for row in con.execute(f"DESCRIBE SELECT * FROM {staged}").fetchall()}
    images, multi_label, max_class = _dataset(con, dataset_id)
    models = sorted({model_id for model_id, _ in sources})
    delete_sets(con, dataset_id, models)
    checked = (
        f"(SELECT *, CASE WHEN pred >= 0 AND pred < {max_class} THEN pred::SMALLINT ELSE "
        f"error('predicted class ' || pred || ' is outside 0..{max_class - 1}') END AS checked "
        f"FROM {staged})"
    )
    if multi_label:
        params: dict[str, object] = {"d": dataset_id}
        label_join = "JOIN label_sets l ON l.dataset_id = $d AND l.image_idx = s.image_idx"
        outcome = "encode_outcome(s.checked, list_contains(l.labels, s.checked))"
    else:
        params = {"images": images}
        label = "coalesce(s.label, i.label)" if "label" in columns else "i.label"
        label_join = "JOIN images i ON i.dataset_id = $images AND i.image_idx = s.image_idx"
        outcome = (
            f"CASE WHEN {label} IS NULL THEN error('image ' || i.image_id || ' has no label "
            f"in dataset {images}') ELSE encode_outcome(s.checked, s.checked = {label}) END"
        )
    sets = f"_sets_{next(_names)}"
    set_join = f"JOIN {sets} k ON k.pair = s.pair"
    new_sets = pa.table(
        {
            "pair": pa.array(range(len(sources)), pa.int64()),
            "set_id": pa.array(_new_sets(con, dataset_id, sources), pa.int32()),
        }
    )
    with registered(con, sets, new_sets):
        try:
            inserted = con.execute(
                f"""
                INSERT INTO prediction_rows
                SELECT k.set_id, s.image_idx, {outcome}
                FROM {checked} s {set_join} {label_join}
                """,
                params,
            ).fetchall()[0][0]
        except duckdb.InvalidInputException as exc:  # raised by error() in the checks above
            message = str(exc).removeprefix("Invalid Input Error: ").splitlines()[0]
            raise InputError(message) from None
        if not multi_label and inserted != n_rows:
            _raise_unknown_image(con, staged, images)
        has_top5 = "top5" in columns
        if has_top5:
            _insert_top5(con, staged, set_join, dataset_id, multi_label=multi_label)
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
    write_aggregates(con, target, models, has_top5=has_top5, check_unique=False)


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
    con: duckdb.DuckDBPyConnection,
    dataset_id: str,
    model_ids: Sequence[int],
    *,
    has_top5: bool,
    check_unique: bool,
) -> None:
    """Accuracy in percent over each model's stored rows (top-5 only when given)."""
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
        distinct = f"bit_count(bitstring_agg(r.image_idx, {int(low or 0)}, {int(high or 0)}))"
    try:
        con.execute(
            f"""
            INSERT OR REPLACE INTO aggregate_results
            SELECT model_id, $d,
                   CASE WHEN n = n_distinct THEN top1 ELSE error((n - n_distinct) ||
                        ' image(s) predicted more than once by model id ' || model_id) END,
                   NULL, n, source_id
            FROM (SELECT k.model_id, 100 * avg((r.outcome >= 0)::INTEGER) AS top1,
                         count(*) AS n, {distinct} AS n_distinct, min(k.source_id) AS source_id
                  FROM prediction_rows r
                  JOIN (SELECT * FROM prediction_sets
                        WHERE dataset_id = $d AND list_contains($m, model_id)) k
                    ON k.set_id = r.set_id
                  GROUP BY k.model_id)
            """,
            params,
        )
    except duckdb.InvalidInputException as exc:  # raised by error() above
        raise InputError(str(exc).removeprefix("Invalid Input Error: ").splitlines()[0]) from None
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


def _insert_top5(
    con: duckdb.DuckDBPyConnection,
    staged: str,
    set_join: str,
    dataset_id: str,
    *,
    multi_label: bool,
) -> None:
    """Top-5 lists where given; on a multi-label dataset only for the scored images."""
    scored = (
        "AND s.image_idx IN (SELECT image_idx FROM label_sets WHERE dataset_id = $d)"
        if multi_label
        else ""
    )
    con.execute(
        f"""
        INSERT INTO prediction_top5
        SELECT k.set_id, s.image_idx, s.top5::SMALLINT[]
        FROM {staged} s {set_join}
        WHERE s.top5 IS NOT NULL {scored}
        """,
        {"d": dataset_id} if multi_label else {},
    )


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
