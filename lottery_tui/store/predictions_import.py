"""Importer for per-image predictions: CSV or Parquet, one row per image.

Columns (by name, or by position in a CSV without a header, like analysing-relations' files):
image id (`image_id`, `file_name`, `filename`, `image`, `path`) or `image_idx`; predicted class
(`pred`, `predicted_class`, `prediction`); optional `label` (else the dataset's labels are used);
optional `top5` (Parquet list column). Classes are 0-based indices (ImageNet: sorted-wnid order).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import parse_csv, parse_int, read_bytes
from lottery_tui.store.datasets import image_dataset, known_dataset_ids
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.outcome import ImportOutcome
from lottery_tui.store.predictions import replace_predictions_table
from lottery_tui.store.query import first_row, registered
from lottery_tui.store.sources import add_source, already_imported, sha256_file

ID_COLUMNS = ("image_id", "file_name", "filename", "image", "path")
PRED_COLUMNS = ("pred", "predicted_class", "prediction")
LABEL_COLUMNS = ("label", "target")
MAX_CLASS = 32767


@dataclass(frozen=True)
class PredictionFile:
    """A checked predictions file: `table` has line (int32, the file's line or row number),
    image_id (string) or image_idx (int32), pred (int16), label (int16, maybe null), [top5]."""

    path: Path
    sha256: str
    table: pa.Table
    key: str  # 'image_id' or 'image_idx'
    has_label: bool


def parse_predictions(path: Path) -> PredictionFile:
    read_bytes(path)  # empty / missing / directory checks with the file named
    if path.suffix.lower() == ".parquet":
        table, where = _read_parquet(path), "row"
    else:
        table, where = _read_csv(path), "line"
    _check_values(table, path, where)
    key = "image_id" if "image_id" in table.column_names else "image_idx"
    return PredictionFile(path, sha256_file(path), table, key, "label" in table.column_names)


def write_predictions(
    con: duckdb.DuckDBPyConnection,
    parsed: PredictionFile,
    *,
    model: str,
    dataset: str,
    source_name: str = "import",
) -> ImportOutcome:
    if already_imported(con, parsed.sha256):
        return ImportOutcome(parsed.path, "", skipped=True)
    row = first_row(
        con,
        "SELECT multi_label, n_classes, class_subset FROM datasets WHERE dataset_id = ?",
        [dataset],
    )
    if row is None:
        raise InputError(
            f"unknown dataset {dataset!r} (known: {', '.join(known_dataset_ids(con))}; "
            "add one with `lottery import dataset`)",
            parsed.path,
        )
    multi_label, n_classes, class_subset = row
    max_class = 1000 if class_subset else n_classes
    where = "row" if parsed.path.suffix.lower() == ".parquet" else "line"
    for column in ("pred", "label"):
        if column in parsed.table.column_names:
            _check_below(parsed, column, max_class, where)
    images = image_dataset(con, dataset)
    with registered(con, "_pred_file", parsed.table):
        if not first_row(con, "SELECT 1 FROM images WHERE dataset_id = ? LIMIT 1", [images]):
            if multi_label or images != dataset:
                raise InputError(
                    f"dataset {images!r} has no registered images; register them with "
                    f"`lottery import dataset {images} --labels FILE`",
                    parsed.path,
                )
            _register_images_from_file(con, parsed, dataset)
        staged = _staged_with_index(con, parsed, images, where)
    source_id = add_source(
        con,
        name=source_name,
        kind="import",
        path=str(parsed.path),
        sha256=parsed.sha256,
        config={"format": "predictions", "model": model, "dataset": dataset},
    )
    model_id = ensure_models(con, [describe(model)], source_id)[model]
    n = staged.num_rows
    staged = staged.append_column("model_id", pa.array([model_id] * n, pa.int32()))
    staged = staged.append_column("source_id", pa.array([source_id] * n, pa.int32()))
    replace_predictions_table(con, staged, dataset)
    return ImportOutcome(parsed.path, f"{n} predictions of {model} on {dataset}")


def _read_csv(path: Path) -> pa.Table:
    """Header optional: a first row whose second field is an integer is data, not a header."""
    rows = parse_csv(path, header=False)
    first = rows.rows[0][1]
    has_header = not (len(first) > 1 and first[1].strip().lstrip("-").isdigit())
    if has_header:
        header = [name.strip() for name in first]
        body = rows.rows[1:]
        if not body:
            raise InputError("no data rows", path)
        columns = _pick_columns(header, path)
    else:
        if len(first) not in (2, 3):
            raise InputError(
                f"a file without a header needs 2 or 3 columns (image id, predicted class[, "
                f"label]), found {len(first)}",
                path,
                rows.rows[0][0],
            )
        body = rows.rows
        columns = dict(zip(("image_id", "pred", "label"), range(len(first)), strict=False))
    lines = [line for line, _ in body]
    data: dict[str, pa.Array] = {"line": pa.array(lines, pa.int32())}
    for name, index in columns.items():
        values = [fields[index].strip() for _, fields in body]
        if name == "image_id":
            for line, value in zip(lines, values, strict=True):
                if not value:
                    raise InputError("empty image id", path, line, index + 1)
            data[name] = pa.array(values, pa.string())
        else:
            ints = []
            for line, value in zip(lines, values, strict=True):
                if name == "label" and not value:
                    ints.append(None)
                    continue
                ints.append(parse_int(value, path, line, header[index] if has_header else name))
            data[name] = pa.array(ints, pa.int64())
    return pa.table(data)


def _pick_columns(header: list[str], path: Path) -> dict[str, int]:
    lower = [name.lower() for name in header]

    def find(options: tuple[str, ...]) -> int | None:
        return next((lower.index(o) for o in options if o in lower), None)

    columns: dict[str, int] = {}
    image = find(ID_COLUMNS)
    if image is not None:
        columns["image_id"] = image
    elif "image_idx" in lower:
        columns["image_idx"] = lower.index("image_idx")
    else:
        raise InputError(
            f"missing image column (one of {', '.join(ID_COLUMNS)}, or image_idx)", path, 1
        )
    pred = find(PRED_COLUMNS)
    if pred is None:
        raise InputError(f"missing prediction column (one of {', '.join(PRED_COLUMNS)})", path, 1)
    columns["pred"] = pred
    label = find(LABEL_COLUMNS)
    if label is not None:
        columns["label"] = label
    return columns


def _read_parquet(path: Path) -> pa.Table:
    try:
        table = pq.read_table(path)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file: {exc}", path) from None
    columns = _pick_columns(table.column_names, path)
    out: dict[str, pa.Array] = {"line": pa.array(range(1, table.num_rows + 1), pa.int32())}
    for name, index in columns.items():
        column = table.column(index)
        field = table.schema.field(index)
        if name == "image_id":
            if not (pa.types.is_string(field.type) or pa.types.is_large_string(field.type)):
                raise InputError(f"column {field.name!r} must be text", path, column=field.name)
            out[name] = column.cast(pa.string())
        else:
            if not pa.types.is_integer(field.type):
                raise InputError(
                    f"column {field.name!r} must hold integers, not {field.type}",
                    path,
                    column=field.name,
                )
            out[name] = column.cast(pa.int64())
    if "top5" in table.column_names:
        top5 = table.column("top5")
        if not (pa.types.is_list(top5.type) and pa.types.is_integer(top5.type.value_type)):
            raise InputError("column 'top5' must be a list of integers", path, column="top5")
        out["top5"] = top5.cast(pa.list_(pa.int64()))
    if table.num_rows == 0:
        raise InputError("no data rows", path)
    return pa.table(out)


def _check_values(table: pa.Table, path: Path, where: str) -> None:
    """Nulls, negative or too-large classes, duplicate images: reported at their line/row."""
    for name in ("image_id", "image_idx", "pred"):
        if name in table.column_names and table.column(name).null_count:
            _fail_at(table, pc.is_null(table.column(name)), f"missing {name}", path, where, name)
    for name in ("pred", "label", "image_idx"):
        if name in table.column_names:
            column = table.column(name)
            bad = pc.or_(
                pc.less(column, 0),
                pc.greater(column, MAX_CLASS if name != "image_idx" else 2**31 - 1),
            )
            _fail_at(table, bad, f"{name} out of range", path, where, name)
    if "top5" in table.column_names:
        flat = pc.list_flatten(table.column("top5"))
        if len(flat) and (pc.min(flat).as_py() < 0 or pc.max(flat).as_py() > MAX_CLASS):
            raise InputError("top5 holds a class out of range", path, column="top5")
    key = "image_id" if "image_id" in table.column_names else "image_idx"
    keys = table.column(key)
    if pc.count_distinct(keys).as_py() != len(keys):
        seen: dict[object, int] = {}
        for line, value in zip(table.column("line").to_pylist(), keys.to_pylist(), strict=True):
            if value in seen:
                raise InputError(
                    f"duplicate image {value!r} (first on {where} {seen[value]})",
                    path,
                    line if where == "line" else None,
                    key,
                )
            seen[value] = line


def _check_below(parsed: PredictionFile, column: str, limit: int, where: str) -> None:
    values = parsed.table.column(column)
    bad = pc.greater_equal(values, limit)
    _fail_at(
        parsed.table, bad, f"{column} is not a class of this dataset (0..{limit - 1})",
        parsed.path, where, column,
    )  # fmt: skip


def _fail_at(
    table: pa.Table, mask: pa.ChunkedArray, message: str, path: Path, where: str, column: str
) -> None:
    mask = pc.fill_null(mask, False)
    if not pc.any(mask).as_py():
        return
    first = pc.index(mask, True).as_py()
    line = table.column("line")[first].as_py()
    value = table.column(column)[first].as_py()
    detail = f"{message}: {value!r}" if value is not None else message
    if where == "line":
        raise InputError(detail, path, line, column)
    raise InputError(f"row {line}: {detail}", path, column=column)


def _register_images_from_file(
    con: duckdb.DuckDBPyConnection, parsed: PredictionFile, dataset: str
) -> None:
    """A new dataset's images are the file's images (sorted by id), with the file's labels."""
    if parsed.key != "image_id" or not parsed.has_label:
        raise InputError(
            f"dataset {dataset!r} has no registered images: give image ids and a label column, "
            f"or register them with `lottery import dataset {dataset} --labels FILE`",
            parsed.path,
        )
    unlabelled = pc.is_null(parsed.table.column("label"))
    _fail_at(parsed.table, unlabelled, "missing label", parsed.path, "line", "label")
    con.execute(
        """
        INSERT INTO images
        SELECT $dataset, (row_number() OVER (ORDER BY image_id) - 1)::INTEGER, image_id, label
        FROM _pred_file
        """,
        {"dataset": dataset},
    )
    con.execute(
        "UPDATE datasets SET n_images = coalesce(n_images, ?) WHERE dataset_id = ?",
        [parsed.table.num_rows, dataset],
    )


def _staged_with_index(
    con: duckdb.DuckDBPyConnection, parsed: PredictionFile, images: str, where: str
) -> pa.Table:
    """The file's rows with image_idx resolved; an image the dataset lacks is an error."""
    key = parsed.key
    extra = ", f.label::SMALLINT AS label" if parsed.has_label else ""
    extra += ", f.top5::SMALLINT[] AS top5" if "top5" in parsed.table.column_names else ""
    missing = first_row(
        con,
        f"""
        SELECT f.line, f.{key} FROM _pred_file f
        ANTI JOIN (SELECT * FROM images WHERE dataset_id = $images) i ON i.{key} = f.{key}
        ORDER BY f.line LIMIT 1
        """,
        {"images": images},
    )
    if missing is not None:
        message = f"image {missing[1]!r} is not an image of dataset {images!r}"
        if where == "line":
            raise InputError(message, parsed.path, missing[0], key)
        raise InputError(f"row {missing[0]}: {message}", parsed.path, column=key)
    return con.sql(
        f"""
        SELECT i.image_idx, f.pred::SMALLINT AS pred{extra}
        FROM _pred_file f JOIN images i ON i.dataset_id = $images AND i.{key} = f.{key}
        """,
        params={"images": images},
    ).to_arrow_table()
