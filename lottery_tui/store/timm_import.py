"""Importer for timm's `results-*.csv` files (pytorch-image-models, folder results/).

Quirks handled (see ../shared/README.md): `model` is not unique — the same weights at two
`img_size`s are two models, named 'model@img_size'; `param_count` may carry a thousands
separator ("1,013.01"); the signed `*_diff` columns (may be empty) are ignored, being derivable;
row sets differ between files; ties in top-1 are kept as they are.
"""

from __future__ import annotations

from collections import Counter
from dataclasses import dataclass, replace
from pathlib import Path

import duckdb
import pyarrow as pa

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import (
    check_printable,
    claim_first,
    parse_csv,
    parse_float,
    parse_int,
    require_columns,
)
from lottery_tui.store.datasets import TIMM_FILE_DATASETS, known_dataset_ids
from lottery_tui.store.import_records import Options, add_imports, find_import, timm_options
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.outcome import ImportOutcome
from lottery_tui.store.query import first_row, registered
from lottery_tui.store.scale import Accuracy, detect_scale, to_percent
from lottery_tui.store.sources import add_source

REQUIRED = ("model", "img_size", "top1")


@dataclass(frozen=True)
class TimmRow:
    line: int
    model: str
    img_size: int
    top1: float
    top5: float | None
    param_count: float | None
    crop_pct: float | None
    interpolation: str | None


@dataclass(frozen=True)
class TimmFile:
    path: Path
    dataset_id: str
    sha256: str
    rows: list[TimmRow]
    scale: str | None = None  # as given (None: detected)

    @property
    def options(self) -> Options:
        return timm_options(self.dataset_id, self.scale)

    def keys(self) -> list[tuple[object, int, str]]:
        """(key, line, what) of each result, to refuse one given by two files of a command."""
        return [
            (
                (r.model, r.img_size, self.dataset_id),
                r.line,
                f"model {r.model!r} at img_size {r.img_size} on {self.dataset_id!r}",
            )
            for r in self.rows
        ]


def dataset_for_file(path: Path, dataset_id: str | None) -> str:
    if dataset_id is not None:
        return dataset_id
    try:
        return TIMM_FILE_DATASETS[path.name]
    except KeyError:
        raise InputError(
            "cannot tell the dataset from the file name (timm names them like "
            "results-imagenet-r.csv); pass --dataset ID",
            path,
        ) from None


def parse_timm_csv(
    path: Path, *, dataset_id: str | None = None, scale: str | None = None
) -> TimmFile:
    """Read and check the whole file; nothing touches the store yet."""
    dataset = dataset_for_file(path, dataset_id)
    csv_rows = parse_csv(path)
    require_columns(csv_rows, REQUIRED)
    col = {name: i for i, name in enumerate(csv_rows.header)}
    accuracies: list[Accuracy] = []
    parsed: list[TimmRow] = []  # accuracies still in the file's scale
    first_line: dict[tuple[str, int], int] = {}

    def optional(fields: list[str], name: str) -> str | None:
        if name not in col:
            return None
        return fields[col[name]].strip() or None

    for line, fields in csv_rows.rows:
        model = fields[col["model"]].strip()
        check_printable(model, "model name", path, line, "model")
        if not model:
            raise InputError("empty model name", path, line, "model")
        img_size = parse_int(fields[col["img_size"]], path, line, "img_size")
        if not 1 <= img_size <= 32767:
            raise InputError(f"img_size {img_size} is out of range", path, line, "img_size")
        what = f"row for model {model!r} at img_size {img_size}"
        claim_first(first_line, (model, img_size), what, path, line, "model")
        top1 = parse_float(fields[col["top1"]], path, line, "top1")
        accuracies.append(Accuracy(top1, line, "top1"))
        top5_text = optional(fields, "top5")
        top5 = None if top5_text is None else parse_float(top5_text, path, line, "top5")
        if top5 is not None:
            accuracies.append(Accuracy(top5, line, "top5"))
            if top5 < top1:
                raise InputError(f"top5 {top5:g} is below top1 {top1:g}", path, line, "top5")
        params = optional(fields, "param_count")
        crop = optional(fields, "crop_pct")
        interpolation = optional(fields, "interpolation")
        if interpolation is not None:
            check_printable(interpolation, "interpolation", path, line, "interpolation")
        parsed.append(
            TimmRow(
                line=line,
                model=model,
                img_size=img_size,
                top1=top1,
                top5=top5,
                param_count=None
                if params is None
                else parse_float(params, path, line, "param_count", thousands=True),
                crop_pct=None if crop is None else parse_float(crop, path, line, "crop_pct"),
                interpolation=interpolation,
            )
        )
    factor = detect_scale(accuracies, path, scale)
    rows = [
        replace(
            row,
            top1=to_percent(row.top1, factor),
            top5=None if row.top5 is None else to_percent(row.top5, factor),
        )
        for row in parsed
    ]
    return TimmFile(path, dataset, csv_rows.sha256, rows, scale)


def write_timm(
    con: duckdb.DuckDBPyConnection,
    parsed: TimmFile,
    *,
    source_name: str = "timm",
    kind: str = "import",
) -> ImportOutcome:
    """Write one parsed file inside the caller's transaction."""
    prior = find_import(con, parsed.sha256, source_name, parsed.options)
    if prior is not None:
        return ImportOutcome(parsed.path, "", skipped_as=prior)
    n_images = _dataset_images(con, parsed)
    source_id = add_source(
        con,
        name=source_name,
        kind=kind,
        path=str(parsed.path),
        sha256=parsed.sha256,
        config={"format": "timm", "dataset": parsed.dataset_id},
    )
    add_imports(con, [(source_id, parsed.options, len(parsed.rows))])
    names = model_names(con, parsed.rows)
    infos = [
        describe(
            name,
            row.model,
            img_size=row.img_size,
            param_count=row.param_count,
            crop_pct=row.crop_pct,
            interpolation=row.interpolation,
        )
        for name, row in zip(names, parsed.rows, strict=True)
    ]
    ids = ensure_models(con, infos, source_id)
    table = pa.table(
        {
            "model_id": pa.array([ids[name] for name in names], pa.int32()),
            "top1": pa.array([row.top1 for row in parsed.rows], pa.float64()),
            "top5": pa.array([row.top5 for row in parsed.rows], pa.float64()),
        }
    )
    with registered(con, "_timm_rows", table):
        con.execute(
            "INSERT OR REPLACE INTO aggregate_results "
            "SELECT model_id, ?, top1, top5, ?, ? FROM _timm_rows",
            [parsed.dataset_id, n_images, source_id],
        )
    return ImportOutcome(
        parsed.path, f"{len(parsed.rows)} results on {parsed.dataset_id}", import_id=source_id
    )


def model_names(con: duckdb.DuckDBPyConnection, rows: list[TimmRow]) -> list[str]:
    """Store names for timm rows: 'model@img_size' when the weights exist at two image sizes.

    A model listed at more than one img_size in the file, or stored already at another
    img_size, gets the suffix; a (model, img_size) already in the store keeps its stored name.
    """
    sizes_in_file = Counter(row.model for row in rows)
    stored: dict[tuple[str, int | None], str] = {}
    stored_bases: set[str] = set()
    for name, base, size in con.execute(
        "SELECT name, base_name, img_size FROM models WHERE list_contains(?, base_name)",
        [sorted(sizes_in_file)],
    ).fetchall():
        stored[(base, size)] = name
        stored_bases.add(base)
    names = []
    for row in rows:
        known = stored.get((row.model, row.img_size))
        if known is not None:
            names.append(known)
        elif sizes_in_file[row.model] > 1 or row.model in stored_bases:
            names.append(f"{row.model}@{row.img_size}")
        else:
            names.append(row.model)
    return names


def _dataset_images(con: duckdb.DuckDBPyConnection, parsed: TimmFile) -> int | None:
    row = first_row(con, "SELECT n_images FROM datasets WHERE dataset_id = ?", [parsed.dataset_id])
    if row is None:
        raise InputError(
            f"unknown dataset {parsed.dataset_id!r} (known: {', '.join(known_dataset_ids(con))}; "
            "add one with `lottery import dataset`)",
            parsed.path,
        )
    return row[0]
