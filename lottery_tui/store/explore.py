"""The explorer's queries on datasets, sources, the Results grid and a model's detail (no
Textual here: testable on a bare connection). Charts' queries: store/explore_charts.py.

A model is its identity (source, name). The explorer shows it by the one display-name rule
(`identity.display_names` over every identity with results: its bare name where no other source
has a result under that name, else `SOURCE:NAME`), which queries join as the CTE `NAMES` with
`names_params`; views that show text hand it back through `find_identity`. Ranks are computed
per dataset over every model the store has for that dataset, with ties sharing the best rank
(`rank()`), so filtering the table never changes a model's rank.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field

import duckdb
import pyarrow as pa

from lottery_tui.store.identity import ModelFilter, ModelRef, display_names

DEFAULT_REFERENCE = "imagenet"

NAMES = """names AS (  -- each identity with results, and the text the explorer shows for it
    SELECT unnest($name_sources) AS source, unnest($name_models) AS model,
           unnest($name_shown) AS shown
)"""
"""A CTE `names(source, model, shown)` over the parameters `names_params` gives."""


def explorer_names(con: duckdb.DuckDBPyConnection) -> dict[ModelRef, str]:
    """Every identity with results -> the text the explorer shows for it (`display_names`)."""
    rows = con.execute(
        "SELECT DISTINCT m.source, m.name, m.model_id FROM models m "
        "JOIN (SELECT DISTINCT source, model FROM results) r "
        "ON r.source = m.source AND r.model = m.name"
    ).fetchall()
    return display_names(ModelRef(*row) for row in rows)


def names_params(con: duckdb.DuckDBPyConnection) -> dict[str, list[str]]:
    """The parameters of `NAMES`: the explorer's names, made in Python by the one rule."""
    names = explorer_names(con)
    return {
        "name_sources": [ref.source for ref in names],
        "name_models": [ref.name for ref in names],
        "name_shown": list(names.values()),
    }


def as_filter(keep: str | ModelFilter | None) -> ModelFilter:
    """A view's scope (a source name, a ModelFilter or None: every model) as a ModelFilter."""
    return keep if isinstance(keep, ModelFilter) else ModelFilter(keep)


def find_identity(con: duckdb.DuckDBPyConnection, shown: str) -> ModelRef:
    """The identity the explorer shows as `shown` (see NAMES); KeyError if none."""
    rows = con.execute(
        f"WITH {NAMES} SELECT m.source, m.name, m.model_id FROM names n "
        "JOIN models m ON m.source = n.source AND m.name = n.model WHERE n.shown = $shown",
        {"shown": shown, **names_params(con)},
    ).fetchall()
    if not rows:
        raise KeyError(shown)
    return ModelRef(*rows[0])


_KNOWN_LABELS = {
    "imagenet": "IN",
    "imagenet-real": "ReaL",
    "imagenetv2-matched-frequency": "V2",
    "imagenetv2-threshold-0.7": "V2-th",
    "imagenetv2-top-images": "V2-top",
    "imagenet-sketch": "Sketch",
    "sketch": "Sketch",
    "imagenet-r": "R",
    "imagenet-a": "A",
    "imagenet-r-clean": "R-cl",
    "imagenet-a-clean": "A-cl",
    "objectnet": "ObjNet",
    "objectnet-clean": "ObjN-cl",
    "imagenet-c": "IN-C",
}


def short_label(dataset_id: str) -> str:
    """A column-header label short enough for an 80-column terminal."""
    if dataset_id in _KNOWN_LABELS:
        return _KNOWN_LABELS[dataset_id]
    stripped = re.sub(r"^imagenet[-_]?", "", dataset_id) or dataset_id
    return stripped[:8]


@dataclass(frozen=True)
class DatasetInfo:
    dataset_id: str
    label: str
    n_models: int
    n_images: int | None


def list_datasets(
    con: duckdb.DuckDBPyConnection,
    reference: str | None,
    keep: str | ModelFilter | None = None,
) -> list[DatasetInfo]:
    """Datasets that have results (from the models `keep` lets through), the reference first
    (none given: a picker's list, which must not move its entries about), then in the store's
    order."""
    rows = con.execute(
        f"""
        SELECT r.dataset, count(*) AS n_models, any_value(d.n_images) AS n_images,
               min(coalesce(d.rowid, 1e9)) AS pos
        FROM (SELECT * FROM results WHERE {ModelFilter.SQL}) r
             LEFT JOIN datasets d ON d.dataset_id = r.dataset
        GROUP BY r.dataset
        ORDER BY r.dataset IS DISTINCT FROM coalesce($reference, r.dataset), pos, r.dataset
        """,
        {"reference": reference, **as_filter(keep).params()},
    ).fetchall()
    return [DatasetInfo(ds, short_label(ds), int(n), n_img) for ds, n, n_img, _ in rows]


@dataclass(frozen=True)
class ResultsGrid:
    """The Results view's table plus which columns belong to which column group."""

    table: pa.Table
    reference: str
    datasets: list[DatasetInfo]
    groups: dict[str, list[str]] = field(default_factory=dict)
    longest_model: int = 0
    """Characters in the longest model name: how wide the model column needs to be."""


GROUPS = ("top-1", "rank", "Δ vs ref", "rank change")


def results_grid(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    datasets: list[DatasetInfo],
    keep: str | ModelFilter | None = None,
) -> ResultsGrid:
    """Models x datasets: top-1, rank, and the delta and rank change against `reference`, one
    row per identity (source, name) that `keep` lets through (ranks stay over every model).

    Accuracies are DECIMAL(6, 3), the precision timm publishes, so every cell shows three decimals.

    Δ = top-1 here minus top-1 on the reference (percentage points); rank change = rank on the
    reference minus rank here, both among the models with results on both datasets (positive:
    the model climbs on this dataset; a model missing from one dataset does not shift the others).
    """
    selects = ["n.shown AS model"]
    groups: dict[str, list[str]] = {g: [] for g in GROUPS}
    params: dict[str, object] = {
        "reference": reference,
        **as_filter(keep).params(),
        **names_params(con),
    }
    for i, info in enumerate(datasets):
        lbl = info.label
        params[f"d{i}"] = info.dataset_id
        where = f"FILTER (WHERE dataset = $d{i})"
        selects.append(f'CAST(max(top1) {where} AS DECIMAL(6, 3)) AS "{lbl}"')
        selects.append(f'max(rnk) {where} AS "{lbl} #"')
        groups["top-1"].append(lbl)
        groups["rank"].append(f"{lbl} #")
        if info.dataset_id != reference:
            selects.append(f'CAST(max(top1 - ref_top1) {where} AS DECIMAL(6, 3)) AS "{lbl} Δ"')
            selects.append(f'max(ref_rank_both - rnk_both) {where} AS "{lbl} ±#"')
            groups["Δ vs ref"].append(f"{lbl} Δ")
            groups["rank change"].append(f"{lbl} ±#")
    ref_label = short_label(reference)
    sql = f"""
        WITH {NAMES}, ranked AS (
            SELECT source, model, dataset, top1,
                   CAST(rank() OVER (PARTITION BY dataset ORDER BY top1 DESC) AS INTEGER) AS rnk
            FROM results
        ), ref AS (
            SELECT source, model, top1 AS ref_top1 FROM ranked WHERE dataset = $reference
        ), both_ranked AS (  -- per dataset, the models it shares with the reference
            SELECT r.source, r.model, r.dataset,
                   CAST(rank() OVER (PARTITION BY r.dataset ORDER BY r.top1 DESC) AS INTEGER)
                       AS rnk_both,
                   CAST(rank() OVER (PARTITION BY r.dataset ORDER BY ref.ref_top1 DESC)
                       AS INTEGER) AS ref_rank_both
            FROM results r JOIN ref USING (source, model)
        ), kept AS (
            SELECT DISTINCT source, model FROM results WHERE {ModelFilter.SQL}
        )
        SELECT {", ".join(selects)}
        FROM ranked LEFT JOIN ref USING (source, model)
             LEFT JOIN both_ranked USING (source, model, dataset)
             JOIN names n USING (source, model) JOIN kept USING (source, model)
        GROUP BY source, model, n.shown
        ORDER BY "{ref_label} #" NULLS LAST, n.shown
    """
    table = con.sql(sql, params=params).to_arrow_table()
    longest = max((len(m) for m in table.column("model").to_pylist()), default=0)
    return ResultsGrid(
        table=table, reference=reference, datasets=datasets, groups=groups, longest_model=longest
    )


def reference_grid(
    con: duckdb.DuckDBPyConnection, reference: str, keep: str | ModelFilter | None = None
) -> ResultsGrid:
    """The Results grid against `reference`, which must have results in the store."""
    datasets = list_datasets(con, reference)
    if reference not in {d.dataset_id for d in datasets}:
        raise LookupError(f"no results on reference dataset {reference!r}: R chooses another")
    return results_grid(con, reference, datasets, keep)


@dataclass(frozen=True)
class ModelDetail:
    """Everything the store knows about one model: per-dataset results and provenance."""

    model: str
    """As the explorer shows it (see NAMES)."""
    metadata: dict[str, object]
    per_dataset: pa.Table


def model_results(con: duckdb.DuckDBPyConnection, model: str, reference: str) -> ModelDetail:
    """One model (as the explorer shows it) on every dataset, its rank there and where it came
    from (tui.stats.model_detail adds the intervals); KeyError if the store has no such model."""
    found = find_identity(con, model)
    ident = {"source": found.source, "name": found.name}
    meta = con.execute(
        """
        SELECT m.name, m.base_name, m.framework, m.family, m.architecture, m.img_size,
               m.param_count, m.crop_pct, m.interpolation, m.pretraining, m.protocol,
               s.name AS source, s.kind, s.path, s.sha256, s.created_at
        FROM models m LEFT JOIN sources s USING (source_id)
        WHERE m.name = $name AND m.source = $source
        """,
        ident,
    ).fetchall()
    if not meta:
        raise KeyError(model)
    names = [d[0] for d in con.description or []]
    per_dataset = con.sql(
        """
        WITH ranked AS (
            SELECT model, dataset, top1, top5, n_images, source,
                   CAST(rank() OVER (PARTITION BY dataset ORDER BY top1 DESC) AS INTEGER) AS rnk,
                   count(*) OVER (PARTITION BY dataset) AS n_models
            FROM results
        ), mine AS (SELECT * FROM ranked WHERE model = $name AND source = $source),
        ref AS (SELECT top1 AS ref_top1, rnk AS ref_rank FROM mine WHERE dataset = $reference)
        SELECT dataset, CAST(top1 AS DECIMAL(6, 3)) AS top1, top5, rnk AS rank, n_models,
               CAST(top1 - (SELECT ref_top1 FROM ref) AS DECIMAL(6, 3)) AS delta,
               (SELECT ref_rank FROM ref) - rnk AS rank_change,
               CAST(n_images AS INTEGER) AS n_images,
               EXISTS (SELECT 1 FROM predictions p WHERE p.model = r.model
                       AND p.source = r.source AND p.dataset = r.dataset) AS per_image,
               source
        FROM mine r
        ORDER BY dataset <> $reference, dataset
        """,
        params={**ident, "reference": reference},
    ).to_arrow_table()
    return ModelDetail(
        model=model, metadata=dict(zip(names, meta[0], strict=True)), per_dataset=per_dataset
    )


@dataclass(frozen=True)
class SourceInfo:
    """An import source, as the source picker lists it."""

    name: str
    n_models: int


def list_sources(con: duckdb.DuckDBPyConnection) -> list[SourceInfo]:
    """The store's import sources, with how many models have results from each."""
    rows = con.execute(
        """
        SELECT s.name, count(DISTINCT r.model) AS n_models
        FROM (SELECT DISTINCT name FROM sources) s LEFT JOIN results r ON r.source = s.name
        GROUP BY s.name ORDER BY s.name
        """
    ).fetchall()
    return [SourceInfo(name, int(n)) for name, n in rows]


def check_source(con: duckdb.DuckDBPyConnection, keep: str | ModelFilter | None) -> None:
    """Fail in one line, naming the known sources, when the source of `keep` is not one of the
    store's."""
    source = as_filter(keep).source
    if source is None:
        return
    known = [s.name for s in list_sources(con)]
    if source not in known:
        raise LookupError(
            f"unknown source {source!r}: S chooses one of {', '.join(known) or 'none'}"
        )


def source_note(keep: str | ModelFilter | None) -> str:
    """Appended to a statistics view's caption: which models it is computed over (source,
    pretraining, protocol)."""
    return "".join(f" · {k} {v}" for k, v in as_filter(keep).params().items() if v is not None)
