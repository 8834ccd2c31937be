"""What the store holds, for `lottery models`, `lottery datasets` and `lottery db info`: the
SQL against the store's tables stays in the store package (docs/architecture.md)."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import pyarrow as pa

from lottery_tui.store.identity import check_source

MODELS_QUERY = """
SELECT m.name AS model, m.source, m.pretraining, m.protocol, m.framework, m.family,
       m.architecture, m.img_size, m.param_count AS params_m,
       string_agg(DISTINCT r.dataset_id, ',' ORDER BY r.dataset_id) AS datasets,
       (SELECT c.source || ':' || c.name FROM models c WHERE c.model_id = m.same_as) AS same_as
FROM models m
LEFT JOIN aggregate_results r ON r.model_id = m.model_id
GROUP BY ALL
HAVING ($like IS NULL OR m.name GLOB $like OR m.source || ':' || m.name GLOB $like)
   AND ($source IS NULL OR m.source = $source)
   AND ($family IS NULL OR m.family = $family)
   AND ($framework IS NULL OR m.framework = $framework)
   AND ($pretraining IS NULL OR m.pretraining = $pretraining)
   AND ($protocol IS NULL OR m.protocol = $protocol)
   AND ($dataset IS NULL OR list_contains(list(r.dataset_id), $dataset))
ORDER BY m.name, m.source
"""

DATASETS_QUERY = """
SELECT d.dataset_id AS dataset, d.display_name AS name, d.n_images AS images,
       d.n_classes AS classes, d.multi_label, d.shares_images_with AS shares_images,
       (SELECT count(*) FROM aggregate_results r WHERE r.dataset_id = d.dataset_id) AS results,
       (SELECT count(DISTINCT model_id) FROM prediction_sets p
         WHERE p.dataset_id = d.dataset_id) AS per_image_models
FROM datasets d
ORDER BY d.builtin DESC, d.dataset_id
"""

COUNTS = {
    "models": "SELECT count(*) FROM models",
    "datasets": "SELECT count(*) FROM datasets",
    "results": "SELECT count(*) FROM aggregate_results",
    "per-image predictions": "SELECT count(*) FROM prediction_rows",
    "probe runs": "SELECT count(*) FROM probe_runs",
}
SOURCES_QUERY = """
SELECT name, kind, count(*) AS files, max(created_at)::VARCHAR AS last_import
FROM sources GROUP BY ALL ORDER BY name, kind
"""


@dataclass(frozen=True)
class ModelQuery:
    """Filters of `lottery models` (None: any); `like` is a glob on NAME or SOURCE:NAME."""

    like: str | None = None
    source: str | None = None
    family: str | None = None
    framework: str | None = None
    dataset: str | None = None
    pretraining: str | None = None
    protocol: str | None = None


@dataclass(frozen=True)
class StoreInfo:
    schema_version: int | None
    counts: dict[str, int]
    sources: list[tuple[str, str, int, str]]  # name, kind, files, last import


def list_models(con: duckdb.DuckDBPyConnection, query: ModelQuery) -> pa.Table:
    """One row per model identity with its tags, metadata and datasets."""
    check_source(con, query.source)
    return con.sql(MODELS_QUERY, params=vars(query)).to_arrow_table()


def list_datasets(con: duckdb.DuckDBPyConnection) -> pa.Table:
    return con.sql(DATASETS_QUERY).to_arrow_table()


def store_info(con: duckdb.DuckDBPyConnection) -> StoreInfo:
    version = con.execute("SELECT value FROM meta WHERE key = 'schema_version'").fetchall()
    return StoreInfo(
        schema_version=int(version[0][0]) if version else None,
        counts={name: con.execute(sql).fetchall()[0][0] for name, sql in COUNTS.items()},
        sources=con.execute(SOURCES_QUERY).fetchall(),
    )
