"""Move a finished probe run into the store, exactly once.

A run is finished when its `result.json` exists (it is written last). Every shard's sha256 becomes a
`sources` row (UNIQUE), so ingesting the same run again is a no-op; a shard whose bytes no longer
match its recorded checksum is refused. Ingest has two steps so the write lock is never held while
a file is read: `read_run_dir` reads `result.json` and every shard (hashed and parsed from the same
bytes, so a shard cannot change between check and use), then `ingest_run` writes them through a
connection inside one transaction (`lottery_tui.store.connection.write_transaction`), so a failure
leaves nothing in the store. Predictions go through the store's `replace_predictions_table`, which
also writes the aggregate and derives ReaL from an ImageNet val run.
"""

from __future__ import annotations

import hashlib
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lottery_tui.errors import InputError
from lottery_tui.probe.contract import RESULT_FILE, SHARDS_DIR
from lottery_tui.probe.result import RunResult, ShardEntry


@dataclass
class IngestOutcome:
    run_id: str
    model: str
    dataset: str
    n_images: int
    ingested: bool  # False: this run was already in the store
    accuracies: dict[str, tuple[float, float | None]]  # dataset -> (top1, top5) in the store


@dataclass(frozen=True)
class Shard:
    path: Path
    sha256: str
    table: pa.Table


@dataclass(frozen=True)
class RunFiles:
    """A finished run as read from its directory: `result.json` and each dataset's shards."""

    run_dir: Path
    result: RunResult
    parts: dict[str, list[Shard]]  # dataset -> its shards, the run's own dataset first

    @property
    def checksums(self) -> list[str]:
        return [shard.sha256 for shards in self.parts.values() for shard in shards]


def read_run_dir(run_dir: Path | str) -> RunFiles | None:
    """Every file of a finished run, read and verified with no store open; None when the run
    has no `result.json`."""
    run_dir = Path(run_dir)
    result = RunResult.read(run_dir)
    if result is None:
        return None
    # The run's dataset first (ImageNet val also derives ReaL), then those scored from its logits.
    parts = {result.dataset: _read_shards(run_dir, result.shards)}
    for dataset, derived in result.derived.items():
        parts[dataset] = _read_shards(run_dir, derived.shards)
    return RunFiles(run_dir, result, parts)


def ingest_run(con: duckdb.DuckDBPyConnection, run: RunFiles) -> IngestOutcome:
    """Write a run read by `read_run_dir` into the store behind `con` (no file is read here)."""
    from lottery_tui.store.models import ModelInfo, ensure_models
    from lottery_tui.store.predictions import replace_predictions_table
    from lottery_tui.store.pretraining import tags
    from lottery_tui.store.probe_runs import PROBE_SOURCE, run_accuracies
    from lottery_tui.store.sources import add_source, known_checksums

    run_dir, result, parts = run.run_dir, run.result, run.parts
    checksums = run.checksums
    known = known_checksums(con, checksums)
    outcome = IngestOutcome(result.run_id, result.model, result.dataset, result.n_images, False, {})
    if known and len(known) == len(checksums):
        outcome.accuracies = run_accuracies(con, result.model, result.dataset)
        return outcome
    if known:
        raise InputError(
            "some shards of this run are already in the store and some are not; "
            "the run directory was changed after ingest",
            run_dir / RESULT_FILE,
        )
    check_model_name(con, result.model)
    config = result.config
    if "model_identity" in config:
        check_model_identity(con, result.model, config["model_identity"], result.run_id)
    arch = config["arch"]
    info = ModelInfo(
        name=result.model,
        base_name=result.model,
        architecture=arch,
        family="vit" if arch.startswith("vit") else "resnet",
        pretrained_tag=None,
        img_size=int(config["preprocessing"]["size"]),
        crop_pct=float(config["preprocessing"]["crop_fraction"]),
        interpolation=str(config["preprocessing"]["interpolation"]),
        **vars(tags(result.model, PROBE_SOURCE, config["framework"], protocol_head(config))),
    )
    model_id = None
    for dataset, shards in parts.items():
        source_ids = [
            add_source(
                con,
                name=PROBE_SOURCE,
                kind="probe",
                path=str(shard.path),
                sha256=shard.sha256,
                run_id=result.run_id,
                config=config,
            )
            for shard in shards
        ]
        if model_id is None:
            model_id = ensure_models(con, [info], source_ids[0])[result.model]
        replace_predictions_table(con, _staged(con, dataset, shards, source_ids, model_id), dataset)
    _record_run(con, run_dir, result)
    outcome.ingested = True
    outcome.accuracies = run_accuracies(con, result.model, result.dataset)
    return outcome


def protocol_head(config: dict[str, Any]) -> str:
    """The head kind the protocol tag reads: a trained head's solver keeps its protocol apart
    (`linear-probe-lbfgs` or `linear-probe-adamw`, never a released head's `linear-probe`)."""
    head = config["head"]
    if head["kind"] == "train" and head.get("solver") == "adamw":
        return "train-adamw"
    return head["kind"]


def check_model_name(con: duckdb.DuckDBPyConnection, model: str) -> None:
    """A probed model is the identity ('probe', model); a name another source already has
    would make the bare name ambiguous, so the probe asks for another one. A name with a
    control character (ESC, OSC) is refused as the CSV importers refuse it."""
    from lottery_tui.store.csvfile import check_printable
    from lottery_tui.store.identity import identities_named
    from lottery_tui.store.probe_runs import PROBE_SOURCE

    check_printable(model, "model")
    others = [ref for ref in identities_named(con, model) if ref.source != PROBE_SOURCE]
    if others:
        raise InputError(
            f"model {model!r} is already in the store from {others[0].source!r}; "
            "give the probed model another --model name"
        )


def check_model_identity(
    con: duckdb.DuckDBPyConnection, model: str, identity: dict[str, Any], run_id: str | None = None
) -> None:
    """Refuse a probed model name the store's runs registry already has for another checkpoint,
    head or configuration, naming the earlier run (the same configuration is fine: a rerun, or
    another dataset). `run_id`: the run being checked, never its own conflict."""
    from lottery_tui.probe.identity import difference, stored_identity
    from lottery_tui.store.probe_runs import model_run_configs

    for earlier, text in model_run_configs(con, model):
        if earlier == run_id or not text:
            continue
        try:
            config = json.loads(text)
        except ValueError:
            continue
        diff = difference(stored_identity(config), identity) if isinstance(config, dict) else None
        if diff is not None:
            raise InputError(
                f"model {model!r} is already in the store from run {earlier} with another "
                f"configuration ({diff}); give this one another model name"
            )


def _read_shards(run_dir: Path, entries: list[ShardEntry]) -> list[Shard]:
    shards: list[Shard] = []
    for entry in entries:
        path = run_dir / SHARDS_DIR / entry.name
        if not path.is_file():  # also refuses a FIFO or device before anything blocks on it
            raise InputError("shard listed in result.json is missing", path)
        data = path.read_bytes()
        sha = hashlib.sha256(data).hexdigest()
        if sha != entry.sha256:
            raise InputError("shard checksum differs from result.json (file changed)", path)
        if any(sha == seen.sha256 for seen in shards):  # each shard is one sources row
            raise InputError(
                f"shard {entry.name!r} is listed twice in result.json (same content)",
                run_dir / RESULT_FILE,
            )
        try:
            table = pq.read_table(pa.BufferReader(data))
        except pa.ArrowException as exc:
            raise InputError(f"shard is not a readable Parquet file ({exc})", path) from exc
        if table.num_rows != entry.rows:
            raise InputError(
                f"shard has {table.num_rows} rows, result.json says {entry.rows}", path
            )
        shards.append(Shard(path, sha, table))
    if not shards:
        raise InputError("result.json lists no shards", run_dir / RESULT_FILE)
    return shards


def _staged(
    con: duckdb.DuckDBPyConnection,
    dataset: str,
    shards: list[Shard],
    source_ids: list[int],
    model_id: int,
) -> pa.Table:
    """The run's rows with their store image_idx, adding the images the store does not know.

    ImageNet val images are in the store already (by file name), so ReaL can be derived;
    other datasets get their images on their first ingest.
    """
    from lottery_tui.store.datasets import image_dataset
    from lottery_tui.store.probe_runs import stage_rows

    parts = [
        shard.table.append_column(
            "source_id", pa.array([source_id] * shard.table.num_rows, pa.int32())
        )
        for shard, source_id in zip(shards, source_ids, strict=True)
    ]
    return stage_rows(con, image_dataset(con, dataset), pa.concat_tables(parts), model_id)


def _record_run(con: duckdb.DuckDBPyConnection, run_dir: Path, result: RunResult) -> None:
    from lottery_tui.store.probe_runs import record_finished_run

    config = result.config
    values = {
        "run_id": result.run_id,
        "model": result.model,
        "framework": config["framework"],
        "dataset": result.dataset,
        "head": config["head"]["kind"],
        "run_dir": str(run_dir),
        "config": json.dumps(config),
    }
    record_finished_run(con, values)
