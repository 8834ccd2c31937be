"""Probe runs in the store: the `probe_runs` registry, staging a run's rows against `images`,
and the accuracies a finished run left. Probe ingest and the runs registry call these, so the
SQL against the store's tables stays in the store package (docs/architecture.md)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import duckdb
import pyarrow as pa

from lottery_tui.store.pretraining import PROBE_SOURCE
from lottery_tui.store.query import registered

REGISTRY_COLUMNS = ("run_id", "model", "dataset_id", "state", "run_dir", "ingested", "executor")


def read_registry(con: duckdb.DuckDBPyConnection) -> list[tuple[Any, ...]]:
    """Every `probe_runs` row, as REGISTRY_COLUMNS."""
    return con.execute(f"SELECT {', '.join(REGISTRY_COLUMNS)} FROM probe_runs").fetchall()


def upsert_run(con: duckdb.DuckDBPyConnection, row: Sequence[Any]) -> None:
    """Register a run or update its state: run_id, model, framework, dataset_id, head,
    executor, state, run_dir, config (JSON text), finished_at."""
    con.execute(
        """
        INSERT INTO probe_runs (run_id, model, framework, dataset_id, head, executor, state,
                                run_dir, config, finished_at)
        VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?, ?)
        ON CONFLICT (run_id) DO UPDATE SET state = excluded.state,
            finished_at = excluded.finished_at, run_dir = excluded.run_dir,
            executor = excluded.executor
        """,
        list(row),
    )


def model_run_configs(con: duckdb.DuckDBPyConnection, model: str) -> list[tuple[str, str | None]]:
    """(run_id, config JSON text) of every registered run of the probed model `model`, oldest
    first (a launched run's spec, or a finished run's configuration)."""
    return con.execute(
        "SELECT run_id, config FROM probe_runs WHERE model = ? "
        "ORDER BY finished_at NULLS LAST, run_id",
        [model],
    ).fetchall()


def mark_ingested(con: duckdb.DuckDBPyConnection, run_id: str) -> None:
    con.execute("UPDATE probe_runs SET ingested = true WHERE run_id = ?", [run_id])


def record_finished_run(con: duckdb.DuckDBPyConnection, values: dict[str, Any]) -> None:
    """A run ingested in the foreground: insert it done and ingested, or mark a registered one
    so. `values`: run_id, model, framework, dataset, head, run_dir, config (JSON text)."""
    exists = con.execute("SELECT 1 FROM probe_runs WHERE run_id = ?", [values["run_id"]]).fetchall()
    if exists:
        con.execute(
            """
            UPDATE probe_runs SET state = 'done', ingested = true, config = $config,
                   finished_at = coalesce(finished_at, current_timestamp)
            WHERE run_id = $run_id
            """,
            {"run_id": values["run_id"], "config": values["config"]},
        )
        return
    con.execute(
        """
        INSERT INTO probe_runs (run_id, model, framework, dataset_id, head, executor, state,
                                run_dir, config, finished_at, ingested)
        VALUES ($run_id, $model, $framework, $dataset, $head, 'foreground', 'done', $run_dir,
                $config, current_timestamp, true)
        """,
        values,
    )


def stage_rows(
    con: duckdb.DuckDBPyConnection, images: str, rows: pa.Table, model_id: int
) -> pa.Table:
    """A run's rows (image_id, label, pred, top5, source_id) with the store's image_idx on
    the image set `images`, registering the images it does not know yet (a new dataset's
    first ingest; ImageNet val's are known by file name)."""
    with registered(con, "_probe_rows", rows):
        con.execute(
            """
            INSERT INTO images
            SELECT $images,
                   (SELECT coalesce(max(image_idx), -1) FROM images WHERE dataset_id = $images)
                     + row_number() OVER (ORDER BY n.image_id),
                   n.image_id, n.label
            FROM _probe_rows n
            WHERE n.image_id NOT IN (SELECT image_id FROM images WHERE dataset_id = $images)
            """,
            {"images": images},
        )
        return con.sql(
            """
            SELECT $model_id::INTEGER AS model_id, n.source_id, i.image_idx, n.pred, n.top5,
                   n.label
            FROM _probe_rows n
            JOIN images i ON i.dataset_id = $images AND i.image_id = n.image_id
            """,
            params={"images": images, "model_id": model_id},
        ).to_arrow_table()


def run_accuracies(
    con: duckdb.DuckDBPyConnection, model: str, dataset: str
) -> dict[str, tuple[float, float | None]]:
    """The probed model's stored top-1/top-5 on `dataset` and the datasets derived from it
    (ReaL, R/A-clean), the run's dataset first."""
    rows = con.execute(
        """
        SELECT r.dataset_id, r.top1, r.top5 FROM aggregate_results r
        JOIN models m ON m.model_id = r.model_id
        JOIN datasets d ON d.dataset_id = r.dataset_id
        WHERE m.source = $source AND m.name = $model
          AND (d.dataset_id = $dataset OR d.shares_images_with = $dataset)
        ORDER BY d.dataset_id <> $dataset, d.dataset_id
        """,
        {"source": PROBE_SOURCE, "model": model, "dataset": dataset},
    ).fetchall()
    return {row[0]: (float(row[1]), None if row[2] is None else float(row[2])) for row in rows}
