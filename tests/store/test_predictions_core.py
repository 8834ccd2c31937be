"""`replace_predictions_table`, the path probe ingest uses: checks, replacement, ReaL derivation."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from lottery_tui.errors import InputError
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.predictions import replace_predictions_table
from lottery_tui.store.sources import add_source

from .conftest import fingerprint_connection


@pytest.fixture
def con(empty_db: Path, copy_store) -> duckdb.DuckDBPyConnection:
    connection = duckdb.connect(str(copy_store(empty_db)))
    yield connection
    connection.close()


def staged(con, image_idx, pred, **extra) -> pa.Table:
    source = add_source(con, name="probe", kind="probe", run_id="run-1")
    model = ensure_models(con, [describe("dino_vits16")], source)["dino_vits16"]
    n = len(image_idx)
    return pa.table(
        {
            "model_id": pa.array([model] * n, pa.int32()),
            "source_id": pa.array([source] * n, pa.int32()),
            "image_idx": pa.array(image_idx, pa.int32()),
            "pred": pa.array(pred, pa.int16()),
            **extra,
        }
    )


def labels(con, indices) -> np.ndarray:
    rows = dict(
        con.execute(
            "SELECT image_idx, label FROM images WHERE dataset_id = 'imagenet' "
            "AND list_contains(?, image_idx)",
            [list(indices)],
        ).fetchall()
    )
    return np.array([rows[i] for i in indices])


def test_writes_accuracy_and_derives_real(con) -> None:
    idx = list(range(0, 2000))
    truth = labels(con, idx)
    pred = np.where(np.arange(2000) % 4 == 0, (truth + 1) % 1000, truth)
    replace_predictions_table(con, staged(con, idx, pred), "imagenet")
    val = con.execute("SELECT top1, n_images FROM results WHERE dataset = 'imagenet'").fetchall()
    assert val == [(75.0, 2000)]
    real_sets = dict(
        con.execute(
            "SELECT image_idx, labels FROM label_sets WHERE dataset_id = 'imagenet-real' "
            "AND image_idx < 2000"
        ).fetchall()
    )
    expected = 100 * np.mean([pred[i] in real_sets[i] for i in sorted(real_sets)])
    ((top1, n),) = con.execute(
        "SELECT top1, n_images FROM results WHERE dataset = 'imagenet-real'"
    ).fetchall()
    assert n == len(real_sets) < 2000
    assert top1 == pytest.approx(expected)


def test_replacing_keeps_one_row_per_image(con) -> None:
    idx = list(range(100))
    replace_predictions_table(con, staged(con, idx, [0] * 100), "imagenet")
    replace_predictions_table(con, staged(con, idx, labels(con, idx)), "imagenet")
    assert con.execute(
        "SELECT dataset_id, count(*), count(DISTINCT image_idx) FROM image_predictions "
        "GROUP BY 1 ORDER BY 1"
    ).fetchall()[0] == ("imagenet", 100, 100)
    assert con.execute("SELECT top1 FROM results WHERE dataset = 'imagenet'").fetchall() == [
        (100.0,)
    ]


def test_top5_accuracy(con) -> None:
    idx = list(range(10))
    truth = labels(con, idx)
    top5 = [[int(t), 1, 2, 3, 4] if i < 7 else [5, 6, 7, 8, 9] for i, t in enumerate(truth)]
    table = staged(con, idx, [t[0] for t in top5], top5=pa.array(top5, pa.list_(pa.int16())))
    replace_predictions_table(con, table, "imagenet")
    ((top1, top5_acc),) = con.execute(
        "SELECT top1, top5 FROM results WHERE dataset = 'imagenet'"
    ).fetchall()
    hits5 = [int(t) in row for t, row in zip(truth, top5, strict=True)]
    assert top5_acc == pytest.approx(100 * np.mean(hits5))
    assert top1 == pytest.approx(
        100 * np.mean([row[0] == t for t, row in zip(truth, top5, strict=True)])
    )


@pytest.mark.parametrize(
    ("image_idx", "pred", "message"),
    [
        ([0, 1], [3, 1000], "predicted class 1000 is outside 0..999"),
        ([0, 50000], [3, 4], "image index 50000 is not an image of dataset 'imagenet'"),
        ([0, 1, 0], [3, 4, 5], "1 image(s) predicted more than once"),
    ],
)
def test_bad_rows_are_refused(con, image_idx, pred, message) -> None:
    table = staged(con, image_idx, pred)
    before = fingerprint_connection(con)
    con.begin()
    with pytest.raises(InputError) as info:
        replace_predictions_table(con, table, "imagenet")
    assert message in str(info.value)
    con.rollback()
    assert fingerprint_connection(con) == before
