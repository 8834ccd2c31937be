"""Build a store from the shipped `data/`: schema, builtin datasets, labels, and all results.

The store is written to a temporary file in the same folder and renamed into place at the end,
so a crash (or kill -9) while building leaves no half-built store behind.
"""

from __future__ import annotations

import contextlib
import json
import os
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.parquet as pq

from lottery_tui.store.csvfile import InputBytes, read_input
from lottery_tui.store.datasets import BUILTIN_DATASETS, insert_datasets
from lottery_tui.store.import_records import add_imports, predictions_options
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.paths import data_dir
from lottery_tui.store.predictions import PredictionBatch, replace_predictions
from lottery_tui.store.query import registered
from lottery_tui.store.schema import create_schema
from lottery_tui.store.sources import add_file_sources
from lottery_tui.store.testbed import load_testbed
from lottery_tui.store.timm_import import parse_timm_csv, write_timm

PREDICTIONS_SOURCE = "analysing-relations"
PREDICTIONS_UPSTREAM = (
    "hadarshavit/analysing-relations res/topk_ids_<model>.csv "
    "@ b5f4cde46c45e5f88bf74aabdef5fa28360063ab (MIT)"
)
TIMM_UPSTREAM = (
    "huggingface/pytorch-image-models results/ @ aa4b5850c1543fa488abf260f18390eda46cf85d"
)


def build_store(path: Path, *, with_results: bool = True, data: Path | None = None) -> None:
    """Create the store at `path` (which must not exist) from `data/`, all or nothing.

    Without results it holds the schema, the builtin datasets, ImageNet's classes, val labels
    and ReaL label sets: what a user needs before importing their own results.
    """
    data = data or data_dir()
    tmp = path.with_name(f".{path.name}.{os.getpid()}.building")
    _remove(tmp)
    try:
        con = duckdb.connect(str(tmp))
        try:
            con.begin()
            create_schema(con)
            insert_datasets(con, BUILTIN_DATASETS, builtin=True)
            load_reference(con, data)
            if with_results:
                load_timm_results(con, data)
                load_shipped_predictions(con, data)
                load_testbed(con, data)
            con.commit()
            con.execute("CHECKPOINT")
        finally:
            con.close()
        os.replace(tmp, path)
    finally:
        _remove(tmp)


def load_reference(con: duckdb.DuckDBPyConnection, data: Path) -> None:
    """Classes, R/A class subsets, ImageNet val images with labels, and ReaL label sets."""
    imagenet = data / "imagenet"
    con.execute(
        """
        INSERT INTO classes
        SELECT "index"::SMALLINT, wnid, lemma
        FROM read_csv($path, delim = '\t', header = true, quote = '')
        """,
        {"path": str(imagenet / "imagenet_class_names.tsv")},
    )
    for subset in ("imagenet-r", "imagenet-a"):
        letter = subset[-1]
        con.execute(
            """
            INSERT INTO class_subsets
            SELECT $subset, column0::SMALLINT
            FROM read_csv($path, header = false, columns = {'column0': 'INTEGER'})
            """,
            {"subset": subset, "path": str(imagenet / f"imagenet_{letter}_indices.txt")},
        )
    con.execute(
        """
        INSERT INTO images SELECT 'imagenet', image_idx, image_id, label
        FROM read_parquet($path)
        """,
        {"path": str(imagenet / "val_labels.parquet")},
    )
    label_lists = json.loads((imagenet / "real.json").read_text())
    scored = [(i, labels) for i, labels in enumerate(label_lists) if labels]
    table = pa.table(
        {
            "image_idx": pa.array([i for i, _ in scored], pa.int32()),
            "labels": pa.array([labels for _, labels in scored], pa.list_(pa.int16())),
        }
    )
    with registered(con, "_real_labels", table):
        con.execute(
            "INSERT INTO label_sets SELECT 'imagenet-real', image_idx, labels FROM _real_labels"
        )


def load_timm_results(con: duckdb.DuckDBPyConnection, data: Path) -> None:
    for path in sorted((data / "timm-results").glob("results-*.csv")):
        write_timm(con, parse_timm_csv(path), source_name="timm", kind="seed")
    con.execute(
        "UPDATE sources SET config = json_merge_patch(config, ?) WHERE name = 'timm'",
        [json.dumps({"upstream": TIMM_UPSTREAM})],
    )


def load_shipped_predictions(con: duckdb.DuckDBPyConnection, data: Path) -> None:
    """The 15 models' val predictions, in one bulk insert; ReaL is derived from them. Each
    file is read once (its sha256 is of the bytes decoded) and becomes an import record.

    The bytes are decoded on another thread while this one writes the sources, records and
    models (both release the GIL), so the ingest waits for the slower, not for their sum.
    """
    files = sorted((data / "imagenet-val-predictions").glob("*.parquet"))
    inputs = [read_input(path) for path in files]
    stored = {path: str(path.relative_to(data.parent)) for path in files}
    with ThreadPoolExecutor(max_workers=1) as pool:
        reading = pool.submit(_read_predictions, inputs)
        source_of = add_file_sources(
            con,
            name=PREDICTIONS_SOURCE,
            kind="seed",
            files=[(stored[i.path], i.sha256) for i in inputs],
            config={
                "format": "predictions",
                "dataset": "imagenet",
                "upstream": PREDICTIONS_UPSTREAM,
            },
        )
        file_ids = [(path.stem, source_of[stored[path]]) for path in files]
        model_ids = ensure_models(
            con, [describe(model) for model, _ in file_ids], [source for _, source in file_ids]
        )
        table, lengths = reading.result()
    add_imports(
        con,
        [
            (source_id, predictions_options(model, "imagenet", False), rows)
            for (model, source_id), rows in zip(file_ids, lengths, strict=True)
        ],
    )
    batch = PredictionBatch(
        pairs=[(model_ids[model], source_id) for model, source_id in file_ids],
        lengths=lengths,
        image_idx=table.column("image_idx").to_numpy(),
        pred=table.column("pred").to_numpy(),
    )
    replace_predictions(con, "imagenet", batch)


def _read_predictions(inputs: list[InputBytes]) -> tuple[pa.Table, list[int]]:
    """The files' rows in file order, and each file's number of rows."""
    tables = [pq.read_table(pa.BufferReader(i.data), columns=["image_idx", "pred"]) for i in inputs]
    return pa.concat_tables(tables), [t.num_rows for t in tables]


def _remove(path: Path) -> None:
    for candidate in (path, path.with_name(path.name + ".wal")):
        with contextlib.suppress(FileNotFoundError):
            candidate.unlink()
