"""Per-image predictions from CSV: read with pyarrow's CSV reader and vectorised checks when the
file is plain, else (or on any doubt) row by row, which gives every error its line and column.

Header optional: a first row whose second field is an integer is data, not a header. The fast
path takes a file only when each row is one line (no quotes but in the header, no blank lines,
`\n` or `\r\n` endings), so a row's line is its index plus the header's; ASCII only and no
control bytes, so trimming means what Python's `str.strip` means; and every value passes the
checks the slow path makes. Anything else goes to the slow path, which either accepts the file
(with the same table) or raises its error at the exact line and column.
"""

from __future__ import annotations

import codecs
import csv
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import (
    InputBytes,
    check_header,
    check_text_bytes,
    parse_csv,
    parse_int,
)

ID_COLUMNS = ("image_id", "file_name", "filename", "image", "path")
PRED_COLUMNS = ("pred", "predicted_class", "prediction")
LABEL_COLUMNS = ("label", "target")
INT64_MIN, INT64_MAX = -(2**63), 2**63 - 1


# The widths values are stored in: a value beyond one (a class over 32767) fails Arrow's reading
# and is left to the slow path, which reads int64 and reports it out of range.
NARROW = {"pred": pa.int16(), "label": pa.int16(), "image_idx": pa.int32()}


def read_predictions_csv(source: InputBytes) -> pa.Table:
    """Columns line (int32), image_id (string) or image_idx, pred, optional label (null where
    empty): integers, int64 from the slow path and NARROW's widths from the fast one."""
    check_text_bytes(source.data, source.path)  # UTF-16, over-long lines: before any parsing
    table = _read_fast(source)
    return table if table is not None else _read_slowly(source)


def _is_data_row(fields: list[str]) -> bool:
    return len(fields) > 1 and fields[1].strip().lstrip("-").isdigit()


def _read_fast(source: InputBytes) -> pa.Table | None:
    """The table, or None where the slow path must decide."""
    data = source.data
    if data.startswith(codecs.BOM_UTF8):
        data = data[len(codecs.BOM_UTF8) :]
    end = data.find(b"\n")
    body_start = len(data) if end < 0 else end + 1
    if not data.isascii() or data.find(b'"', body_start) >= 0 or b"\x7f" in data:
        return None  # quotes are read only in the header (pyarrow's writer quotes its names)
    newlines = data.count(b"\n")
    returns = data.count(b"\r") if b"\r" in data else 0  # `in` stops at the first
    if returns and returns != data.count(b"\r\n"):
        return None
    if np.count_nonzero(np.frombuffer(data, np.uint8) < 0x20) != newlines + returns:
        return None  # a control byte other than the line ends
    try:
        first = next(csv.reader([data[:body_start].rstrip(b"\r\n").decode("ascii")], strict=True))
    except csv.Error:
        return None
    has_header = not _is_data_row(first)
    if has_header:
        header = [name.strip() for name in first]
        try:
            check_header(header, source.path, 1)
            columns = pick_columns(header, source.path)
        except InputError:
            return None
    elif len(first) in (2, 3):
        columns = dict(zip(("image_id", "pred", "label"), range(len(first)), strict=False))
    else:
        return None
    names = [f"c{i}" for i in range(len(first))]
    kinds = dict.fromkeys(names, pa.string())
    for name, index in columns.items():
        if name != "image_id":  # Arrow's integers: ASCII digits, no spaces (else the slow path)
            kinds[names[index]] = NARROW[name]
    try:
        raw = pacsv.read_csv(
            pa.BufferReader(data),
            read_options=pacsv.ReadOptions(column_names=names, skip_rows=int(has_header)),
            parse_options=pacsv.ParseOptions(quote_char=False, ignore_empty_lines=False),
            convert_options=pacsv.ConvertOptions(
                column_types=kinds, strings_can_be_null=False, null_values=[""]
            ),
        )
    except pa.ArrowInvalid:  # a row of another width, a value that is not an integer, ...
        return None
    lines = newlines + (not data.endswith(b"\n"))
    if raw.num_rows == 0 or lines != raw.num_rows + has_header:
        return None
    first_line = 1 + int(has_header)
    out: dict[str, pa.Array] = {
        "line": pa.array(np.arange(first_line, first_line + raw.num_rows, dtype=np.int32))
    }
    for name, index in columns.items():
        values = raw.column(index)
        if name == "image_id":
            if b" " in data:  # else there is nothing to trim
                values = pc.ascii_trim_whitespace(values)
            if not pc.all(pc.greater(pc.binary_length(values), 0)).as_py():
                return None
        elif name != "label" and values.null_count:  # an empty class: the slow path says where
            return None
        out[name] = values
    return pa.table(out)


def _read_slowly(source: InputBytes) -> pa.Table:
    """Row by row with Python's csv module: every file it accepts, and the exact line and
    column of every error."""
    path = source.path
    rows = parse_csv(source, header=False)
    first = rows.rows[0][1]
    has_header = not _is_data_row(first)
    if has_header:
        header = [name.strip() for name in first]
        check_header(header, path, rows.rows[0][0])  # empty, duplicated or unprintable names
        body = rows.rows[1:]
        if not body:
            raise InputError("no data rows", path)
        columns = pick_columns(header, path)
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
                column = header[index] if has_header else name
                number = parse_int(value, path, line, column)
                if not INT64_MIN <= number <= INT64_MAX:
                    raise InputError(f"{name} out of range: {value!r}", path, line, column)
                ints.append(number)
            data[name] = pa.array(ints, pa.int64())
    return pa.table(data)


def pick_columns(header: list[str], path: Path) -> dict[str, int]:
    """Header position of each column used, by the names they may have."""
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
