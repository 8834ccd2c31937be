"""Versioned DuckDB schema: the tables every part writes and the public views people query.

The views `results` and `predictions` are the stable SQL interface documented in the README;
the tables behind them may change between schema versions (with a migration).
"""

from __future__ import annotations

from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from collections.abc import Callable

    from duckdb import DuckDBPyConnection

SCHEMA_VERSION = 4

# Where every row came from: an imported file (path + sha256) or a probe run (id + config).
# The same bytes may be imported more than once, under other options or another source name
# (`imports` keys a file by both), so sha256 is not unique.
SOURCES_COLUMNS = """
    source_id INTEGER PRIMARY KEY DEFAULT nextval('source_ids'),
    name VARCHAR NOT NULL,          -- 'timm', 'analysing-relations', 'probe', or a user label
    kind VARCHAR NOT NULL,          -- 'import' | 'probe' | 'seed'
    path VARCHAR,                   -- imported file (as given) or run directory
    sha256 VARCHAR,                 -- checksum of the imported file / shard
    run_id VARCHAR,                 -- probe run id
    config JSON,                    -- importer options or the probe run's configuration
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp
"""

# One record per imported file (a command's or the shipped data's), keyed by its sources row
# (file, sha256, source name, time): what `lottery imports` lists and `imports remove` takes back.
IMPORTS_TABLE = """
CREATE TABLE IF NOT EXISTS imports (
    source_id INTEGER PRIMARY KEY,  -- the import's id: its sources row
    options JSON NOT NULL,          -- the options it was given (store.import_records)
    rows BIGINT NOT NULL            -- rows the file gave (results, or per-image predictions)
);
"""

TABLES = (
    """
CREATE TABLE IF NOT EXISTS meta (
    key VARCHAR PRIMARY KEY,
    value VARCHAR NOT NULL
);

CREATE SEQUENCE IF NOT EXISTS source_ids START 1;
CREATE TABLE IF NOT EXISTS sources ("""
    + SOURCES_COLUMNS
    + """);
"""
    + IMPORTS_TABLE
    + """
CREATE TABLE IF NOT EXISTS datasets (
    dataset_id VARCHAR PRIMARY KEY, -- canonical id, e.g. 'imagenet', 'imagenet-real'
    display_name VARCHAR NOT NULL,
    n_images INTEGER,               -- images scored (ReaL: 46,837)
    n_classes SMALLINT NOT NULL,    -- 1000, or 200 for -r / -a
    multi_label BOOLEAN NOT NULL DEFAULT false,
    shares_images_with VARCHAR,     -- 'imagenet' for imagenet-real (paired resampling)
    class_subset VARCHAR,           -- 'imagenet-r' / 'imagenet-a' index list name, else NULL
    builtin BOOLEAN NOT NULL DEFAULT false,
    role VARCHAR DEFAULT 'variant', -- store.datasets.ROLES: variant, subset, relabelling, version
    role_of VARCHAR                 -- the dataset a subset / relabelling / version comes from
);

-- Aggregate accuracies in percent; also written for accuracies derived from predictions.
CREATE TABLE IF NOT EXISTS aggregate_results (
    model_id INTEGER NOT NULL,
    dataset_id VARCHAR NOT NULL,
    top1 DOUBLE NOT NULL,
    top5 DOUBLE,
    n_images INTEGER,
    source_id INTEGER NOT NULL,
    PRIMARY KEY (model_id, dataset_id)
);

-- ImageNet's classes in index order (sorted wnids), and the 200-class subsets of R and A.
CREATE TABLE IF NOT EXISTS classes (
    class_idx SMALLINT PRIMARY KEY,
    wnid VARCHAR NOT NULL,
    name VARCHAR NOT NULL
);
CREATE TABLE IF NOT EXISTS class_subsets (
    subset VARCHAR NOT NULL,        -- 'imagenet-r' | 'imagenet-a' (datasets.class_subset)
    class_idx SMALLINT NOT NULL,
    PRIMARY KEY (subset, class_idx)
);

-- The images of a dataset, once: predictions refer to image_idx.
CREATE TABLE IF NOT EXISTS images (
    dataset_id VARCHAR NOT NULL,
    image_idx INTEGER NOT NULL,
    image_id VARCHAR NOT NULL,      -- file name (val) or relative path ('n01440764/x.jpg')
    label SMALLINT,                 -- 0-999 in sorted-wnid order; NULL for multi-label sets
    PRIMARY KEY (dataset_id, image_idx)
);

-- Multi-label ground truth (ReaL). Images with an empty set have no row: they are not scored.
CREATE TABLE IF NOT EXISTS label_sets (
    dataset_id VARCHAR NOT NULL,
    image_idx INTEGER NOT NULL,
    labels SMALLINT[] NOT NULL,
    PRIMARY KEY (dataset_id, image_idx)
);

-- Probe runs launched from the CLI or the TUI (state follows the run's progress files).
CREATE TABLE IF NOT EXISTS probe_runs (
    run_id VARCHAR PRIMARY KEY,
    model VARCHAR NOT NULL,
    framework VARCHAR,
    dataset_id VARCHAR,
    head VARCHAR,
    executor VARCHAR,
    state VARCHAR NOT NULL,         -- queued | running | done | failed | cancelled
    run_dir VARCHAR,
    config JSON,
    created_at TIMESTAMP NOT NULL DEFAULT current_timestamp,
    finished_at TIMESTAMP,
    ingested BOOLEAN NOT NULL DEFAULT false
);
"""
)

MODELS_TABLE = """
-- One row per model identity: (source, name), where source is the name of the source that
-- brought it (sources.name): the same name from two sources is two models (two checkpoints
-- may share a name). timm lists some weights at two image sizes: those get the name
-- 'model@img_size' so both rows stay distinct; base_name keeps the timm name.
CREATE TABLE IF NOT EXISTS models (
    model_id INTEGER PRIMARY KEY DEFAULT nextval('model_ids'),
    source VARCHAR NOT NULL,        -- the identity's source name, e.g. 'timm'
    name VARCHAR NOT NULL,
    base_name VARCHAR NOT NULL,
    framework VARCHAR,              -- pretraining.tags: the SSL method ('swav', ...) or the kind
    family VARCHAR,                 -- architecture family ('resnet', 'vit', ...)
    architecture VARCHAR,           -- e.g. 'resnet50', 'vit_small_patch16_224'
    pretrained_tag VARCHAR,         -- timm's tag after the '.', e.g. 'fb_dino', 'a1_in1k'
    img_size SMALLINT,
    param_count DOUBLE,             -- millions
    crop_pct DOUBLE,
    interpolation VARCHAR,
    source_id INTEGER NOT NULL,     -- the first sources row that brought it (provenance)
    -- lottery_tui.store.pretraining.tags: 'supervised', 'self-supervised', ... and
    -- 'fine-tuned', 'linear-probe', 'knn', 'zero-shot' (or 'unknown')
    pretraining VARCHAR NOT NULL DEFAULT 'unknown',
    protocol VARCHAR NOT NULL DEFAULT 'unknown',
    -- declared the same checkpoint as that model (`lottery same`): statistics read this
    -- model's rows as that one's (lottery_tui.store.readers); NULL for most
    same_as INTEGER,
    UNIQUE (source, name)
);

"""

TABLES += "CREATE SEQUENCE IF NOT EXISTS model_ids START 1;\n" + MODELS_TABLE

PREDICTION_TABLES = """
-- Per-image predictions, stored narrow because bulk ingest time grows with the row width: a
-- prediction set is one model's predictions on one dataset from one source (a file, a probe
-- shard), and each row names only its set. `outcome` holds the predicted class and whether it
-- is correct in one SMALLINT: the class when correct, else -1 - the class (macros
-- predicted_class and encode_outcome). The view `image_predictions` decodes and joins them.
-- For a multi-label dataset sharing images (ReaL), sets are derived at ingest from the shared
-- dataset's sets, scored against its label sets. (set_id, image_idx) is unique, but
-- deliberately not a PRIMARY KEY: maintaining that index makes bulk ingest about 3x slower.
-- Writers replace a model's sets for a dataset as a whole
-- (lottery_tui.store.predictions.replace_predictions_table), which keeps it unique.
CREATE SEQUENCE IF NOT EXISTS prediction_set_ids START 1;
CREATE TABLE IF NOT EXISTS prediction_sets (
    set_id INTEGER PRIMARY KEY DEFAULT nextval('prediction_set_ids'),
    model_id INTEGER NOT NULL,
    dataset_id VARCHAR NOT NULL,
    source_id INTEGER NOT NULL
);
CREATE TABLE IF NOT EXISTS prediction_rows (
    set_id INTEGER NOT NULL,
    image_idx INTEGER NOT NULL,
    outcome SMALLINT NOT NULL
);
-- Top-5 only where the source gave it (probe runs); most sources give top-1 only.
CREATE TABLE IF NOT EXISTS prediction_top5 (
    set_id INTEGER NOT NULL,
    image_idx INTEGER NOT NULL,
    top5 SMALLINT[] NOT NULL
);
"""

TABLES += PREDICTION_TABLES

VIEWS = """
CREATE OR REPLACE MACRO predicted_class(outcome) AS
    (CASE WHEN outcome >= 0 THEN outcome ELSE -1 - outcome END)::SMALLINT;
CREATE OR REPLACE MACRO encode_outcome(pred, correct) AS
    (CASE WHEN correct THEN pred ELSE -1 - pred END)::SMALLINT;

-- Per-image predictions with the columns of schema version 1, for readers and ad hoc SQL.
CREATE OR REPLACE VIEW image_predictions AS
SELECT s.model_id, s.dataset_id, r.image_idx, predicted_class(r.outcome) AS pred, t.top5,
       r.outcome >= 0 AS correct, s.source_id
FROM prediction_rows r
JOIN prediction_sets s ON s.set_id = r.set_id
LEFT JOIN prediction_top5 t ON t.set_id = r.set_id AND t.image_idx = r.image_idx;

-- `source` is the model identity's source: a model's rows all come from sources of that name.
CREATE OR REPLACE VIEW results AS
SELECT m.name AS model, r.dataset_id AS dataset, r.top1, r.top5, r.n_images, m.source,
       m.pretraining, m.protocol
FROM aggregate_results r
JOIN models m ON m.model_id = r.model_id;

-- A set's images are its dataset's own when it has any (a dataset sharing images partly, by
-- id), else those of the dataset it shares them with (ReaL, the -clean sets):
-- store.datasets.image_dataset says the same. The image join comes last, on the set's image
-- set: a LEFT JOIN cannot be reordered, so DuckDB joins rows to their sets first and then
-- probes `images` once per row (joining images to the datasets directly let it pair every
-- image with every set first: 51.5 M rows for 500 models).
-- Images are grouped on their key, which proves them unique, so a query that does not read
-- image_id has the join removed altogether (DuckDB's join elimination) and costs about what the
-- same query costs on a plain table (bench/bench_predictions_view.py). Every row's image exists
-- (checked when predictions are written): the LEFT JOIN keeps exactly the inner join's rows.
CREATE OR REPLACE VIEW predictions AS
SELECT s.name AS model, s.dataset_id AS dataset, i.image_id,
       predicted_class(r.outcome) AS pred, r.outcome >= 0 AS correct, s.source
FROM prediction_rows r
JOIN (
    SELECT p.set_id, p.dataset_id, m.name, m.source,
           CASE WHEN EXISTS (SELECT 1 FROM images o WHERE o.dataset_id = p.dataset_id)
                THEN p.dataset_id ELSE coalesce(d.shares_images_with, d.dataset_id)
           END AS image_set
    FROM prediction_sets p
    JOIN models m ON m.model_id = p.model_id
    JOIN datasets d ON d.dataset_id = p.dataset_id
) s ON s.set_id = r.set_id
LEFT JOIN (
    SELECT dataset_id, image_idx, any_value(image_id) AS image_id
    FROM images GROUP BY dataset_id, image_idx
) i ON i.dataset_id = s.image_set AND i.image_idx = r.image_idx;
"""

# Version 1 kept every prediction in one wide table, image_predictions(model_id, dataset_id,
# image_idx, pred, top5, correct, source_id); version 2 splits it into sets and narrow rows.
_V1_TO_V2 = (
    PREDICTION_TABLES
    + """
INSERT INTO prediction_sets (model_id, dataset_id, source_id)
SELECT model_id, dataset_id, source_id
FROM (SELECT DISTINCT model_id, dataset_id, source_id FROM image_predictions)
ORDER BY ALL;

INSERT INTO prediction_rows
SELECT s.set_id, p.image_idx, CASE WHEN p.correct THEN p.pred ELSE -1 - p.pred END
FROM image_predictions p JOIN prediction_sets s USING (model_id, dataset_id, source_id);

INSERT INTO prediction_top5
SELECT s.set_id, p.image_idx, p.top5
FROM image_predictions p JOIN prediction_sets s USING (model_id, dataset_id, source_id)
WHERE p.top5 IS NOT NULL;

DROP VIEW predictions;
DROP TABLE image_predictions;
"""
)


def _v2_to_v3(con: DuckDBPyConnection) -> None:
    """Version 2 keyed models by name alone, so an import under another source could attach
    its rows to a model of the same name. Version 3 keys them by (source, name): a model keeps
    its id for the source that brought it, and each other source name among its rows becomes
    a new model (same metadata) that takes those rows. Values a v2 import overwrote are gone."""
    con.execute(
        """
        CREATE TEMP TABLE _v3_models AS
        WITH home AS (
            SELECT m.*, coalesce(s.name, 'unknown') AS source
            FROM models m LEFT JOIN sources s ON s.source_id = m.source_id
        ),
        used AS (
            SELECT model_id, source_id FROM aggregate_results
            UNION SELECT model_id, source_id FROM prediction_sets
        ),
        extra AS (
            SELECT u.model_id AS old_id, s.name AS source, min(u.source_id) AS source_id
            FROM used u JOIN sources s ON s.source_id = u.source_id
            JOIN home h ON h.model_id = u.model_id
            WHERE s.name <> h.source
            GROUP BY ALL
        )
        SELECT model_id AS old_id, model_id, source, name, base_name, framework, family,
               architecture, pretrained_tag, img_size, param_count, crop_pct, interpolation,
               source_id
        FROM home
        UNION ALL
        SELECT e.old_id,
               (SELECT coalesce(max(model_id), 0) FROM models)
                   + row_number() OVER (ORDER BY e.old_id, e.source),
               e.source, h.name, h.base_name, h.framework, h.family, h.architecture,
               h.pretrained_tag, h.img_size, h.param_count, h.crop_pct, h.interpolation,
               e.source_id
        FROM extra e JOIN home h ON h.model_id = e.old_id;

        CREATE TEMP TABLE _v3_owner AS  -- source_id -> the model id its rows belong to
        SELECT DISTINCT u.model_id AS old_id, u.source_id, n.model_id
        FROM (SELECT model_id, source_id FROM aggregate_results
              UNION SELECT model_id, source_id FROM prediction_sets) u
        JOIN sources s ON s.source_id = u.source_id
        JOIN _v3_models n ON n.old_id = u.model_id AND n.source = s.name;

        UPDATE prediction_sets p SET model_id = o.model_id FROM _v3_owner o
        WHERE o.old_id = p.model_id AND o.source_id = p.source_id AND o.model_id <> p.model_id;

        CREATE TEMP TABLE _v3_aggregates AS
        SELECT coalesce(o.model_id, r.model_id) AS model_id, r.dataset_id, r.top1, r.top5,
               r.n_images, r.source_id
        FROM aggregate_results r
        LEFT JOIN _v3_owner o ON o.old_id = r.model_id AND o.source_id = r.source_id;
        DELETE FROM aggregate_results;
        DROP TABLE models;
        DROP SEQUENCE model_ids;
        """
    )
    (next_id,) = con.execute("SELECT coalesce(max(model_id), 0) + 1 FROM _v3_models").fetchone()
    con.execute(f"CREATE SEQUENCE model_ids START {int(next_id)};")
    con.execute(MODELS_TABLE)
    con.execute(
        """
        INSERT INTO models BY NAME SELECT * EXCLUDE (old_id) FROM _v3_models;
        INSERT INTO aggregate_results SELECT * FROM _v3_aggregates;
        DROP TABLE _v3_models;
        DROP TABLE _v3_owner;
        DROP TABLE _v3_aggregates;
        """
    )


def _add_import_records(con: DuckDBPyConnection) -> None:
    """Version 4 keeps a record of every import and lets the same bytes be imported under
    other options: `sources` loses its UNIQUE sha256 (rebuilt, same ids), and each imported
    file's sources row becomes a record. The options of an old import were not kept whole, so
    they are rebuilt from its config as well as it allows (a wide table's resolved columns
    stand in for its --map; the scale is taken as detected)."""
    import json

    from lottery_tui.store.import_records import (
        predictions_options,
        results_options,
        timm_options,
    )

    con.execute(
        "CREATE TABLE _sources_v4 ("
        + SOURCES_COLUMNS
        + """);
        INSERT INTO _sources_v4 SELECT * FROM sources;
        DROP TABLE sources;
        ALTER TABLE _sources_v4 RENAME TO sources;
        """
        + IMPORTS_TABLE
    )
    rows = con.execute(
        """
        SELECT s.source_id, s.config::VARCHAR,
               (SELECT count(*) FROM aggregate_results a WHERE a.source_id = s.source_id),
               (SELECT count(*) FROM prediction_rows r JOIN prediction_sets p USING (set_id)
                WHERE p.source_id = s.source_id AND p.dataset_id = s.config->>'dataset'),
               (SELECT min(m.name) FROM models m WHERE m.source_id = s.source_id)
        FROM sources s
        WHERE s.kind IN ('import', 'seed') AND s.sha256 IS NOT NULL
        """
    ).fetchall()
    records = []
    for source_id, config_text, results, predictions, model in rows:
        config = json.loads(config_text or "{}")
        form = config.get("format")
        if form == "timm":
            options, n = timm_options(config.get("dataset"), None), results
        elif form == "long":
            options, n = results_options({}, False, None), results
        elif form == "wide":
            options, n = results_options(config.get("columns", {}), True, None), results
        elif form == "predictions":
            name = config.get("model") or model
            options, n = predictions_options(name, config.get("dataset"), False), predictions
        else:
            options, n = {"importer": form, **config}, results + predictions
        records.append((source_id, json.dumps(options, sort_keys=True), n))
    if records:
        con.executemany("INSERT INTO imports VALUES (?, ?, ?)", records)


def _add_dataset_roles(con: DuckDBPyConnection) -> None:
    """Version 4 records what each dataset is to the others (store.datasets.ROLES), so that
    datasets built from one another count as one family: the builtin facts are filled in, user
    datasets stay variants until said otherwise."""
    from lottery_tui.store.datasets import BUILTIN_DATASETS

    con.execute("ALTER TABLE datasets ADD COLUMN IF NOT EXISTS role VARCHAR DEFAULT 'variant'")
    con.execute("ALTER TABLE datasets ADD COLUMN IF NOT EXISTS role_of VARCHAR")
    con.executemany(
        "UPDATE datasets SET role = ?, role_of = ? WHERE dataset_id = ?",
        [[d.role, d.role_of, d.dataset_id] for d in BUILTIN_DATASETS],
    )


def _v3_to_v4(con: DuckDBPyConnection) -> None:
    """Version 4: import records and dataset roles."""
    _add_import_records(con)
    _add_dataset_roles(con)


# Upgrades from an older schema, one step each: MIGRATIONS[v] turns version v into v + 1, as
# SQL or as a function of the connection. Stores older than the oldest step (pre-release
# builds) are refused with a clear message.
MIGRATIONS: dict[int, str | Callable[[DuckDBPyConnection], None]] = {
    1: _V1_TO_V2,
    2: _v2_to_v3,
    3: _v3_to_v4,
}


def create_schema(con: DuckDBPyConnection) -> None:
    """Create every table and view in an empty database and stamp the schema version (and the
    tag rules' version: the models to come are tagged by them)."""
    from lottery_tui.store.models import stamp_tag_rules

    con.execute(TABLES)
    con.execute(VIEWS)
    con.execute("INSERT OR REPLACE INTO meta VALUES ('schema_version', ?)", [str(SCHEMA_VERSION)])
    stamp_tag_rules(con)


def migrate(con: DuckDBPyConnection, version: int) -> None:
    """Bring a store at schema `version` up to SCHEMA_VERSION in one transaction, or refuse;
    its models are re-tagged by the current rules (`models.retag_models`) on the way."""
    import duckdb

    from lottery_tui.errors import SchemaVersionError
    from lottery_tui.store.models import retag_models

    steps = range(version, SCHEMA_VERSION)
    missing = [v for v in steps if v not in MIGRATIONS]
    if missing:
        raise SchemaVersionError(
            f"store has schema version {version}, which this lottery-tui cannot migrate to "
            f"{SCHEMA_VERSION}; rebuild it (move the file away and run lottery again)"
        )
    con.begin()
    try:
        for v in steps:
            step = MIGRATIONS[v]
            if isinstance(step, str):
                con.execute(step)
            else:
                step(con)
        retag_models(con)
        con.execute(VIEWS)
        con.execute("UPDATE meta SET value = ? WHERE key = 'schema_version'", [str(SCHEMA_VERSION)])
    except duckdb.Error as exc:  # tables that are not those of `version` (an edited stamp)
        con.rollback()
        first = str(exc).strip().splitlines()[0]
        raise SchemaVersionError(
            f"store has schema version {version}, but its tables are not those of that version "
            f"({first}); rebuild it (move the file away and run lottery again)"
        ) from None
    except BaseException:
        con.rollback()
        raise
    con.commit()
