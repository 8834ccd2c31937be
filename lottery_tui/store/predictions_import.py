"""Importer for per-image predictions: CSV or Parquet, one row per image.

Columns (by name, or by position in a CSV without a header, like analysing-relations' files):
image id (`image_id`, `file_name`, `filename`, `image`, `path`) or `image_idx`; predicted class
(`pred`, `predicted_class`, `prediction`); optional `label` (else the dataset's labels are used);
optional `top5` (Parquet list column). Classes are 0-based indices (ImageNet: sorted-wnid order).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import (
    MAX_INPUT_BYTES,
    InputBytes,
    check_printable,
    read_input,
)
from lottery_tui.store.datasets import image_dataset, known_dataset_ids
from lottery_tui.store.import_records import (
    PriorImport,
    add_imports,
    matching,
    predictions_options,
    prior_imports,
)
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.outcome import ImportOutcome
from lottery_tui.store.predictions import PredictionBatch, replace_predictions
from lottery_tui.store.predictions_csv_import import (
    INT64_MAX,
    NARROW,
    pick_columns,
    read_predictions_csv,
)
from lottery_tui.store.query import first_row, registered
from lottery_tui.store.sources import add_file_sources, check_source_name

MAX_CLASS = 32767
ROWS_PER_WRITE = 2_000_000  # rows of a manifest's files looked up and written together
CONTROL_CHARACTER = r"[\x{00}-\x{1f}\x{7f}-\x{9f}]"  # Unicode category Cc, in RE2's syntax


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
    """Read once: the rows parsed are those of the bytes hashed."""
    source = read_input(path)
    if path.suffix.lower() == ".parquet":
        table, where = _read_parquet(source), "row"
    else:
        table, where = read_predictions_csv(source), "line"
    _check_values(table, path, where)
    table = _narrow(table)
    key = "image_id" if "image_id" in table.column_names else "image_idx"
    return PredictionFile(path, source.sha256, table, key, "label" in table.column_names)


def _narrow(table: pa.Table) -> pa.Table:
    """Checked values in the widths they are stored in: a manifest holds every file's table
    until its one transaction, so each byte per row counts (25 M rows for 500 files)."""
    for name, kind in NARROW.items():
        if name in table.column_names:
            index = table.column_names.index(name)
            table = table.set_column(index, name, table.column(name).cast(kind))
    if "top5" in table.column_names:
        index = table.column_names.index("top5")
        table = table.set_column(index, "top5", table.column("top5").cast(pa.list_(pa.int16())))
    return table


@dataclass(frozen=True)
class PredictionImport:
    """One file to import as one model's predictions on one dataset."""

    parsed: PredictionFile
    model: str
    dataset: str


def write_prediction_files(
    con: duckdb.DuckDBPyConnection,
    files: list[PredictionImport],
    *,
    source_name: str = "import",
    file_labels_win: bool = False,
) -> list[ImportOutcome]:
    """Check every file, then write their sources and models in one statement each and each
    dataset's predictions in one replace per group of files (`_groups`): a manifest of many
    files costs about one bulk ingest, not one per file. A file already imported with the
    same source and options (model, dataset, --file-labels-win) is skipped; the same bytes
    still holding another model's predictions on the dataset are refused (identical
    predictions are not a second model)."""
    check_source_name(source_name)
    for item in files:
        check_printable(item.model, "model name")
    options = [predictions_options(i.model, i.dataset, file_labels_win) for i in files]
    records = prior_imports(con, [item.parsed.sha256 for item in files])
    found = matching(
        records, source_name, [(i.parsed.sha256, o) for i, o in zip(files, options, strict=True)]
    )
    holders = _imported_as(records)
    todo: list[PredictionImport] = []
    for item, prior in zip(files, found, strict=True):
        if prior is not None:
            continue
        sha = item.parsed.sha256
        other = next(
            (h for h in holders.get(sha, []) if h[2] == item.dataset and h[1] != item.model),
            None,
        )
        if other is not None:
            raise InputError(
                f"the same file (same sha256) was already imported as model "
                f"{other[0] + ':' + other[1]!r} on {other[2]!r}; identical predictions cannot also "
                f"be model {source_name + ':' + item.model!r} on {item.dataset!r}",
                item.parsed.path,
            )
        holders.setdefault(sha, []).append((source_name, item.model, item.dataset))
        todo.append(item)
    by_dataset: dict[str, list[PredictionImport]] = {}
    for item in todo:
        by_dataset.setdefault(item.dataset, []).append(item)
    sources = add_file_sources(
        con,
        name=source_name,
        kind="import",
        files=[(str(item.parsed.path), item.parsed.sha256) for item in todo],
        config=[
            {"format": "predictions", "model": item.model, "dataset": item.dataset} for item in todo
        ],
    )
    source_of = {id(item): sources[str(item.parsed.path)] for item in todo}
    add_imports(
        con,
        [
            (
                source_of[id(item)],
                predictions_options(item.model, item.dataset, file_labels_win),
                item.parsed.table.num_rows,
            )
            for item in todo
        ],
    )
    first = {item.model: item for item in reversed(todo)}
    model_ids = ensure_models(
        con, [describe(model) for model in first], [source_of[id(i)] for i in first.values()]
    )
    written: set[str] = set()
    for dataset, items in by_dataset.items():
        for group in _groups(items):  # a bounded working set, whatever the number of files
            resolved = _resolve_images(con, group, file_labels_win)
            image_idx = dict(zip(map(id, group), resolved, strict=True))
            pairs = [(model_ids[item.model], source_of[id(item)]) for item in group]
            # models added by this command and not written yet (one on two datasets, e.g.
            # imagenet then imagenet-real, has rows from its first by the second)
            new = all(i.model in model_ids.added and i.model not in written for i in group)
            replace_predictions(con, dataset, _batch(group, image_idx, pairs, new))
            written.update(item.model for item in group)
    return [
        ImportOutcome(
            item.parsed.path,
            f"{item.parsed.table.num_rows} predictions of {item.model} on {item.dataset}",
            import_id=source_of.get(id(item)),
            skipped_as=prior,
        )
        for item, prior in zip(files, found, strict=True)
    ]


def _groups(items: list[PredictionImport]) -> list[list[PredictionImport]]:
    """Consecutive files of about ROWS_PER_WRITE rows together: each group is looked up and
    written as one bulk batch, so a manifest's memory beyond its parsed files stays bounded
    (a group of 40 ImageNet val files costs about what all 500 would per row)."""
    groups: list[list[PredictionImport]] = [[]]
    rows = 0
    for item in items:
        if groups[-1] and rows + item.parsed.table.num_rows > ROWS_PER_WRITE:
            groups.append([])
            rows = 0
        groups[-1].append(item)
        rows += item.parsed.table.num_rows
    return groups


def _imported_as(prior: list[PriorImport]) -> dict[str, list[tuple[str, str, str]]]:
    """sha256 -> (source, model, dataset) of each predictions import of those bytes that still
    holds its prediction set (a later import of the same model replaces it)."""
    holders: dict[str, list[tuple[str, str, str]]] = {}
    for record in prior:
        if record.holds_predictions and record.options.get("importer") == "predictions":
            model, dataset = record.options["model"], record.options["dataset"]
            holders.setdefault(record.sha256, []).append((record.source, model, dataset))
    return holders


def _resolve_images(
    con: duckdb.DuckDBPyConnection, items: list[PredictionImport], file_labels_win: bool
) -> list[pa.Array]:
    """Each file's image_idx on its (one) dataset, after its classes are checked; a new
    dataset takes its images from the first file. An unknown image, an image outside a -clean
    set's classes, a top-5 list of the wrong length, or a label disagreeing with the stored one
    (unless `file_labels_win`) is an error."""
    dataset = items[0].dataset
    row = first_row(
        con,
        "SELECT multi_label, n_classes, class_subset FROM datasets WHERE dataset_id = ?",
        [dataset],
    )
    if row is None:
        raise InputError(
            f"unknown dataset {dataset!r} (known: {', '.join(known_dataset_ids(con))}; "
            "add one with `lottery import dataset`)",
            items[0].parsed.path,
        )
    multi_label, n_classes, class_subset = row
    max_class = 1000 if class_subset else n_classes
    for item in items:
        for column in ("pred", "label"):
            if column in item.parsed.table.column_names:
                _check_below(item.parsed, column, max_class, _where(item.parsed))
    images = image_dataset(con, dataset)
    known = _known_images(con, images)
    if not known.num_rows:
        if multi_label or images != dataset:
            raise InputError(
                f"dataset {images!r} has no registered images; register them with "
                f"`lottery import dataset {images} --labels FILE`",
                items[0].parsed.path,
            )
        _register_images_from_file(con, items[0].parsed, dataset)
        known = _known_images(con, images)
    subset = None
    if class_subset and images != dataset:  # the -clean sets: val's images of 200 classes
        subset = pa.array(
            [r[0] for r in con.execute(
                "SELECT class_idx FROM class_subsets WHERE subset = ?", [class_subset]
            ).fetchall()], pa.int16(),
        )  # fmt: skip
    positions: dict[int, pa.Array] = {}
    for key, value_type in (("image_id", pa.string()), ("image_idx", pa.int64())):
        keyed = [item for item in items if item.parsed.key == key]
        if keyed:  # one lookup for all files: building its hash table is the costly part
            chunks = [c for i in keyed for c in i.parsed.table.column(key).cast(value_type).chunks]
            values = pa.chunked_array(chunks, value_type)  # ChunkedArrays would go via Python
            found = _positions(values, known.column(key).cast(value_type))
            ends = np.cumsum([i.parsed.table.num_rows for i in keyed]).tolist()
            for item, end in zip(keyed, ends, strict=True):
                n = item.parsed.table.num_rows
                positions[id(item)] = found.slice(end - n, n)
    for item in items:
        _check_top5_lengths(item.parsed, min(5, max_class))
        rows = positions[id(item)]
        _image_index(item.parsed, rows, images)  # every image known, else an error
        stored = pc.take(known.column("label"), rows)
        if subset is not None:
            _check_in_subset(item.parsed, stored, subset, dataset, class_subset)
        if "label" in item.parsed.table.column_names and not file_labels_win:
            _check_labels_agree(item.parsed, stored, dataset)
    return [pc.take(known.column("image_idx"), positions[id(i)]).combine_chunks() for i in items]


def _known_images(con: duckdb.DuckDBPyConnection, images: str) -> pa.Table:
    """The dataset's images (image_idx, image_id, label), in the order they are stored."""
    return con.sql(
        "SELECT image_idx, image_id, label FROM images WHERE dataset_id = ?",
        params=[images],
    ).to_arrow_table()


def _positions(values: pa.ChunkedArray, known: pa.ChunkedArray) -> pa.Array:
    """Each value's position in `known` (null where it is not there). A file listing every
    image of its dataset in the order they are stored (a full evaluation dump) maps row for
    row: one comparison instead of a hash table of every id."""
    if len(values) == len(known) and pc.all(pc.equal(values, known), skip_nulls=False).as_py():
        return pa.array(np.arange(len(values), dtype=np.int32))
    return pc.index_in(values, value_set=known)


def _check_in_subset(
    parsed: PredictionFile, stored: pa.ChunkedArray, subset: pa.Array, dataset: str, name: str
) -> None:
    """A -clean set holds only the val images of its 200 classes."""
    outside = pc.fill_null(pc.invert(pc.is_in(stored, value_set=subset)), False)
    _refuse_row(
        parsed, outside,
        lambda k: f"image {parsed.table[parsed.key][k].as_py()!r} (class {stored[k].as_py()}) "
        f"is not an image of {dataset!r}, which holds the images of the {len(subset)} classes "
        f"of {name!r}",
        parsed.key,
    )  # fmt: skip


def _check_labels_agree(parsed: PredictionFile, stored: pa.ChunkedArray, dataset: str) -> None:
    """A label column must say what the store says (a shuffled or differently indexed label
    column would silently score the model against other truths)."""
    labels = parsed.table["label"]
    differ = pc.fill_null(pc.not_equal(labels, stored), False)
    _refuse_row(
        parsed, differ,
        lambda k: f"label {labels[k].as_py()} of image {parsed.table[parsed.key][k].as_py()!r} "
        f"disagrees with dataset {dataset!r}'s label {stored[k].as_py()}; pass "
        "--file-labels-win to score this file against its own labels",
        "label",
    )  # fmt: skip


def _refuse_row(
    parsed: PredictionFile, mask: pa.ChunkedArray, message: Callable[[int], str], column: str
) -> None:
    """An error at the first row where `mask` holds, its message made from that row's index."""
    if not pc.any(mask).as_py():
        return
    first = pc.index(mask, True).as_py()
    line = parsed.table["line"][first].as_py()
    if _where(parsed) == "line":
        raise InputError(message(first), parsed.path, line, column)
    raise InputError(f"row {line}: {message(first)}", parsed.path, column=column)


def _check_top5_lengths(parsed: PredictionFile, expected: int) -> None:
    """Each given top-5 list holds min(5, classes) classes."""
    if "top5" not in parsed.table.column_names:
        return
    lengths = pc.list_value_length(parsed.table["top5"])
    _refuse_row(
        parsed, pc.fill_null(pc.not_equal(lengths, expected), False),
        lambda k: f"a top5 list of {lengths[k].as_py()} classes; lists must hold {expected}",
        "top5",
    )  # fmt: skip


def _image_index(parsed: PredictionFile, position: pa.ChunkedArray, images: str) -> None:
    """Every row's image is known (its position is not null), else an error at the first."""
    if position.null_count:
        key = parsed.key
        first = pc.index(pc.is_null(position), True).as_py()
        line, value = parsed.table.column("line")[first].as_py(), parsed.table[key][first].as_py()
        message = f"image {value!r} is not an image of dataset {images!r}"
        if _where(parsed) == "line":
            raise InputError(message, parsed.path, line, key)
        raise InputError(f"row {line}: {message}", parsed.path, column=key)


def _batch(
    items: list[PredictionImport],
    image_idx: dict[int, pa.Array],
    pairs: list[tuple[int, int]],
    new_models: bool,
) -> PredictionBatch:
    """One dataset's files as one batch, a pair (model, source) and a run of rows per file,
    built from the columns in hand (no regrouping of the rows)."""
    tables = [item.parsed.table for item in items]
    labels = None
    if any("label" in t.column_names for t in tables):
        labels = np.concatenate([
            pc.fill_null(t.column("label"), -1).to_numpy()
            if "label" in t.column_names else np.full(t.num_rows, -1, np.int16)
            for t in tables
        ])  # fmt: skip
    top5 = None
    if any("top5" in t.column_names for t in tables):
        kind = pa.list_(pa.int16())
        top5 = pa.concat_arrays([
            chunk for t in tables
            for chunk in (t.column("top5").chunks if "top5" in t.column_names
                          else [pa.nulls(t.num_rows, kind)])
        ])  # fmt: skip
    return PredictionBatch(
        pairs=pairs,
        lengths=[t.num_rows for t in tables],
        image_idx=np.concatenate([image_idx[id(item)].to_numpy() for item in items]),
        pred=np.concatenate([t.column("pred").to_numpy() for t in tables]),
        label=labels,
        top5=top5,
        new_models=new_models,
    )


def _where(parsed: PredictionFile) -> str:
    return "row" if parsed.path.suffix.lower() == ".parquet" else "line"


def _read_parquet(source: InputBytes) -> pa.Table:
    """Only the columns used are decoded, and the file is refused from its metadata, before
    any is, when they would expand past MAX_INPUT_BYTES (a small file of one repeated value
    can decode to gigabytes)."""
    path = source.path
    try:
        parquet = pq.ParquetFile(pa.BufferReader(source.data))
        names = parquet.schema_arrow.names
        wanted = [names[i] for i in pick_columns(names, path).values()]
        wanted += ["top5"] if "top5" in names else []
        decoded = _decoded_bytes(parquet.metadata, set(wanted))
        if decoded > MAX_INPUT_BYTES:
            raise InputError(
                f"its data would decode to about {decoded:,} bytes, over the limit of "
                f"{MAX_INPUT_BYTES:,} bytes for one input",
                path,
            )
        table = parquet.read(columns=wanted)
    except (pa.ArrowInvalid, OSError) as exc:
        raise InputError(f"not a readable Parquet file: {exc}", path) from None
    columns = pick_columns(table.column_names, path)
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
            out[name] = _to_int64(column, field.name, path)
    if "top5" in table.column_names:
        top5 = table.column("top5")
        if not (pa.types.is_list(top5.type) and pa.types.is_integer(top5.type.value_type)):
            raise InputError("column 'top5' must be a list of integers", path, column="top5")
        flat = pc.list_flatten(top5)
        if flat.null_count:
            parents = pc.list_parent_indices(top5)
            row = parents[pc.index(pc.is_null(flat), True).as_py()].as_py() + 1
            raise InputError(f"row {row}: a top5 list holds a null class", path, column="top5")
        if pa.types.is_uint64(top5.type.value_type) and len(flat):
            _to_int64(flat, "top5", path, rows=pc.list_parent_indices(top5))
        out["top5"] = top5.cast(pa.list_(pa.int64()))
    if table.num_rows == 0:
        raise InputError("no data rows", path)
    return pa.table(out)


_WIDTH = {"BOOLEAN": 1, "INT32": 4, "INT64": 8, "INT96": 12, "FLOAT": 4, "DOUBLE": 8}


def _decoded_bytes(meta: pq.FileMetaData, columns: set[str]) -> int:
    """What `columns` take once decoded, from the metadata alone: each value's width, and for
    text the larger of its encoded size and an offset plus the longest value the statistics
    show per value (a repeated long string is stored once but decoded for every row)."""
    total = 0
    for group in (meta.row_group(i) for i in range(meta.num_row_groups)):
        for index in range(group.num_columns):
            chunk = group.column(index)
            if chunk.path_in_schema.split(".")[0] not in columns:
                continue
            width = _WIDTH.get(chunk.physical_type)
            if chunk.physical_type == "FIXED_LEN_BYTE_ARRAY":
                width = meta.schema.column(index).length
            if width is not None:
                total += chunk.num_values * width
                continue
            stats = chunk.statistics
            longest = 0
            if stats is not None and stats.has_min_max:
                longest = max(len(_as_bytes(stats.min)), len(_as_bytes(stats.max)))
            total += max(chunk.total_uncompressed_size, chunk.num_values * (4 + longest))
    return total


def _as_bytes(value: object) -> bytes:
    return value.encode() if isinstance(value, str) else bytes(value)  # type: ignore[arg-type]


def _to_int64(
    column: pa.ChunkedArray | pa.Array, name: str, path: Path, rows: pa.Array | None = None
) -> pa.ChunkedArray | pa.Array:
    """As int64; an unsigned value beyond int64 is an error at its row (`rows`: each value's
    row index, for the values of a list column)."""
    if pa.types.is_uint64(column.type):
        beyond = pc.fill_null(pc.greater(column, pa.scalar(INT64_MAX, pa.uint64())), False)
        if pc.any(beyond).as_py():
            first = pc.index(beyond, True).as_py()
            row = (first if rows is None else rows[first].as_py()) + 1
            value = column[first].as_py()
            raise InputError(f"row {row}: {name} out of range: {value}", path, column=name)
    return column.cast(pa.int64())


def _check_values(table: pa.Table, path: Path, where: str) -> None:
    """Nulls, negative or too-large classes, duplicate images: reported at their line/row."""
    for name in ("image_id", "image_idx", "pred"):
        if name in table.column_names and table.column(name).null_count:
            _fail_at(table, pc.is_null(table.column(name)), f"missing {name}", path, where, name)
    if "image_id" in table.column_names and _may_hold_control(table.column("image_id")):
        unsafe = pc.match_substring_regex(table.column("image_id"), CONTROL_CHARACTER)
        _fail_at(table, unsafe, "image id contains a control character", path, where, "image_id")
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
    if not _distinct(keys):
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


def _distinct(keys: pa.ChunkedArray) -> bool:
    """Whether no key repeats (keys hold no nulls). Keys in strictly increasing order (files
    usually are sorted) are distinct by one comparison of neighbours, with no hash table; else
    unique (about 2.5x faster than count_distinct) counts them."""
    if len(keys) > 1 and pc.all(pc.less(keys[:-1], keys[1:]), skip_nulls=False).as_py():
        return True
    return len(pc.unique(keys)) == len(keys)


def _may_hold_control(column: pa.ChunkedArray) -> bool:
    """Whether a string column's bytes hold a byte that can start a control character (C0,
    DEL, or 0xC2 leading a C1 in UTF-8): one scan of the raw bytes, so the exact regex runs
    only when one does (a false alarm from bytes outside the values only costs the regex)."""
    for chunk in column.chunks:
        data = chunk.buffers()[2]
        if data is None:
            continue
        raw = np.frombuffer(data, np.uint8)
        if not len(raw) or (raw.min() >= 0x20 and raw.max() < 0x7F):
            continue  # printable ASCII: two reductions, no mask
        if np.any((raw < 0x20) | (raw == 0x7F) | (raw == 0xC2)):
            return True
    return False


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
    with registered(con, "_pred_file", parsed.table):
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
