"""Importer for the generic long CSV: `model,dataset,top1[,top5][,n_images]`, one row per pair."""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import duckdb
import pyarrow as pa

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import (
    CsvRows,
    check_printable,
    claim_first,
    parse_csv,
    parse_float,
    parse_int,
    require_columns,
)
from lottery_tui.store.datasets import known_dataset_ids
from lottery_tui.store.import_records import Options, add_imports, find_import, results_options
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.outcome import ImportOutcome
from lottery_tui.store.query import registered
from lottery_tui.store.scale import Accuracy, detect_scale, to_percent
from lottery_tui.store.sources import add_source

REQUIRED = ("model", "dataset", "top1")
OPTIONAL = ("top5", "n_images")


@dataclass(frozen=True)
class LongRow:
    line: int
    model: str
    dataset: str
    top1: float
    top5: float | None
    n_images: int | None


@dataclass(frozen=True)
class LongFile:
    path: Path
    sha256: str
    rows: list[LongRow]
    options: Options  # what the command asked (the import's key with sha256 and source)
    config: dict[str, object] = field(default_factory=lambda: {"format": "long"})

    def keys(self) -> list[tuple[object, int, str]]:
        """(key, line, what) of each result, to refuse one given by two files of a command."""
        return [
            ((r.model, r.dataset), r.line, f"model {r.model!r} on {r.dataset!r}") for r in self.rows
        ]


def parse_long_csv(path: Path, *, scale: str | None = None) -> LongFile:
    return long_from_rows(parse_csv(path), scale=scale)


def long_from_rows(csv_rows: CsvRows, *, scale: str | None = None) -> LongFile:
    path = csv_rows.path
    require_columns(csv_rows, REQUIRED)
    for position, name in enumerate(csv_rows.header, start=1):
        if name not in REQUIRED + OPTIONAL:
            raise InputError(
                f"unknown column {name!r} (expected {', '.join(REQUIRED + OPTIONAL)})",
                path,
                1,
                position,
            )
    col = {name: i for i, name in enumerate(csv_rows.header)}
    first_line: dict[tuple[str, str], int] = {}
    accuracies: list[Accuracy] = []
    rows: list[LongRow] = []
    for line, fields in csv_rows.rows:
        model = fields[col["model"]].strip()
        dataset = fields[col["dataset"]].strip()
        for name, value in (("model", model), ("dataset", dataset)):
            if not value:
                raise InputError(f"empty {name}", path, line, name)
            check_printable(value, f"{name} name", path, line, name)
        what = f"row for model {model!r} on dataset {dataset!r}"
        claim_first(first_line, (model, dataset), what, path, line, "model")
        top1 = parse_float(fields[col["top1"]], path, line, "top1")
        accuracies.append(Accuracy(top1, line, "top1"))
        top5 = None
        if "top5" in col and fields[col["top5"]].strip():
            top5 = parse_float(fields[col["top5"]], path, line, "top5")
            accuracies.append(Accuracy(top5, line, "top5"))
            if top5 < top1:
                raise InputError(f"top5 {top5:g} is below top1 {top1:g}", path, line, "top5")
        n_images = None
        if "n_images" in col and fields[col["n_images"]].strip():
            n_images = parse_int(fields[col["n_images"]], path, line, "n_images")
            if not 1 <= n_images <= 2**31 - 1:
                raise InputError(f"n_images {n_images} is out of range", path, line, "n_images")
        rows.append(LongRow(line, model, dataset, top1, top5, n_images))
    factor = detect_scale(accuracies, path, scale)
    scaled = [
        LongRow(
            r.line,
            r.model,
            r.dataset,
            to_percent(r.top1, factor),
            None if r.top5 is None else to_percent(r.top5, factor),
            r.n_images,
        )
        for r in rows
    ]
    return LongFile(path, csv_rows.sha256, scaled, results_options({}, False, scale))


def write_long(
    con: duckdb.DuckDBPyConnection,
    parsed: LongFile,
    *,
    source_name: str = "import",
    kind: str = "import",
) -> ImportOutcome:
    prior = find_import(con, parsed.sha256, source_name, parsed.options)
    if prior is not None:
        return ImportOutcome(parsed.path, "", skipped_as=prior)
    known = dict(con.execute("SELECT dataset_id, n_images FROM datasets").fetchall())
    for row in parsed.rows:
        if row.dataset not in known:
            raise InputError(
                f"unknown dataset {row.dataset!r} (known: {', '.join(known_dataset_ids(con))}; "
                "add one with `lottery import dataset`)",
                parsed.path,
                row.line,
                "dataset",
            )
    source_id = add_source(
        con,
        name=source_name,
        kind=kind,
        path=str(parsed.path),
        sha256=parsed.sha256,
        config=parsed.config,
    )
    add_imports(con, [(source_id, parsed.options, len(parsed.rows))])
    names = list(dict.fromkeys(row.model for row in parsed.rows))
    ids = ensure_models(con, [describe(name) for name in names], source_id)
    table = pa.table(
        {
            "model_id": pa.array([ids[r.model] for r in parsed.rows], pa.int32()),
            "dataset_id": [r.dataset for r in parsed.rows],
            "top1": pa.array([r.top1 for r in parsed.rows], pa.float64()),
            "top5": pa.array([r.top5 for r in parsed.rows], pa.float64()),
            "n_images": pa.array(
                [r.n_images if r.n_images is not None else known[r.dataset] for r in parsed.rows],
                pa.int32(),
            ),
        }
    )
    with registered(con, "_long_rows", table):
        con.execute(
            "INSERT OR REPLACE INTO aggregate_results SELECT *, ? FROM _long_rows", [source_id]
        )
    datasets = len({r.dataset for r in parsed.rows})
    return ImportOutcome(
        parsed.path,
        f"{len(parsed.rows)} results ({len(names)} models, {datasets} datasets)",
        import_id=source_id,
    )
