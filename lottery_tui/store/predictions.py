"""Writing per-image predictions, and the accuracies derived from them, in bulk.

Every writer of predictions (importers, the seed, probe ingest) goes through
`replace_predictions`: it replaces the given models' prediction sets for a dataset as a whole,
which keeps (model, dataset, image) unique without a costly primary-key index, writes the
aggregate accuracies, and re-derives multi-label datasets that share the images (ReaL from
ImageNet val). Checks, outcomes and accuracies are computed with numpy on the arrays in hand
(`label_lookup.py`), so the database sees one append of three narrow columns (`prediction_rows`:
set, image, outcome; see `schema.py`) and never rescans them: that keeps a bulk ingest close to
a bare `CREATE TABLE AS` of the same data (bench/bench_ingest.py).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from lottery_tui.errors import InputError
from lottery_tui.store.datasets import image_dataset
from lottery_tui.store.label_lookup import ImageLabels, LabelSets
from lottery_tui.store.query import first_row

# Whether each class is right for its row (all rows, or the rows given): hits(classes, rows).
Hits = Callable[[np.ndarray, np.ndarray | None], np.ndarray]


@dataclass(frozen=True)
class PredictionBatch:
    """Predictions of one or more (model_id, source_id) pairs, as parallel arrays with a row per
    prediction, the rows of each pair together (`lengths[i]` rows for `pairs[i]`, in order).
    Each pair becomes one prediction set.

    `image_idx` indexes the images of the dataset (or of the dataset whose images it shares);
    `label`, where >= 0, overrides the dataset's label; `top5` holds a list of classes per row,
    null where not given. `new_models`: no model of the batch has rows yet (each was just added,
    `models.ModelIds.added`, and not written since), so nothing of theirs is replaced.
    """

    pairs: list[tuple[int, int]]
    lengths: list[int]
    image_idx: np.ndarray
    pred: np.ndarray
    label: np.ndarray | None = None
    top5: pa.ListArray | None = None
    new_models: bool = False

    @classmethod
    def from_table(cls, table: pa.Table) -> PredictionBatch:
        """From columns model_id, source_id, image_idx, pred and optionally label and top5."""
        key = table.column("model_id").to_numpy().astype(np.int64) << 32
        key |= table.column("source_id").to_numpy().astype(np.int64)
        keys, pair, lengths = np.unique(key, return_inverse=True, return_counts=True)
        if len(keys) > 1:
            table = table.take(np.argsort(pair, kind="stable"))
        names = table.column_names
        return cls(
            pairs=[(int(k >> 32), int(k & 0xFFFFFFFF)) for k in keys],
            lengths=lengths.tolist(),
            image_idx=table.column("image_idx").to_numpy(),
            pred=table.column("pred").to_numpy(),
            label=pc.fill_null(table.column("label"), -1).to_numpy() if "label" in names else None,
            top5=table.column("top5").combine_chunks() if "top5" in names else None,
        )

    def segments(self) -> list[slice]:
        """Each pair's rows."""
        ends = np.cumsum(self.lengths).tolist()
        return [slice(end - n, end) for n, end in zip(self.lengths, ends, strict=True)]

    def per_pair(self, mask: np.ndarray) -> np.ndarray:
        """Rows where `mask` is true, per pair."""
        return np.array([np.count_nonzero(mask[rows]) for rows in self.segments()], np.int64)

    def take(self, mask: np.ndarray) -> PredictionBatch:
        """The rows where `mask` is true."""
        return PredictionBatch(
            self.pairs,
            self.per_pair(mask).tolist(),
            self.image_idx[mask],
            self.pred[mask],
            None if self.label is None else self.label[mask],
            None if self.top5 is None else self.top5.filter(pa.array(mask)),
            self.new_models,
        )

    def models(self) -> tuple[np.ndarray, np.ndarray]:
        """The distinct model ids, and each pair's index into them."""
        return np.unique([model for model, _ in self.pairs], return_inverse=True)


def replace_predictions_table(
    con: duckdb.DuckDBPyConnection, table: pa.Table, dataset_id: str
) -> None:
    """`replace_predictions` for an Arrow table (see `PredictionBatch.from_table`)."""
    replace_predictions(con, dataset_id, PredictionBatch.from_table(table))


def replace_predictions(
    con: duckdb.DuckDBPyConnection, dataset_id: str, batch: PredictionBatch
) -> None:
    """Replace the predictions on `dataset_id` of the batch's models with the batch's.

    Raises InputError, leaving the transaction to be rolled back, on a class out of range, an
    unknown or unlabelled image, or an image one model predicts twice.
    """
    if not batch.pairs:
        return
    images, multi_label, max_class, sharers = _dataset(con, dataset_id)
    if len(batch.pred) and (batch.pred.min() < 0 or batch.pred.max() >= max_class):
        bad = (batch.pred < 0) | (batch.pred >= max_class)
        value = int(batch.pred[bad.argmax()])
        raise InputError(f"predicted class {value} is outside 0..{max_class - 1}")
    _write(con, dataset_id, images, multi_label, batch, derived=False)
    for sharer in sharers:
        _write(con, sharer, images, True, batch, derived=True)


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
    table = con.sql(
        """
        SELECT s.model_id, s.source_id, r.image_idx, predicted_class(r.outcome) AS pred, t.top5
        FROM prediction_rows r
        JOIN prediction_sets s ON s.set_id = r.set_id
        LEFT JOIN prediction_top5 t ON t.set_id = r.set_id AND t.image_idx = r.image_idx
        WHERE s.dataset_id = ?
        """,
        params=[row[0]],
    ).to_arrow_table()
    if table.num_rows:
        _write(con, target, row[0], True, PredictionBatch.from_table(table), derived=True)


def _write(
    con: duckdb.DuckDBPyConnection,
    dataset_id: str,
    images: str,
    multi_label: bool,
    batch: PredictionBatch,
    *,
    derived: bool,
) -> None:
    """Score the batch against `dataset_id`'s labels and store its sets, rows and accuracies.

    A multi-label dataset scores only the images with a label set; the other rows are dropped.
    A `derived` write rescores rows already checked on the dataset whose images it shares.
    """
    hits: Hits
    if multi_label:
        label_sets = LabelSets.load(con, dataset_id)
        if derived and not len(label_sets.keys):
            return  # a derived dataset whose label sets are not registered yet
        batch = batch.take(label_sets.scored(batch.image_idx))
        images_of = batch.image_idx

        def hits(classes: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
            return label_sets.contains(images_of if rows is None else images_of[rows], classes)
    else:
        labels = ImageLabels.load(con, images).of(con, batch.image_idx, batch.label)

        def hits(classes: np.ndarray, rows: np.ndarray | None) -> np.ndarray:
            return classes == (labels if rows is None else labels[rows])

    if not derived:
        _check_unique(batch)
    correct = hits(batch.pred, None)
    models, _ = batch.models()
    if not batch.new_models:
        delete_sets(con, dataset_id, models.tolist())
    set_ids = np.asarray(_new_sets(con, dataset_id, batch.pairs), np.int32)
    row_sets = np.repeat(set_ids, batch.lengths)
    _append(
        con,
        "prediction_rows",
        pa.table(
            {
                "set_id": row_sets,
                "image_idx": batch.image_idx.astype(np.int32, copy=False),
                "outcome": _encode_outcome(batch.pred, correct),
            }
        ),
    )
    counts = {"n": np.array(batch.lengths, np.int64), "top1": batch.per_pair(correct)}
    if batch.top5 is not None:
        given = batch.top5.is_valid().to_numpy(zero_copy_only=False)
        _append(
            con,
            "prediction_top5",
            pa.table(
                {
                    "set_id": row_sets[given],
                    "image_idx": batch.image_idx[given].astype(np.int32),
                    "top5": batch.top5.filter(pa.array(given)).cast(pa.list_(pa.int16())),
                }
            ),
        )
        counts["given"] = batch.per_pair(given)
        counts["top5"] = batch.per_pair(_any_hit(batch.top5, hits))
    _write_aggregates(con, dataset_id, batch, counts)


def _encode_outcome(pred: np.ndarray, correct: np.ndarray) -> np.ndarray:
    """The store's outcome: the class if correct, else -1 - class, its bitwise complement
    (x ^ -1 == ~x; a branch-free xor is an order of magnitude faster than np.where)."""
    return pred.astype(np.int16, copy=False) ^ (correct.astype(np.int16) - 1)


def _check_unique(batch: PredictionBatch) -> None:
    """One prediction per image and model (a model's sets together)."""
    if not len(batch.image_idx):
        return
    models, of_pair = batch.models()
    if len(models) == len(batch.pairs) and all(
        (np.diff(batch.image_idx[rows]) > 0).all() for rows in batch.segments()
    ):
        return  # one set per model, images in increasing order (files and shards are): unique
    seen = np.zeros((len(models), int(batch.image_idx.max()) + 1), bool)
    for model, rows in zip(of_pair, batch.segments(), strict=True):
        seen[model, batch.image_idx[rows]] = True
    if np.count_nonzero(seen) == len(batch.image_idx):
        return
    extra = np.bincount(of_pair, batch.lengths) - seen.sum(axis=1)
    worst = int(extra.argmax())
    raise InputError(
        f"{int(extra[worst])} image(s) predicted more than once by model id {models[worst]}"
    )


def _any_hit(top5: pa.ListArray, hits: Hits) -> np.ndarray:
    """Whether any class of each row's list is right (false for a null list)."""
    parents = pc.list_parent_indices(top5).to_numpy()
    classes = pc.list_flatten(top5).to_numpy()
    return np.bincount(parents[hits(classes, parents)], minlength=len(top5)) > 0


def _write_aggregates(
    con: duckdb.DuckDBPyConnection,
    dataset_id: str,
    batch: PredictionBatch,
    per_pair: dict[str, np.ndarray],
) -> None:
    """Accuracy in percent per model over the rows of its pairs; top-5 only where every row
    carries a list. A model with no scored rows gets no row."""
    models, of_pair = batch.models()
    per_model = {key: np.bincount(of_pair, counts) for key, counts in per_pair.items()}
    n = per_model["n"]
    source: dict[int, int] = {}
    for model, source_id in batch.pairs:
        source[model] = min(source.get(model, source_id), source_id)
    written = np.flatnonzero(n)
    top5 = [
        100 * per_model["top5"][i] / n[i] if "top5" in per_model and per_model["given"][i] == n[i]
        else None
        for i in written
    ]  # fmt: skip
    if not batch.new_models:
        con.execute(
            "DELETE FROM aggregate_results WHERE dataset_id = $d AND list_contains($m, model_id)",
            {"d": dataset_id, "m": models[written].tolist()},
        )  # cheaper than INSERT OR REPLACE, which probes the primary key row by row
    con.execute(
        """
        INSERT INTO aggregate_results
        SELECT unnest($m), $d, unnest($top1), unnest($top5), unnest($n), unnest($s)
        """,
        {
            "d": dataset_id,
            "m": models[written].tolist(),
            "top1": (100 * per_model["top1"][written] / n[written]).tolist(),
            "top5": top5,
            "n": n[written].astype(int).tolist(),
            "s": [source[int(model)] for model in models[written]],
        },
    )


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


def _new_sets(
    con: duckdb.DuckDBPyConnection, dataset_id: str, pairs: Sequence[tuple[int, int]]
) -> list[int]:
    """Create one prediction set per (model_id, source_id); their set ids, in that order."""
    rows = con.execute(
        """
        INSERT INTO prediction_sets (model_id, dataset_id, source_id)
        SELECT unnest($m), $d, unnest($s)
        RETURNING model_id, source_id, set_id
        """,
        {"d": dataset_id, "m": [m for m, _ in pairs], "s": [s for _, s in pairs]},
    ).fetchall()
    by_pair = {(model_id, source_id): set_id for model_id, source_id, set_id in rows}
    return [by_pair[pair] for pair in pairs]


def _append(con: duckdb.DuckDBPyConnection, table: str, rows: pa.Table) -> None:
    """Append Arrow rows to `table` (a relation over them: cheaper than registering a view)."""
    if rows.num_rows:
        con.from_arrow(rows).insert_into(table)


def _dataset(con: duckdb.DuckDBPyConnection, dataset_id: str) -> tuple[str, bool, int, list[str]]:
    """Whose images it scores, whether multi-label, its number of classes, and the multi-label
    datasets that share its images (ReaL for ImageNet)."""
    rows = con.execute(
        """
        SELECT dataset_id, multi_label, n_classes, class_subset
        FROM datasets
        WHERE dataset_id = $d OR (shares_images_with = $d AND multi_label)
        ORDER BY dataset_id
        """,
        {"d": dataset_id},
    ).fetchall()
    own = [row for row in rows if row[0] == dataset_id]
    if not own:
        raise InputError(f"unknown dataset {dataset_id!r}")
    _, multi_label, n_classes, class_subset = own[0]
    images = image_dataset(con, dataset_id)
    sharers = [row[0] for row in rows if row[0] != dataset_id]
    # 200-class subsets (R, A) keep ImageNet's 0-999 class indices.
    return images, bool(multi_label), 1000 if class_subset else int(n_classes), sharers
