"""What the statistics read from the store: aggregates and per-image correctness of exactly the
model identities asked for (by model id, never by name, so two sources' models never mix)."""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd


def dataset_sharing(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """dataset id -> the dataset whose images it shares (None if its own)."""
    return dict(con.execute("SELECT dataset_id, shares_images_with FROM datasets").fetchall())


def aggregate_rows(con: duckdb.DuckDBPyConnection, model_ids: Sequence[int]) -> pd.DataFrame:
    """model_id, dataset, top1 (percent) and n_images (the dataset's size where the row has
    none) of every result of the given models."""
    return con.execute(
        """
        SELECT r.model_id, r.dataset_id AS dataset, r.top1,
               coalesce(r.n_images, d.n_images) AS n_images
        FROM aggregate_results r JOIN datasets d USING (dataset_id)
        WHERE list_contains($ids, r.model_id)
        """,
        {"ids": list(model_ids)},
    ).df()


def per_image_model_ids(
    con: duckdb.DuckDBPyConnection, dataset: str, model_ids: Sequence[int]
) -> set[int]:
    """Those of `model_ids` that have per-image predictions on `dataset`."""
    rows = con.execute(
        """
        SELECT DISTINCT model_id FROM prediction_sets
        WHERE dataset_id = $d AND list_contains($ids, model_id)
        """,
        {"d": dataset, "ids": list(model_ids)},
    ).fetchall()
    return {int(r[0]) for r in rows}


def image_count(con: duckdb.DuckDBPyConnection, image_dataset: str) -> int:
    """Images registered for a dataset (max image_idx + 1)."""
    rows = con.execute(
        "SELECT coalesce(max(image_idx) + 1, 0) FROM images WHERE dataset_id = ?", [image_dataset]
    ).fetchall()
    return int(rows[0][0])


def correctness(
    con: duckdb.DuckDBPyConnection, dataset: str, model_ids: Sequence[int]
) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """(model_id, image_idx, correct) arrays of the given models' predictions on `dataset`."""
    rows = con.execute(
        """
        SELECT s.model_id, r.image_idx, r.outcome >= 0 AS correct
        FROM prediction_rows r JOIN prediction_sets s ON s.set_id = r.set_id
        WHERE s.dataset_id = $d AND list_contains($ids, s.model_id)
        """,
        {"d": dataset, "ids": list(model_ids)},
    ).fetchnumpy()
    return (
        np.asarray(rows["model_id"], dtype=np.int64),
        np.asarray(rows["image_idx"], dtype=np.int64),
        np.asarray(rows["correct"], dtype=bool),
    )
