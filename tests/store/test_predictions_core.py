"""`replace_predictions_table`, the path probe ingest uses: checks, replacement, ReaL derivation."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
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


def two_model_table(con, rng: np.random.Generator) -> tuple[pa.Table, dict[str, np.ndarray], int]:
    """Two models, the first from two sources (like a probe run's shards), rows interleaved."""
    first, second = (add_source(con, name="probe", kind="probe", run_id=f"r{i}") for i in (1, 2))
    other = add_source(con, name="import", kind="import")
    ids = ensure_models(con, [describe("a"), describe("b")], first)
    idx = np.arange(300)
    truth = labels(con, idx.tolist())
    pred_a = np.where(rng.random(300) < 0.6, truth, (truth + 7) % 1000)
    pred_b = np.where(rng.random(300) < 0.3, truth, (truth + 3) % 1000)
    rows = pa.table(
        {
            "model_id": np.r_[np.full(300, ids["a"]), np.full(300, ids["b"])],
            "source_id": np.r_[np.where(idx % 2 == 0, first, second), np.full(300, other)],
            "image_idx": np.r_[idx, idx],
            "pred": np.r_[pred_a, pred_b],
        }
    )
    correct = {"a": pred_a == truth, "b": pred_b == truth}
    return rows.take(rng.permutation(600)), correct, ids["a"]


def test_several_models_and_sources_in_one_table(con) -> None:
    table, correct, model_a = two_model_table(con, np.random.default_rng(5))
    replace_predictions_table(con, table, "imagenet")
    got = dict(
        con.execute(
            "SELECT model, top1 FROM results WHERE dataset = 'imagenet' ORDER BY model"
        ).fetchall()
    )
    assert got == pytest.approx({name: 100 * hits.mean() for name, hits in correct.items()})
    sets = con.execute(
        "SELECT m.name, count(DISTINCT s.set_id), count(*) FROM prediction_rows r "
        "JOIN prediction_sets s USING (set_id) JOIN models m USING (model_id) "
        "WHERE s.dataset_id = 'imagenet' GROUP BY 1 ORDER BY 1"
    ).fetchall()
    assert sets == [("a", 2, 300), ("b", 1, 300)]
    stored = con.execute(
        "SELECT image_id, pred, correct FROM predictions "
        "WHERE model = 'a' AND dataset = 'imagenet' ORDER BY image_id"
    ).fetchall()
    by_row = {row["image_idx"]: row for row in table.to_pylist() if row["model_id"] == model_a}
    for i, (_, pred, right) in enumerate(stored):
        assert (pred, right) == (by_row[i]["pred"], bool(correct["a"][i]))


def test_an_image_twice_across_one_models_sources_is_refused(con) -> None:
    table, _, model_a = two_model_table(con, np.random.default_rng(6))
    first_model = table.filter(pc.equal(table.column("model_id"), model_a))
    again = first_model.slice(0, 1).set_column(
        1, "source_id", pa.array([99], first_model.schema.field("source_id").type)
    )
    con.begin()
    with pytest.raises(InputError, match=rf"1 image\(s\) predicted more than once .* {model_a}$"):
        replace_predictions_table(con, pa.concat_tables([table, again]), "imagenet")
    con.rollback()


def test_top5_accuracy_needs_every_row_to_carry_a_list(con) -> None:
    idx = list(range(4))
    truth = labels(con, idx)
    top5 = pa.array([[int(t), 1, 2, 3, 4] for t in truth[:3]] + [None], pa.list_(pa.int16()))
    replace_predictions_table(con, staged(con, idx, truth, top5=top5), "imagenet")
    assert con.execute(
        "SELECT top1, top5, n_images FROM results WHERE dataset = 'imagenet'"
    ).fetchall() == [(100.0, None, 4)]
    assert con.execute(
        "SELECT count(*) FROM prediction_top5 JOIN prediction_sets USING (set_id) "
        "WHERE dataset_id = 'imagenet'"
    ).fetchall() == [(3,)]


def test_unlabelled_image_needs_a_label_with_the_prediction(con) -> None:
    con.execute(
        "INSERT INTO datasets (dataset_id, display_name, n_images, n_classes) "
        "VALUES ('mine', 'Mine', 2, 10)"
    )
    con.execute("INSERT INTO images VALUES ('mine', 0, 'a.jpg', 3), ('mine', 1, 'b.jpg', NULL)")
    con.begin()
    with pytest.raises(InputError, match=r"image b\.jpg has no label in dataset mine"):
        replace_predictions_table(con, staged(con, [0, 1], [3, 4]), "mine")
    con.rollback()
    table = staged(con, [0, 1], [3, 4], label=pa.array([None, 4], pa.int16()))
    replace_predictions_table(con, table, "mine")
    assert con.execute("SELECT top1 FROM results WHERE dataset = 'mine'").fetchall() == [(100.0,)]
