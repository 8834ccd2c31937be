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
    from lottery_tui.store.pretraining import tags
    from lottery_tui.store.probe_runs import PROBE_SOURCE, run_accuracies
    from lottery_tui.store.sources import add_source, known_checksums

    run_dir = Path(run_dir)
    result = read_result(run_dir)
    if result is None:
        return None
    # The run's dataset first (ImageNet val also derives ReaL), then those scored from its logits.
    parts = {result["dataset"]: _verified_shards(run_dir, result["shards"])}
    for dataset, derived in result.get("derived", {}).items():
        parts[dataset] = _verified_shards(run_dir, derived["shards"])
    checksums = [sha for shards in parts.values() for _, sha, _ in shards]
    known = known_checksums(con, checksums)
    outcome = IngestOutcome(
        result["run_id"], result["model"], result["dataset"], int(result["n_images"]), False, {}
    )
    if known and len(known) == len(checksums):
        outcome.accuracies = run_accuracies(con, result["model"], result["dataset"])
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
        **vars(tags(result["model"], PROBE_SOURCE, config["framework"], config["head"]["kind"])),
    )
    model_id = None
    for dataset, shards in parts.items():
        source_ids = [
            add_source(
                con,
                name=PROBE_SOURCE,
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
    outcome.accuracies = run_accuracies(con, result["model"], result["dataset"])
    return outcome


def check_model_name(con: duckdb.DuckDBPyConnection, model: str) -> None:
    """A probed model is the identity ('probe', model); a name another source already has
    would make the bare name ambiguous, so the probe asks for another one."""
    from lottery_tui.store.identity import identities_named
    from lottery_tui.store.probe_runs import PROBE_SOURCE

    others = [ref for ref in identities_named(con, model) if ref.source != PROBE_SOURCE]
    if others:
        raise InputError(
            f"model {model!r} is already in the store from {others[0].source!r}; "
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
        if any(sha == seen for _, seen, _ in shards):  # each shard is one sources row
            raise InputError(
                f"shard {entry['name']!r} is listed twice in result.json (same content)",
                run_dir / RESULT_FILE,
            )
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
    from lottery_tui.store.probe_runs import stage_rows

    parts = []
    for (path, _, rows), source_id in zip(shards, source_ids, strict=True):
        part = pq.read_table(path)
        if part.num_rows != rows:
            raise InputError(f"shard has {part.num_rows} rows, result.json says {rows}", path)
        parts.append(part.append_column("source_id", pa.array([source_id] * rows, pa.int32())))
    return stage_rows(con, image_dataset(con, dataset), pa.concat_tables(parts), model_id)


def _record_run(con: duckdb.DuckDBPyConnection, run_dir: Path, result: dict[str, Any]) -> None:
    from lottery_tui.store.probe_runs import record_finished_run

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
    record_finished_run(con, values)
