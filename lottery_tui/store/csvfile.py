"""Strict CSV reading for importers: each problem is one InputError naming file, line, column."""

from __future__ import annotations

import csv
import hashlib
import io
import math
import os
import unicodedata
from collections.abc import Hashable, Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TypeVar

import numpy as np

from lottery_tui.errors import InputError
from lottery_tui.store.input_files import non_regular_kind, require_utf8_name

# An input is read into memory once (its sha256 is of the bytes parsed), so its size is capped
# before it is read; a line longer than any real results file has is refused before it is split.
MAX_INPUT_BYTES = 1 << 30
MAX_LINE_BYTES = 1 << 20


@dataclass(frozen=True)
class InputBytes:
    """A file's bytes as read once, and their sha256: what is parsed is what is hashed."""

    path: Path
    data: bytes
    sha256: str


@dataclass
class CsvRows:
    """A decoded CSV file: its header (if any) and data rows with their 1-based line numbers,
    and the sha256 of the bytes they were parsed from."""

    path: Path
    header: list[str]
    rows: list[tuple[int, list[str]]]
    sha256: str

    def column_index(self, name: str) -> int:
        return self.header.index(name)


def read_input(path: Path, *, max_bytes: int | None = None) -> InputBytes:
    """The whole file from one open handle, refused before reading when it is larger than
    `max_bytes` (default MAX_INPUT_BYTES; its size is taken from the handle, so a swap after the
    check cannot slip by)."""
    max_bytes = MAX_INPUT_BYTES if max_bytes is None else max_bytes
    require_utf8_name(path)
    kind = non_regular_kind(path)
    if kind is not None:  # a FIFO would block the read forever
        raise InputError(f"is {kind}, not a regular file", path)
    try:
        with open(path, "rb") as handle:
            size = os.fstat(handle.fileno()).st_size
            if size > max_bytes:
                raise InputError(
                    f"file is {size:,} bytes, over the limit of {max_bytes:,} bytes for one input",
                    path,
                )
            data = handle.read(max_bytes + 1)
    except FileNotFoundError:
        raise InputError("no such file", path) from None
    except IsADirectoryError:
        raise InputError("is a directory, not a file", path) from None
    except OSError as exc:
        raise InputError(f"cannot read: {exc.strerror}", path) from None
    if len(data) > max_bytes:  # it grew while being read
        raise InputError(f"file is over the limit of {max_bytes:,} bytes for one input", path)
    if data.isspace() or not data:  # isspace scans without copying
        raise InputError("file is empty", path)
    return InputBytes(path, data, hashlib.sha256(data).hexdigest())


def check_text_bytes(data: bytes, path: Path, *, max_line: int = MAX_LINE_BYTES) -> None:
    """Refuse UTF-16 text without a byte-order mark (it decodes as "UTF-8" with a NUL beside
    every ASCII character) and lines over `max_line` bytes, before the text is split into
    fields. A lone NUL is left to the field checks, which name its column."""
    if b"\0" in data[:2]:
        raise InputError(
            "looks like UTF-16 text without a byte-order mark (NUL bytes between the "
            "characters): save the file as UTF-8",
            path,
            1,
        )
    if len(data) <= max_line:
        return
    # A line over max_line bytes holds a whole aligned window of max_line // 2 bytes: where
    # every window holds a newline (a few searches that stop at once), no line is too long.
    window = max(1, max_line // 2)
    if all(
        data.find(b"\n", start, start + window) >= 0
        for start in range(0, len(data) - window + 1, window)
    ):
        return
    ends = np.flatnonzero(np.frombuffer(data, np.uint8) == ord("\n"))
    lengths = np.diff(ends, prepend=-1, append=len(data)) - 1  # each line, newline excluded
    long = np.flatnonzero(lengths > max_line)
    if len(long):
        raise InputError(f"line longer than {max_line:,} bytes", path, int(long[0]) + 1)


def decode_utf8(data: bytes, path: Path) -> str:
    """UTF-8 (a BOM is allowed); a bad byte is reported at its line and column."""
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line_start = data.rfind(b"\n", 0, exc.start) + 1
        raise InputError(
            f"not UTF-8 text: byte 0x{data[exc.start]:02x} cannot be decoded",
            path,
            data.count(b"\n", 0, exc.start) + 1,
            exc.start - line_start + 1,
        ) from None


def parse_csv(path: Path | InputBytes, *, header: bool = True) -> CsvRows:
    """Read a whole CSV (or parse bytes already read): same number of fields on every row,
    blank lines skipped."""
    source = path if isinstance(path, InputBytes) else read_input(path)
    path = source.path
    check_text_bytes(source.data, path)
    text = decode_utf8(source.data, path)
    reader = csv.reader(io.StringIO(text, newline=""), strict=True)
    rows: list[tuple[int, list[str]]] = []
    names: list[str] = []
    start = 1  # the line the record being read starts on (a quoted field may span lines)
    try:
        for fields in reader:
            line, start = start, reader.line_num + 1
            if not fields or all(not f.strip() for f in fields):
                continue
            if header and not names:
                names = [f.strip() for f in fields]
                check_header(names, path, line)
                continue
            rows.append((line, fields))
    except csv.Error as exc:
        raise InputError(f"malformed CSV: {exc}", path, start, _quote_field(text, start)) from None
    if not rows:
        raise InputError("no data rows", path)
    width = len(names) if header else len(rows[0][1])
    for line, fields in rows:
        if len(fields) != width:
            # The column where the row and the header part: the first missing or extra field.
            column = min(len(fields), width) + 1
            where = names[column - 1] if column <= len(names) else column
            raise InputError(f"expected {width} fields, found {len(fields)}", path, line, where)
    return CsvRows(path, names, rows, source.sha256)


def _quote_field(text: str, line: int) -> int | None:
    """The field (1-based) holding the first quote on `line`: where a bad quote opened."""
    lines = text.splitlines()
    if not 1 <= line <= len(lines) or '"' not in lines[line - 1]:
        return None
    raw = lines[line - 1]
    return raw[: raw.index('"')].count(",") + 1


def check_header(names: list[str], path: Path, line: int) -> None:
    seen: set[str] = set()
    for position, name in enumerate(names, start=1):
        if not name:
            raise InputError("empty column name in the header", path, line, position)
        check_printable(name, "column name", path, line, position)
        if name in seen:
            raise InputError(f"column {name!r} appears twice in the header", path, line, position)
        seen.add(name)


def require_columns(rows: CsvRows, required: tuple[str, ...]) -> None:
    missing = [name for name in required if name not in rows.header]
    if missing:
        raise InputError(
            f"missing column{'s' if len(missing) > 1 else ''} {', '.join(map(repr, missing))} "
            f"(header has {', '.join(rows.header)})",
            rows.path,
            1,
        )


def _plain(text: str) -> bool:
    """ASCII without `_`: Python's float() and int() also take `7_0` (70) and other scripts'
    digits (Arabic-Indic `٧` is 7), which no results file means as a number."""
    return text.isascii() and "_" not in text


def parse_float(text: str, path: Path, line: int, column: str, *, thousands: bool = False) -> float:
    """A finite number; `thousands` accepts timm's quoted "1,013.01"."""
    cleaned = text.strip().replace(",", "") if thousands else text.strip()
    try:
        if not _plain(cleaned):
            raise ValueError
        value = float(cleaned)
    except ValueError:
        raise InputError(f"not a number: {text!r}", path, line, column) from None
    if not math.isfinite(value):
        raise InputError(f"not a finite number: {text!r}", path, line, column)
    return value


def parse_int(text: str, path: Path, line: int, column: str) -> int:
    try:
        if not _plain(text):
            raise ValueError
        return int(text.strip())
    except ValueError:
        raise InputError(f"not an integer: {text!r}", path, line, column) from None


Key = TypeVar("Key", bound=Hashable)


def claim_first(
    first_line: dict[Key, int], key: Key, what: str, path: Path, line: int, column: str
) -> None:
    """One row per key in a file: remember the line of `key`'s row, or refuse a second one,
    naming the first."""
    if key in first_line:
        raise InputError(f"duplicate {what} (first on line {first_line[key]})", path, line, column)
    first_line[key] = line


def refuse_shared_keys(files: Sequence[tuple[Path, Iterable[tuple[Hashable, int, str]]]]) -> None:
    """Across the files of one command: a key (a model's result on a dataset) given by two of
    them is refused at the second, naming the first (which one should win is not ours to say)."""
    first: dict[Hashable, tuple[Path, int]] = {}
    for path, keys in files:
        for key, line, what in keys:
            if key in first:
                other, other_line = first[key]
                raise InputError(
                    f"{what} is also given by {other}, line {other_line}: give each result "
                    "in one file of a command",
                    path,
                    line,
                    "model",
                )
            first[key] = (path, line)  # a file's own keys are distinct (claim_first)


def check_printable(
    value: str,
    what: str,
    path: Path | None = None,
    line: int | None = None,
    column: str | int | None = None,
) -> None:
    """Names are shown in terminals: a control character (an ANSI or OSC escape, NUL, a
    newline) could rewrite the screen or the clipboard, so it is refused."""
    for char in value:
        if unicodedata.category(char) == "Cc":
            raise InputError(
                f"{what} {value!r} contains the control character U+{ord(char):04X}",
                path,
                line,
                column,
            )
