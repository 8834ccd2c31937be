"""The SQL behind the explorer's views (no Textual here: testable on a bare connection).

Ranks are computed per dataset over every model the store has for that dataset, with ties
sharing the best rank (`rank()`), so filtering the table never changes a model's rank.
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, field
from decimal import Decimal

import duckdb
import pyarrow as pa

from lottery_tui.store.sql_policy import check_sql

DEFAULT_REFERENCE = "imagenet"
SQL_FETCH_LIMIT = 10_000
"""Rows fetched from an ad hoc query; more are reported as "N of >N", never loaded."""

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
    source: str | None = None,
) -> list[DatasetInfo]:
    """Datasets that have results (from `source`, if given), the reference first (none given:
    a picker's list, which must not move its entries about), then in the store's order."""
    rows = con.execute(
        """
        SELECT r.dataset, count(*) AS n_models, any_value(d.n_images) AS n_images,
               min(coalesce(d.rowid, 1e9)) AS pos
        FROM results r LEFT JOIN datasets d ON d.dataset_id = r.dataset
        WHERE $source IS NULL OR r.source = $source
        GROUP BY r.dataset
        ORDER BY r.dataset IS DISTINCT FROM coalesce($reference, r.dataset), pos, r.dataset
        """,
        {"reference": reference, "source": source},
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
    con: duckdb.DuckDBPyConnection, reference: str, datasets: list[DatasetInfo]
) -> ResultsGrid:
    """Models x datasets: top-1, rank, and the delta and rank change against `reference`.

    Accuracies are DECIMAL(6, 3), the precision timm publishes, so every cell shows three decimals.

    Δ = top-1 here minus top-1 on the reference (percentage points); rank change = rank on the
    reference minus rank here, both among the models with results on both datasets (positive:
    the model climbs on this dataset; a model missing from one dataset does not shift the others).
    """
    selects = ["model"]
    groups: dict[str, list[str]] = {g: [] for g in GROUPS}
    params: list[object] = [reference]
    for info in datasets:
        lbl = info.label
        where = "FILTER (WHERE dataset = ?)"
        selects.append(f'CAST(max(top1) {where} AS DECIMAL(6, 3)) AS "{lbl}"')
        selects.append(f'max(rnk) {where} AS "{lbl} #"')
        params += [info.dataset_id, info.dataset_id]
        groups["top-1"].append(lbl)
        groups["rank"].append(f"{lbl} #")
        if info.dataset_id != reference:
            selects.append(f'CAST(max(top1 - ref_top1) {where} AS DECIMAL(6, 3)) AS "{lbl} Δ"')
            selects.append(f'max(ref_rank_both - rnk_both) {where} AS "{lbl} ±#"')
            params += [info.dataset_id, info.dataset_id]
            groups["Δ vs ref"].append(f"{lbl} Δ")
            groups["rank change"].append(f"{lbl} ±#")
    ref_label = short_label(reference)
    sql = f"""
        WITH ranked AS (
            SELECT model, dataset, top1,
                   CAST(rank() OVER (PARTITION BY dataset ORDER BY top1 DESC) AS INTEGER) AS rnk
            FROM results
        ), ref AS (
            SELECT model, top1 AS ref_top1 FROM ranked WHERE dataset = ?
        ), both_ranked AS (  -- per dataset, the models it shares with the reference
            SELECT r.model, r.dataset,
                   CAST(rank() OVER (PARTITION BY r.dataset ORDER BY r.top1 DESC) AS INTEGER)
                       AS rnk_both,
                   CAST(rank() OVER (PARTITION BY r.dataset ORDER BY ref.ref_top1 DESC)
                       AS INTEGER) AS ref_rank_both
            FROM results r JOIN ref USING (model)
        )
        SELECT {", ".join(selects)}
        FROM ranked LEFT JOIN ref USING (model) LEFT JOIN both_ranked USING (model, dataset)
        GROUP BY model
        ORDER BY "{ref_label} #" NULLS LAST, model
    """
    table = con.sql(sql, params=params).to_arrow_table()
    longest = max((len(m) for m in table.column("model").to_pylist()), default=0)
    return ResultsGrid(
        table=table, reference=reference, datasets=datasets, groups=groups, longest_model=longest
    )


def reference_grid(con: duckdb.DuckDBPyConnection, reference: str) -> ResultsGrid:
    """The Results grid against `reference`, which must have results in the store."""
    datasets = list_datasets(con, reference)
    if reference not in {d.dataset_id for d in datasets}:
        raise LookupError(f"no results on reference dataset {reference!r}: R chooses another")
    return results_grid(con, reference, datasets)


@dataclass(frozen=True)
class ModelDetail:
    """Everything the store knows about one model: per-dataset results and provenance."""

    model: str
    metadata: dict[str, object]
    per_dataset: pa.Table


def model_detail(con: duckdb.DuckDBPyConnection, model: str, reference: str) -> ModelDetail:
    """One model on every dataset, with a 95 % Wilson interval from k/n and where it came from.

    With aggregate results only k/n is known, so the interval is the per-model sampling interval
    of the aggregate-only mode in the stats protocol (Wilson, z = 1.96); k = round(top-1 x n).
    """
    found = con.execute(
        """
        SELECT m.name, m.base_name, m.framework, m.family, m.architecture, m.img_size,
               m.param_count, m.crop_pct, m.interpolation, s.name AS source, s.kind,
               s.path, s.sha256, s.created_at
        FROM models m LEFT JOIN sources s USING (source_id) WHERE m.name = ?
        """,
        [model],
    ).fetchall()
    if not found:
        raise KeyError(model)
    names = [d[0] for d in con.description or []]
    meta = found[0]
    per_dataset = con.sql(
        """
        WITH ranked AS (
            SELECT model, dataset, top1, top5, n_images, source,
                   CAST(rank() OVER (PARTITION BY dataset ORDER BY top1 DESC) AS INTEGER) AS rnk,
                   count(*) OVER (PARTITION BY dataset) AS n_models
            FROM results
        ), ref AS (SELECT top1 AS ref_top1, rnk AS ref_rank FROM ranked
                   WHERE dataset = ? AND model = ?)
        SELECT dataset, CAST(top1 AS DECIMAL(6, 3)) AS top1, top5, rnk AS rank, n_models,
               CAST(top1 - (SELECT ref_top1 FROM ref) AS DECIMAL(6, 3)) AS delta,
               (SELECT ref_rank FROM ref) - rnk AS rank_change,
               CAST(n_images AS INTEGER) AS n_images,
               EXISTS (SELECT 1 FROM predictions p WHERE p.model = r.model
                       AND p.dataset = r.dataset) AS per_image,
               source
        FROM ranked r WHERE model = ?
        ORDER BY dataset <> ?, dataset
        """,
        params=[reference, model, model, reference],
    ).to_arrow_table()
    per_dataset = with_wilson_interval(per_dataset)
    return ModelDetail(
        model=model, metadata=dict(zip(names, meta, strict=True)), per_dataset=per_dataset
    )


def with_wilson_interval(per_dataset: pa.Table) -> pa.Table:
    """`ci_low`/`ci_high` (percent) after `top1`: the 95 % Wilson interval of k/n, from the
    statistics layer so the explorer and the reports share one implementation."""
    from analysis.intervals import wilson  # here: scipy would cost the first screen ~0.5 s

    lows: list[Decimal | None] = []
    highs: list[Decimal | None] = []
    tops = per_dataset.column("top1").to_pylist()
    sizes = per_dataset.column("n_images").to_pylist()
    for top1, n in zip(tops, sizes, strict=True):
        if top1 is None or not n:
            lows.append(None)
            highs.append(None)
            continue
        interval = wilson(round(float(top1) / 100 * n), n)
        lows.append(_percent(interval.low))
        highs.append(_percent(interval.high))
    at = per_dataset.column_names.index("top1") + 1
    per_dataset = per_dataset.add_column(at, "ci_low", pa.array(lows, pa.decimal128(5, 2)))
    return per_dataset.add_column(at + 1, "ci_high", pa.array(highs, pa.decimal128(5, 2)))


def _percent(fraction: float) -> Decimal:
    return Decimal(f"{100 * fraction:.2f}")


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


def check_source(con: duckdb.DuckDBPyConnection, source: str | None) -> None:
    """Fail in one line, naming the known sources, when `source` is not one of the store's."""
    if source is None:
        return
    known = [s.name for s in list_sources(con)]
    if source not in known:
        raise LookupError(
            f"unknown source {source!r}: S chooses one of {', '.join(known) or 'none'}"
        )


def source_note(source: str | None) -> str:
    """Appended to a statistics view's caption: which source's models it is computed over."""
    return "" if source is None else f" · source {source}"


def models_with_predictions(con: duckdb.DuckDBPyConnection) -> list[str]:
    """Models with per-image predictions: the only ones a paired comparison can use."""
    rows = con.execute(
        "SELECT DISTINCT m.name FROM image_predictions p JOIN models m USING (model_id) ORDER BY 1"
    ).fetchall()
    return [r[0] for r in rows]


def scatter_points(
    con: duckdb.DuckDBPyConnection, reference: str, target: str, source: str | None = None
) -> pa.Table:
    """Top-1 on the reference and on `target` for every model that has both (from `source`)."""
    return con.sql(
        """
        SELECT a.model, a.top1 AS ref_top1, b.top1 AS top1
        FROM results a JOIN results b USING (model)
        WHERE a.dataset = $reference AND b.dataset = $target
          AND ($source IS NULL OR (a.source = $source AND b.source = $source))
        ORDER BY a.model
        """,
        params={"reference": reference, "target": target, "source": source},
    ).to_arrow_table()


@dataclass(frozen=True)
class SqlResult:
    """An ad hoc query's outcome: rows (capped at the fetch limit) or a statement message."""

    table: pa.Table | None
    truncated: bool
    message: str
    seconds: float
    sql: str = ""


def run_sql(
    cur: duckdb.DuckDBPyConnection, sql: str, limit: int | None = SQL_FETCH_LIMIT
) -> SqlResult:
    """Run every statement; fetch at most `limit` rows of the last one (plus one to detect more;
    None: every row, for export)."""
    started = time.perf_counter()
    statements = check_sql(sql, console="the SQL view")
    table: pa.Table | None = None
    for query in statements:
        rel = cur.sql(query)
        if rel is not None and limit is not None:
            rel = rel.limit(limit + 1)
        table = None if rel is None else rel.to_arrow_table()
    seconds = time.perf_counter() - started
    if table is None:
        return SqlResult(None, False, f"OK in {seconds:.2f} s", seconds, sql)
    truncated = limit is not None and table.num_rows > limit
    if truncated:
        table = table.slice(0, limit)
        shown = f"{limit:,} of >{limit:,} rows"
    else:
        shown = f"{table.num_rows:,} rows"
    return SqlResult(table, truncated, f"{shown} in {seconds:.2f} s", seconds, sql)


def bump_ranks(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    datasets: list[DatasetInfo],
    top: int,
    source: str | None = None,
) -> pa.Table:
    """Ranks of the reference's top `top` models on each dataset, re-ranked among themselves.

    Ranking within the chosen set keeps the chart's y axis 1..top, so a swap of two neighbours
    shows as a crossing rather than a jump to rank 300.
    """
    return con.sql(
        """
        WITH scoped AS (
            SELECT * FROM results WHERE $source IS NULL OR source = $source
        ), top_models AS (
            SELECT model, row_number() OVER (ORDER BY top1 DESC, model) AS ref_pos
            FROM scoped WHERE dataset = $reference ORDER BY top1 DESC, model LIMIT $top
        ), order_of AS (
            SELECT unnest($ids::VARCHAR[]) AS dataset,
                   generate_subscripts($ids::VARCHAR[], 1) - 1 AS idx
        )
        SELECT t.model, o.idx AS dataset_index,
               CAST(rank() OVER (PARTITION BY r.dataset ORDER BY r.top1 DESC) AS INTEGER) AS rank,
               t.ref_pos
        FROM scoped r JOIN top_models t USING (model) JOIN order_of o USING (dataset)
        ORDER BY t.ref_pos, o.idx
        """,
        params={
            "reference": reference,
            "top": top,
            "ids": [d.dataset_id for d in datasets],
            "source": source,
        },
    ).to_arrow_table()


def reference_rank(
    con: duckdb.DuckDBPyConnection, model: str, reference: str, source: str | None = None
) -> int | None:
    """The model's rank by top-1 on `reference` among the models from `source` (all if None;
    ties share the best rank), None if absent."""
    rows = con.execute(
        """
        SELECT rnk FROM (
            SELECT model, rank() OVER (ORDER BY top1 DESC) AS rnk FROM results
            WHERE dataset = $reference AND ($source IS NULL OR source = $source)
        ) WHERE model = $model
        """,
        {"reference": reference, "model": model, "source": source},
    ).fetchall()
    return int(rows[0][0]) if rows else None
