"""Move a finished probe run into the store, exactly once.

A run is finished when its `result.json` exists (it is written last). Every shard's sha256 becomes a
`sources` row (UNIQUE), so ingesting the same run again is a no-op; a shard whose bytes no longer
match its recorded checksum is refused. The caller passes a connection inside one transaction
(`lottery_tui.store.connection.write_transaction`), so a failure leaves nothing in the store.
Predictions go through the store's `replace_predictions_table`, which also writes the aggregate and
derives ReaL from an ImageNet val run.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lottery_tui.errors import InputError
from lottery_tui.probe.contract import RESULT_FILE, SHARDS_DIR, read_result
from lottery_tui.probe.files import sha256_file


@dataclass
class IngestOutcome:
    run_id: str
    model: str
    dataset: str
    n_images: int
    ingested: bool  # False: this run was already in the store
    accuracies: dict[str, tuple[float, float | None]]  # dataset -> (top1, top5) in the store


def ingest_run_dir(con: duckdb.DuckDBPyConnection, run_dir: Path | str) -> IngestOutcome | None:
    """Ingest `run_dir` into the store behind `con`; None when the run has no `result.json`."""
    from lottery_tui.store.models import ModelInfo, ensure_models
    from lottery_tui.store.predictions import replace_predictions_table
    from lottery_tui.store.sources import add_source

    run_dir = Path(run_dir)
    result = read_result(run_dir)
    if result is None:
        return None
    # The run's dataset first (ImageNet val also derives ReaL), then those scored from its logits.
    parts = {result["dataset"]: _verified_shards(run_dir, result["shards"])}
    for dataset, derived in result.get("derived", {}).items():
        parts[dataset] = _verified_shards(run_dir, derived["shards"])
    checksums = [sha for shards in parts.values() for _, sha, _ in shards]
    known = {
        row[0]
        for row in con.execute(
            "SELECT sha256 FROM sources WHERE list_contains(?, sha256)", [checksums]
        ).fetchall()
    }
    outcome = IngestOutcome(
        result["run_id"], result["model"], result["dataset"], int(result["n_images"]), False, {}
    )
    if known and len(known) == len(checksums):
        outcome.accuracies = _accuracies(con, result["model"], result["dataset"])
        return outcome
    if known:
        raise InputError(
            "some shards of this run are already in the store and some are not; "
            "the run directory was changed after ingest",
            run_dir / RESULT_FILE,
        )
    check_model_name(con, result["model"])
    config = result["config"]
    arch = config["arch"]
    info = ModelInfo(
        name=result["model"],
        base_name=result["model"],
        architecture=arch,
        family="vit" if arch.startswith("vit") else "resnet",
        framework=config["framework"],
        pretrained_tag=None,
        img_size=int(config["preprocessing"]["size"]),
        crop_pct=float(config["preprocessing"]["crop_fraction"]),
        interpolation=str(config["preprocessing"]["interpolation"]),
    )
    model_id = None
    for dataset, shards in parts.items():
        source_ids = [
            add_source(
                con,
                name="probe",
                kind="probe",
                path=str(path),
                sha256=sha,
                run_id=result["run_id"],
                config=config,
            )
            for path, sha, _ in shards
        ]
        if model_id is None:
            model_id = ensure_models(con, [info], source_ids[0])[result["model"]]
        replace_predictions_table(con, _staged(con, dataset, shards, source_ids, model_id), dataset)
    _record_run(con, run_dir, result)
    outcome.ingested = True
    outcome.accuracies = _accuracies(con, result["model"], result["dataset"])
    return outcome


def check_model_name(con: duckdb.DuckDBPyConnection, model: str) -> None:
    """A probe may add to its own model, never overwrite an imported one's results."""
    row = con.execute(
        """
        SELECT s.name, s.kind FROM models m JOIN sources s ON s.source_id = m.source_id
        WHERE m.name = ?
        """,
        [model],
    ).fetchone()
    if row is not None and row[1] != "probe":
        raise InputError(
            f"model {model!r} is already in the store from {row[0]!r} ({row[1]}); "
            "give the probed model another --model name"
        )


def _verified_shards(run_dir: Path, entries: list[dict[str, Any]]) -> list[tuple[Path, str, int]]:
    shards = []
    for entry in entries:
        path = run_dir / SHARDS_DIR / entry["name"]
        if not path.is_file():
            raise InputError("shard listed in result.json is missing", path)
        sha = sha256_file(path)
        if sha != entry["sha256"]:
            raise InputError("shard checksum differs from result.json (file changed)", path)
        shards.append((path, sha, int(entry["rows"])))
    if not shards:
        raise InputError("result.json lists no shards", run_dir / RESULT_FILE)
    return shards


def _staged(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    shards: list[tuple[Path, str, int]],
    source_ids: list[int],
    model_id: int,
) -> pa.Table:
    """The run's rows with their store image_idx, adding the images the store does not know.

    ImageNet val images are in the store already (by file name), so ReaL can be derived;
    other datasets get their images on their first ingest.
    """
    from lottery_tui.store.datasets import image_dataset

    parts = []
    for (path, _, rows), source_id in zip(shards, source_ids, strict=True):
        part = pq.read_table(path)
        if part.num_rows != rows:
            raise InputError(f"shard has {part.num_rows} rows, result.json says {rows}", path)
        parts.append(part.append_column("source_id", pa.array([source_id] * rows, pa.int32())))
    images = image_dataset(con, dataset)
    con.register("_probe_rows", pa.concat_tables(parts))
    try:
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
    finally:
        con.unregister("_probe_rows")


def _record_run(con: duckdb.DuckDBPyConnection, run_dir: Path, result: dict[str, Any]) -> None:
    config = result["config"]
    values = {
        "run_id": result["run_id"],
        "model": result["model"],
        "framework": config["framework"],
        "dataset": result["dataset"],
        "head": config["head"]["kind"],
        "run_dir": str(run_dir),
        "config": json.dumps(config),
    }
    exists = con.execute("SELECT 1 FROM probe_runs WHERE run_id = ?", [values["run_id"]]).fetchone()
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


def _accuracies(
    con: duckdb.DuckDBPyConnection, model: str, dataset: str
) -> dict[str, tuple[float, float | None]]:
    """The run's dataset and those derived from it (ReaL, R/A-clean), as stored."""
    rows = con.execute(
        """
        SELECT r.dataset_id, r.top1, r.top5 FROM aggregate_results r
        JOIN models m ON m.model_id = r.model_id
        JOIN datasets d ON d.dataset_id = r.dataset_id
        WHERE m.name = $model AND (d.dataset_id = $dataset OR d.shares_images_with = $dataset)
        ORDER BY d.dataset_id <> $dataset, d.dataset_id
        """,
        {"model": model, "dataset": dataset},
    ).fetchall()
    return {row[0]: (float(row[1]), None if row[2] is None else float(row[2])) for row in rows}
