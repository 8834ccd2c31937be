"""Older stores open at the current schema with every row kept: version 1 (one wide
`image_predictions` table) and version 2 (models keyed by name alone)."""

from __future__ import annotations

from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pytest

from lottery_tui.store.connection import connect
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.predictions import replace_predictions_table
from lottery_tui.store.pretraining import Tags, tags
from lottery_tui.store.schema import SCHEMA_VERSION

# The prediction table and view of schema version 1, as shipped before version 2: the rest of
# the schema is unchanged between the two versions.
V1_PREDICTIONS_DDL = """
CREATE TABLE image_predictions (
    model_id INTEGER NOT NULL,
    dataset_id VARCHAR NOT NULL,
    image_idx INTEGER NOT NULL,
    pred SMALLINT NOT NULL,
    top5 SMALLINT[],
    correct BOOLEAN NOT NULL,
    source_id INTEGER NOT NULL
);
CREATE VIEW predictions AS
SELECT m.name AS model, p.dataset_id AS dataset, i.image_id, p.pred, p.correct
FROM image_predictions p
JOIN models m ON m.model_id = p.model_id
JOIN datasets d ON d.dataset_id = p.dataset_id
JOIN images i
  ON i.dataset_id = coalesce(d.shares_images_with, d.dataset_id) AND i.image_idx = p.image_idx;
"""

V2_ONLY = """
DROP VIEW image_predictions;
DROP VIEW predictions;
DROP TABLE prediction_rows;
DROP TABLE prediction_top5;
DROP TABLE prediction_sets;
DROP SEQUENCE prediction_set_ids;
DROP MACRO predicted_class;
DROP MACRO encode_outcome;
"""

# The models table of versions 1 and 2: unique by name alone, whatever the source. The views of
# version 2 named a result's source from its aggregate row.
V2_MODELS_DDL = """
DROP VIEW results;
DROP VIEW IF EXISTS predictions;
DROP TABLE models;
CREATE TABLE models (
    model_id INTEGER PRIMARY KEY DEFAULT nextval('model_ids'),
    name VARCHAR NOT NULL UNIQUE,
    base_name VARCHAR NOT NULL,
    framework VARCHAR,
    family VARCHAR,
    architecture VARCHAR,
    pretrained_tag VARCHAR,
    img_size SMALLINT,
    param_count DOUBLE,
    crop_pct DOUBLE,
    interpolation VARCHAR,
    source_id INTEGER NOT NULL
);
CREATE VIEW results AS
SELECT m.name AS model, r.dataset_id AS dataset, r.top1, r.top5, r.n_images, s.name AS source
FROM aggregate_results r
JOIN models m ON m.model_id = r.model_id
JOIN sources s ON s.source_id = r.source_id;
"""
V2_PREDICTIONS_VIEW = """
CREATE VIEW predictions AS
SELECT m.name AS model, s.dataset_id AS dataset, i.image_id,
       predicted_class(r.outcome) AS pred, r.outcome >= 0 AS correct
FROM prediction_rows r
JOIN prediction_sets s ON s.set_id = r.set_id
JOIN models m ON m.model_id = s.model_id
JOIN datasets d ON d.dataset_id = s.dataset_id
JOIN images i
  ON i.dataset_id = coalesce(d.shares_images_with, d.dataset_id) AND i.image_idx = r.image_idx;
"""
# framework is left out: migration re-derives it with the other tags (test_pretraining.py)
V2_MODEL_COLUMNS = "model_id, name, base_name, family, source_id"

V1_PREDICTION_COLUMNS = "model, dataset, image_id, pred, correct"
V2_RESULT_COLUMNS = "model, dataset, top1, top5, n_images, source"

UNCHANGED_TABLES = ("sources", "aggregate_results", "images", "label_sets")


def v1_rows(rng: np.random.Generator) -> pa.Table:
    """Rows as version 1 held them: 3 models on val and ReaL, one of them from two sources
    (a probe run's shards), top-5 for some, and `correct` values that must survive as stored."""
    parts = []
    for model_id, dataset, sources, with_top5 in [
        (1, "imagenet", [1], False),
        (1, "imagenet-real", [1], False),
        (2, "imagenet", [2, 3], True),
        (2, "imagenet-real", [2, 3], True),
        (3, "imagenet", [4], False),
    ]:
        images = np.sort(rng.choice(2000, size=300, replace=False))
        source = np.array(sources)[np.arange(images.size) % len(sources)]
        pred = rng.integers(0, 1000, images.size)
        top5 = [[int(p), *rng.integers(0, 1000, 4).tolist()] for p in pred] if with_top5 else None
        parts.append(
            pa.table(
                {
                    "model_id": pa.array(np.full(images.size, model_id), pa.int32()),
                    "dataset_id": pa.array([dataset] * images.size),
                    "image_idx": pa.array(images, pa.int32()),
                    "pred": pa.array(pred, pa.int16()),
                    "top5": pa.array(top5 or [None] * images.size, pa.list_(pa.int16())),
                    "correct": pa.array(rng.random(images.size) < 0.7),
                    "source_id": pa.array(source, pa.int32()),
                }
            )
        )
    return pa.concat_tables(parts)


def build_v1_store(path: Path, rows: pa.Table) -> None:
    con = duckdb.connect(str(path))
    con.execute(V2_ONLY)
    con.execute(V2_MODELS_DDL)
    con.execute(V1_PREDICTIONS_DDL)
    for source_id in range(1, 5):
        con.execute(
            "INSERT INTO sources (source_id, name, kind, sha256) VALUES (?, 'probe', 'probe', ?)",
            [source_id, f"sha-{source_id}"],
        )
    for model_id in range(1, 4):
        con.execute(
            "INSERT INTO models (model_id, name, base_name, source_id) VALUES (?, ?, ?, 1)",
            [model_id, f"net{model_id}", f"net{model_id}"],
        )
    con.register("v1_rows", rows)
    con.execute("INSERT INTO image_predictions SELECT * FROM v1_rows")
    con.execute("UPDATE meta SET value = '1' WHERE key = 'schema_version'")
    con.close()


def unchanged(con: duckdb.DuckDBPyConnection) -> dict[str, tuple]:
    tables = {
        table: con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchall()[0]
        for table in UNCHANGED_TABLES
    }
    tables["models"] = all_rows(con, f"(SELECT {V2_MODEL_COLUMNS} FROM models)")
    return tables


def all_rows(con: duckdb.DuckDBPyConnection, relation: str) -> list[tuple]:
    return sorted(con.execute(f"SELECT * FROM {relation}").fetchall(), key=repr)


@pytest.mark.parametrize("read_only", [True, False])
def test_v1_store_migrates_with_every_row(empty_db: Path, copy_store, read_only: bool) -> None:
    path = copy_store(empty_db)
    rows = v1_rows(np.random.default_rng(11))
    build_v1_store(path, rows)
    v1 = duckdb.connect(str(path), read_only=True)
    before_predictions = all_rows(v1, "predictions")
    before_tables = unchanged(v1)
    v1.close()

    con = connect(path, read_only=read_only)
    try:
        assert con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall() == [
            (str(SCHEMA_VERSION),)
        ]
        expected = sorted(
            (tuple(r.values()) for r in rows.to_pylist()), key=repr
        )  # every column of every row, top5 NULL where v1 had none
        assert all_rows(con, "image_predictions") == expected
        assert all_rows(con, f"(SELECT {V1_PREDICTION_COLUMNS} FROM predictions)") == (
            before_predictions
        )
        assert con.execute("SELECT DISTINCT source FROM predictions").fetchall() == [("probe",)]
        assert unchanged(con) == before_tables
        # probe models without a recorded run: tags they cannot say are 'unknown'
        assert con.execute("SELECT DISTINCT framework, pretraining FROM models").fetchall() == [
            ("unknown", "unknown")
        ]
        # One set per (model, dataset, source), and top-5 only where version 1 had a list.
        assert con.execute("SELECT count(*) FROM prediction_sets").fetchall() == [(7,)]
        assert con.execute("SELECT count(*) FROM prediction_top5").fetchall() == [(600,)]
    finally:
        con.close()


def test_migrated_store_takes_new_predictions(empty_db: Path, copy_store) -> None:
    path = copy_store(empty_db)
    build_v1_store(path, v1_rows(np.random.default_rng(12)))
    con = connect(path, read_only=False)
    try:
        kept = all_rows(con, "image_predictions WHERE model_id <> 3")
        labels = con.execute(
            "SELECT label FROM images WHERE dataset_id = 'imagenet' AND image_idx < 100 "
            "ORDER BY image_idx"
        ).fetchnumpy()["label"]
        staged = pa.table(
            {
                "model_id": pa.array(np.full(100, 3), pa.int32()),
                "source_id": pa.array(np.full(100, 4), pa.int32()),
                "image_idx": pa.array(np.arange(100), pa.int32()),
                "pred": pa.array(labels, pa.int16()),
            }
        )
        replace_predictions_table(con, staged, "imagenet")
        assert all_rows(con, "image_predictions WHERE model_id <> 3") == kept
        assert con.execute(
            "SELECT count(*), bool_and(correct) FROM image_predictions "
            "WHERE model_id = 3 AND dataset_id = 'imagenet'"
        ).fetchall() == [(100, True)]
        assert con.execute(
            "SELECT top1 FROM results WHERE model = 'net3' AND dataset = 'imagenet'"
        ).fetchall() == [(100.0,)]
    finally:
        con.close()


def build_v2_collided_store(path: Path) -> None:
    """A version 2 store where an import under source 'testbed' attached rows to the
    per-image model 'resnet50' of source 'per-image' (the collision of issue 10): the model
    has per-image sets and aggregates from 'per-image', and aggregates from 'testbed'."""
    con = duckdb.connect(str(path))
    con.execute("DROP VIEW predictions")
    con.execute(V2_MODELS_DDL)
    con.execute(V2_PREDICTIONS_VIEW)
    con.execute(
        "INSERT INTO sources (source_id, name, kind, sha256) VALUES "
        "(1, 'per-image', 'import', 'a'), (2, 'testbed', 'import', 'b'), "
        "(3, 'testbed', 'import', 'c')"
    )
    con.execute(
        "INSERT INTO models (model_id, name, base_name, framework, source_id) VALUES "
        "(1, 'resnet50', 'resnet50', 'supervised', 1), (2, 'vgg11', 'vgg11', 'supervised', 1)"
    )
    labels = con.execute(
        "SELECT label FROM images WHERE dataset_id = 'imagenet' ORDER BY image_idx LIMIT 200"
    ).fetchnumpy()["label"]
    for model_id in (1, 2):
        pred = np.where(np.arange(200) % (model_id + 2) == 0, (labels + 1) % 1000, labels)
        staged = pa.table(
            {
                "model_id": pa.array(np.full(200, model_id), pa.int32()),
                "source_id": pa.array(np.ones(200), pa.int32()),
                "image_idx": pa.array(np.arange(200), pa.int32()),
                "pred": pa.array(pred, pa.int16()),
            }
        )
        replace_predictions_table(con, staged, "imagenet")
    con.execute(
        "INSERT INTO aggregate_results VALUES (1, 'imagenet-sketch', 24.09, NULL, 50889, 2), "
        "(1, 'imagenetv2-matched-frequency', 63.2, NULL, 10000, 3)"
    )
    con.execute("UPDATE meta SET value = '2' WHERE key = 'schema_version'")
    con.close()


def test_v2_model_with_rows_from_two_sources_splits_into_two_identities(
    empty_db: Path, copy_store
) -> None:
    path = copy_store(empty_db)
    build_v2_collided_store(path)
    v2 = duckdb.connect(str(path), read_only=True)
    before_results = all_rows(v2, "results")
    before_predictions = all_rows(v2, "predictions")
    v2.close()

    con = connect(path, read_only=False)
    try:
        assert all_rows(con, "(SELECT source, name, model_id, source_id FROM models)") == [
            ("per-image", "resnet50", 1, 1),
            ("per-image", "vgg11", 2, 1),
            ("testbed", "resnet50", 3, 2),
        ]
        # `results` keeps every row and names the same source for each as version 2 did.
        results = f"(SELECT {V2_RESULT_COLUMNS} FROM results)"
        assert all_rows(con, results) == before_results
        assert all_rows(con, f"{results} WHERE source = 'testbed'") == [
            ("resnet50", "imagenet-sketch", 24.09, None, 50889, "testbed"),
            ("resnet50", "imagenetv2-matched-frequency", 63.2, None, 10000, "testbed"),
        ]
        assert all_rows(con, f"(SELECT {V1_PREDICTION_COLUMNS} FROM predictions)") == (
            before_predictions
        )
        assert con.execute(
            "SELECT DISTINCT model_id FROM prediction_sets ORDER BY 1"
        ).fetchall() == [(1,), (2,)]
        tagged = con.execute(
            "SELECT name, source, framework, pretraining, protocol FROM models"
        ).fetchall()
        assert [tags(n, s) for n, s, *_ in tagged] == [Tags(*t) for _, _, *t in tagged]
        # New models take ids after the migrated ones, and the same name may come again from
        # a third source.
        con.execute("INSERT INTO sources (source_id, name, kind) VALUES (4, 'other', 'import')")
        ids = ensure_models(con, [describe("resnet50"), describe("new")], 4)
        assert sorted(ids.values()) == [4, 5]
    finally:
        con.close()
