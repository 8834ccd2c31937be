"""The compact per-image read (column positions and booleans from SQL, scattered once) builds the
same correctness matrices as the earlier int64 read on the shipped store (issue 18, item 9)."""

from __future__ import annotations

import duckdb
import numpy as np
import pytest

from lottery_tui.report.data import load_aggregates, load_image_data
from lottery_tui.store import readers


@pytest.fixture(scope="module")
def con(shipped_db):
    connection = duckdb.connect(str(shipped_db), read_only=True)
    yield connection
    connection.close()


def int64_read(con, dataset: str, ids: list[int], n: int) -> tuple[np.ndarray, np.ndarray]:
    """The earlier path: (model_id, image_idx, correct) as int64 frames, mapped through a lookup."""
    rows = con.execute(
        """
        SELECT s.model_id, r.image_idx, r.outcome >= 0 AS correct
        FROM prediction_rows r JOIN prediction_sets s ON s.set_id = r.set_id
        WHERE s.dataset_id = ? AND list_contains(?, s.model_id)
        """,
        [dataset, ids],
    ).df()
    lookup = np.zeros(max(ids) + 1, dtype=np.int64)
    lookup[ids] = np.arange(len(ids))
    image_idx = rows["image_idx"].to_numpy(dtype=np.int64)
    matrix = np.zeros((n, len(ids)), dtype=bool)
    matrix[image_idx, lookup[rows["model_id"].to_numpy(dtype=np.int64)]] = rows["correct"]
    present = np.bincount(image_idx, minlength=n) == len(ids)
    return matrix & present[:, None], present


def test_compact_read_matches_the_int64_read_on_the_shipped_store(con) -> None:
    agg = load_aggregates(con, datasets=["imagenet", "imagenet-real"], source="analysing-relations")
    refs = agg.models
    data = load_image_data(con, ["imagenet", "imagenet-real"], refs)
    columns, image_idx, hits = readers.correctness(con, "imagenet", [r.model_id for r in refs])
    assert (columns.dtype, image_idx.dtype, hits.dtype) == (np.int16, np.int32, np.bool_)
    ids = [r.model_id for r in refs]
    for dataset in ("imagenet", "imagenet-real"):
        matrix = data.image_set.correct[dataset]
        expected, present = int64_read(con, dataset, ids, matrix.shape[0])
        assert matrix.shape == (50_000, len(refs)) and matrix.any()
        assert np.array_equal(matrix, expected)
        scored = data.image_set.scored[dataset]
        assert np.array_equal(present, np.ones_like(present) if scored is None else scored)
