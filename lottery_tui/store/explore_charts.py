"""The explorer's chart queries: the scatter, the bump chart, a model's reference rank, and the
models a comparison can pick. Models are identities, shown as store.explore.NAMES says;
`keep` is a view's scope (a source name, a ModelFilter, or None: every model)."""

from __future__ import annotations

import duckdb
import pyarrow as pa

from lottery_tui.store.explore import NAMES, DatasetInfo, as_filter, names_params
from lottery_tui.store.identity import ModelFilter, ModelRef


def models_in_scope(
    con: duckdb.DuckDBPyConnection, keep: str | ModelFilter | None
) -> dict[str, ModelRef]:
    """Every model with results that `keep` lets through: the text the explorer shows for it
    -> its identity, so a picked name or row reaches the report as the model it names."""
    rows = con.execute(
        f"""
        WITH {NAMES}, scoped AS (SELECT DISTINCT source, model FROM results WHERE {ModelFilter.SQL})
        SELECT n.shown, m.source, m.name, m.model_id
        FROM scoped s JOIN names n USING (source, model)
        JOIN models m ON m.source = s.source AND m.name = s.model
        ORDER BY 1
        """,
        {**as_filter(keep).params(), **names_params(con)},
    ).fetchall()
    return {shown: ModelRef(*ref) for shown, *ref in rows}


def scatter_points(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    target: str,
    keep: str | ModelFilter | None = None,
) -> pa.Table:
    """Top-1 on the reference and on `target` for every model `keep` lets through that has
    both."""
    return con.sql(
        f"""
        WITH {NAMES}, scoped AS (SELECT * FROM results WHERE {ModelFilter.SQL})
        SELECT n.shown AS model, a.top1 AS ref_top1, b.top1 AS top1
        FROM scoped a JOIN scoped b USING (source, model) JOIN names n USING (source, model)
        WHERE a.dataset = $reference AND b.dataset = $target
        ORDER BY n.shown
        """,
        params={
            "reference": reference,
            "target": target,
            **as_filter(keep).params(),
            **names_params(con),
        },
    ).to_arrow_table()


def bump_ranks(
    con: duckdb.DuckDBPyConnection,
    reference: str,
    datasets: list[DatasetInfo],
    top: int,
    keep: str | ModelFilter | None = None,
) -> pa.Table:
    """Ranks of the reference's top `top` models (among those `keep` lets through) on each
    dataset, re-ranked among themselves.

    Ranking within the chosen set keeps the chart's y axis 1..top, so a swap of two neighbours
    shows as a crossing rather than a jump to rank 300.
    """
    return con.sql(
        f"""
        WITH {NAMES}, scoped AS (
            SELECT * FROM results WHERE {ModelFilter.SQL}
        ), top_models AS (
            SELECT source, model,
                   row_number() OVER (ORDER BY top1 DESC, model, source) AS ref_pos
            FROM scoped WHERE dataset = $reference ORDER BY top1 DESC, model, source LIMIT $top
        ), order_of AS (
            SELECT unnest($ids::VARCHAR[]) AS dataset,
                   generate_subscripts($ids::VARCHAR[], 1) - 1 AS idx
        )
        SELECT n.shown AS model, o.idx AS dataset_index,
               CAST(rank() OVER (PARTITION BY r.dataset ORDER BY r.top1 DESC) AS INTEGER) AS rank,
               t.ref_pos
        FROM scoped r JOIN top_models t USING (source, model) JOIN order_of o USING (dataset)
             JOIN names n USING (source, model)
        ORDER BY t.ref_pos, o.idx
        """,
        params={
            "reference": reference,
            "top": top,
            "ids": [d.dataset_id for d in datasets],
            **as_filter(keep).params(),
            **names_params(con),
        },
    ).to_arrow_table()


def reference_rank(
    con: duckdb.DuckDBPyConnection,
    model: str,
    reference: str,
    keep: str | ModelFilter | None = None,
) -> int | None:
    """The rank by top-1 on `reference` of `model` (as the explorer shows it) among the models
    `keep` lets through (ties share the best rank), None if absent."""
    rows = con.execute(
        f"""
        WITH {NAMES}
        SELECT rnk FROM (
            SELECT source, model, rank() OVER (ORDER BY top1 DESC) AS rnk FROM results
            WHERE dataset = $reference AND {ModelFilter.SQL}
        ) JOIN names USING (source, model) WHERE shown = $model
        """,
        {"reference": reference, "model": model, **as_filter(keep).params(), **names_params(con)},
    ).fetchall()
    return int(rows[0][0]) if rows else None
