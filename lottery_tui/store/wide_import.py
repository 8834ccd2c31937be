"""Importer for wide result tables: `model` plus one column of top-1 per dataset.

This is how papers and benchmarks publish results (the ImageNet testbed's `robustness_top1s.csv`
has 213 setting columns). A column's dataset is its `--map COLUMN=DATASET` target, else its own
name when that is a known dataset id; an explicit map replaces a column named after its target.
Other columns are refused unless `skip_unmapped`. An empty cell means "not evaluated": no row.
Which columns are kept depends on the store's datasets, so the cells are converted once the
store is open (inside the import's transaction: a bad cell still writes nothing).
"""

from __future__ import annotations

from collections.abc import Collection, Mapping
from dataclasses import dataclass, field
from pathlib import Path

import duckdb

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import (
    CsvRows,
    check_printable,
    claim_first,
    parse_csv,
    parse_float,
)
from lottery_tui.store.datasets import known_dataset_ids
from lottery_tui.store.import_records import Options, results_options
from lottery_tui.store.long_import import (
    OPTIONAL,
    REQUIRED,
    LongFile,
    LongRow,
    long_from_rows,
)
from lottery_tui.store.scale import Accuracy, detect_scale, to_percent


@dataclass(frozen=True)
class WideFile:
    """A structurally checked wide CSV: one row per model, cells still text."""

    path: Path
    sha256: str
    rows: CsvRows
    mapping: dict[str, str]
    skip_unmapped: bool
    scale: str | None = None
    models: list[tuple[int, str]] = field(default_factory=list)  # (line, model) per row

    @property
    def options(self) -> Options:
        return results_options(self.mapping, self.skip_unmapped, self.scale)


def parse_results(
    path: Path,
    *,
    scale: str | None = None,
    mapping: Mapping[str, str] | None = None,
    skip_unmapped: bool = False,
) -> LongFile | WideFile:
    """A long file has a `dataset` column (or an accuracy column, so a missing `dataset` is
    reported as such); any other file with a `model` column is wide."""
    rows = parse_csv(path)
    if "dataset" in rows.header or set(rows.header) & set(REQUIRED + OPTIONAL) - {"model"}:
        if mapping or skip_unmapped:
            raise InputError(
                "--map and --skip-unmapped apply to wide tables (model plus one column per "
                "dataset); this file has the long layout",
                path,
                1,
            )
        return long_from_rows(rows, scale=scale)
    if "model" not in rows.header:
        raise InputError(f"missing column 'model' (header has {', '.join(rows.header)})", path, 1)
    return check_wide(rows, mapping or {}, skip_unmapped=skip_unmapped, scale=scale)


def resolve_results(con: duckdb.DuckDBPyConnection, parsed: LongFile | WideFile) -> LongFile:
    """A file's results as long rows: a wide table's columns are resolved against the store's
    datasets (so inside the import's transaction)."""
    if isinstance(parsed, WideFile):
        return to_long(parsed, known_dataset_ids(con))
    return parsed


def parse_mapping(items: Collection[str]) -> dict[str, str]:
    """`--map COLUMN=DATASET` options as a dict; a column mapped twice is an error."""
    mapping: dict[str, str] = {}
    for item in items:
        column, sep, dataset = item.partition("=")
        column, dataset = column.strip(), dataset.strip()
        if not sep or not column or not dataset:
            raise InputError(f"--map {item!r}: expected COLUMN=DATASET")
        if column in mapping:
            raise InputError(f"--map: column {column!r} is mapped twice")
        mapping[column] = dataset
    return mapping


def check_wide(
    rows: CsvRows, mapping: Mapping[str, str], *, skip_unmapped: bool, scale: str | None
) -> WideFile:
    """Model names present and unique, every mapped column in the header."""
    path = rows.path
    for column in mapping:
        if column not in rows.header:
            raise InputError(f"--map names column {column!r}, which the header lacks", path, 1)
    model_col = rows.column_index("model")
    first_line: dict[str, int] = {}
    models: list[tuple[int, str]] = []
    for line, fields in rows.rows:
        model = fields[model_col].strip()
        if not model:
            raise InputError("empty model", path, line, "model")
        check_printable(model, "model name", path, line, "model")
        claim_first(first_line, model, f"model {model!r}", path, line, "model")
        models.append((line, model))
    return WideFile(path, rows.sha256, rows, dict(mapping), skip_unmapped, scale, models)


def dataset_columns(wide: WideFile, known: Collection[str]) -> dict[int, str]:
    """Header position -> dataset id of every column that is imported."""
    targets: dict[str, str] = {}  # dataset -> the column filling it
    kept: dict[int, str] = {}
    for index, column in enumerate(wide.rows.header):
        if column == "model":
            continue
        if column in wide.mapping:
            dataset = wide.mapping[column]
        elif column in wide.mapping.values():
            continue  # replaced by the column mapped to this dataset
        elif column in known:
            dataset = column
        elif wide.skip_unmapped:
            continue
        else:
            raise InputError(
                f"column {column!r} is not a known dataset; map it with --map "
                f"{column}=DATASET or pass --skip-unmapped (known: {', '.join(sorted(known))})",
                wide.path,
                1,
                index + 1,
            )
        if dataset not in known:
            raise InputError(
                f"unknown dataset {dataset!r} for column {column!r} (add one with "
                "`lottery import dataset`)",
                wide.path,
                1,
                index + 1,
            )
        if dataset in targets:
            raise InputError(
                f"columns {targets[dataset]!r} and {column!r} both give dataset {dataset!r}",
                wide.path,
                1,
                index + 1,
            )
        targets[dataset] = column
        kept[index] = dataset
    if not kept:
        raise InputError("no column maps to a known dataset", wide.path, 1)
    return kept


def to_long(wide: WideFile, known: Collection[str]) -> LongFile:
    """The kept, non-empty cells as long rows, in percent."""
    columns = dataset_columns(wide, known)
    header = wide.rows.header
    raw: list[tuple[int, str, str, float]] = []
    for (line, model), (_, fields) in zip(wide.models, wide.rows.rows, strict=True):
        for index, dataset in columns.items():
            text = fields[index]
            if text.strip():
                raw.append(
                    (line, model, dataset, parse_float(text, wide.path, line, header[index]))
                )
    if not raw:
        raise InputError("every cell of the mapped columns is empty", wide.path)
    column_of = {dataset: header[index] for index, dataset in columns.items()}
    factor = detect_scale(
        [Accuracy(value, line, column_of[dataset]) for line, _, dataset, value in raw],
        wide.path,
        wide.scale,
    )
    rows = [
        LongRow(line, model, dataset, to_percent(value, factor), None, None)
        for line, model, dataset, value in raw
    ]
    config: dict[str, object] = {
        "format": "wide",
        "columns": {header[i]: d for i, d in columns.items()},
    }
    return LongFile(wide.path, wide.sha256, rows, wide.options, config)
