"""What the statistics read from the store: aggregates and per-image correctness of exactly the
model identities asked for (by model id, never by name, so two sources' models never mix).

A model declared the same checkpoint as another (`models.same_as`, `lottery same`) lends its
rows to that one: per dataset, the rows of one member are read, the first of those with
per-image predictions there (the model itself before its aliases), else the model's own
aggregate, else an alias's. Accuracies and per-image rows thus always come from one member.
"""

from __future__ import annotations

from collections.abc import Sequence

import duckdb
import numpy as np
import pandas as pd


def dataset_sharing(con: duckdb.DuckDBPyConnection) -> dict[str, str | None]:
    """dataset id -> the dataset whose images it shares (None if its own)."""
    return dict(con.execute("SELECT dataset_id, shares_images_with FROM datasets").fetchall())


def dataset_roles(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[str, str | None]]:
    """dataset id -> (role, the dataset it is a subset, relabelling or version of)."""
    rows = con.execute("SELECT dataset_id, coalesce(role, 'variant'), role_of FROM datasets")
    return {d: (role, of) for d, role, of in rows.fetchall()}


def image_size_twins(con: duckdb.DuckDBPyConnection, model_ids: Sequence[int]) -> set[int]:
    """Of `model_ids`, those that are a second image size of weights also among them: the same
    source and base_name (timm's 'model@img_size' rows) at a larger img_size. The row at the
    smallest img_size stands for the checkpoint (chosen by size, never by accuracy, so the choice
    cannot favour either dataset)."""
    rows = con.execute(
        """
        SELECT model_id FROM (
            SELECT model_id, row_number() OVER (
                PARTITION BY source, base_name ORDER BY img_size NULLS LAST, model_id
            ) AS k
            FROM models WHERE list_contains($ids, model_id)
        ) WHERE k > 1
        """,
        {"ids": list(model_ids)},
    ).fetchall()
    return {r[0] for r in rows}


def protocol_counts(con: duckdb.DuckDBPyConnection, model_ids: Sequence[int]) -> dict[str, int]:
    """How many of `model_ids` carry each protocol tag (fine-tuned, linear-probe, knn, ...)."""
    rows = con.execute(
        """
        SELECT protocol, count(*) FROM models WHERE list_contains($ids, model_id)
        GROUP BY protocol ORDER BY count(*) DESC, protocol
        """,
        {"ids": list(model_ids)},
    ).fetchall()
    return dict(rows)


# The given models and the models declared the same checkpoint as them.
_MEMBERS = """
members AS (
    SELECT model_id AS member, coalesce(same_as, model_id) AS model_id
    FROM models WHERE list_contains($ids, coalesce(same_as, model_id))
),
chosen_sets AS (  -- per model and dataset, the member whose per-image rows are read
    SELECT m.model_id, p.dataset_id, arg_min(m.member, (m.member <> m.model_id, m.member))
        AS member
    FROM prediction_sets p JOIN members m ON m.member = p.model_id
    GROUP BY ALL
)
"""


def aggregate_rows(con: duckdb.DuckDBPyConnection, model_ids: Sequence[int]) -> pd.DataFrame:
    """model_id, dataset, top1 (percent) and n_images (the dataset's size where the row has
    none) of every result of the given models (and of their declared aliases)."""
    return con.execute(
        f"""
        WITH {_MEMBERS}
        SELECT m.model_id, r.dataset_id AS dataset, r.top1,
               coalesce(r.n_images, d.n_images) AS n_images
        FROM aggregate_results r
        JOIN members m ON m.member = r.model_id
        JOIN datasets d ON d.dataset_id = r.dataset_id
        LEFT JOIN chosen_sets c ON c.model_id = m.model_id AND c.dataset_id = r.dataset_id
        QUALIFY row_number() OVER (
            PARTITION BY m.model_id, r.dataset_id
            ORDER BY c.member IS NOT DISTINCT FROM m.member DESC, m.member <> m.model_id,
                     m.member
        ) = 1
        """,
        {"ids": list(model_ids)},
    ).df()


def per_image_model_ids(
    con: duckdb.DuckDBPyConnection, dataset: str, model_ids: Sequence[int]
) -> set[int]:
    """Those of `model_ids` that have per-image predictions on `dataset`."""
    rows = con.execute(
        f"WITH {_MEMBERS} SELECT model_id FROM chosen_sets WHERE dataset_id = $d",
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
    """(column, image_idx, correct) of the given (distinct) models' predictions on `dataset`:
    column is the model's position in `model_ids`, computed in SQL, so the rows arrive as small
    integers and booleans (7 bytes a row) that index the correctness matrix directly."""
    column = "SMALLINT" if len(model_ids) < 2**15 else "INTEGER"
    rows = con.execute(
        f"""
        WITH {_MEMBERS}
        SELECT CAST(list_position($ids, c.model_id) - 1 AS {column}) AS col, r.image_idx,
               r.outcome >= 0 AS correct
        FROM prediction_rows r
        JOIN prediction_sets s ON s.set_id = r.set_id
        JOIN chosen_sets c ON c.member = s.model_id AND c.dataset_id = s.dataset_id
        WHERE s.dataset_id = $d
        """,
        {"d": dataset, "ids": list(model_ids)},
    ).fetchnumpy()
    return rows["col"], rows["image_idx"], rows["correct"]
