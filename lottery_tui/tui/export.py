"""Writing a table the explorer shows to CSV, Markdown or Parquet, and text for the clipboard."""

from __future__ import annotations

import contextlib
import os
import tempfile
from collections.abc import Sequence
from pathlib import Path

import pyarrow as pa

from lottery_tui.errors import InputError
from lottery_tui.store.file_access import export_target, place_new

FORMATS = {".csv": "CSV", ".md": "Markdown", ".parquet": "Parquet"}


def export_table(table: pa.Table, path: str | os.PathLike[str]) -> Path:
    """Write `table` in the format its suffix names; the file appears whole or not at all,
    with the permissions any new file gets (the umask's), at the absolute path returned."""
    target = export_target(path)
    suffix = target.suffix.lower()
    if suffix not in FORMATS:
        known = ", ".join(FORMATS)
        raise InputError(f"unknown export format {suffix or '(none)'!r}; use {known}", target)
    if not target.parent.is_dir():
        raise InputError("folder does not exist", target.parent)
    fd, tmp = tempfile.mkstemp(prefix=f".{target.name}.", dir=target.parent)
    os.close(fd)
    try:
        if suffix == ".csv":
            import pyarrow.csv as pa_csv

            pa_csv.write_csv(table, tmp)
        elif suffix == ".parquet":
            import pyarrow.parquet as pq

            pq.write_table(table, tmp)
        else:
            Path(tmp).write_text(to_markdown(table), encoding="utf-8")
        os.chmod(tmp, 0o666 & ~current_umask())  # mkstemp makes it 0600
        place_new(tmp, target)
    except BaseException:
        with contextlib.suppress(FileNotFoundError):
            os.unlink(tmp)
        raise
    return target


def current_umask() -> int:
    """The process's umask: from /proc where it can be read without changing it (threads
    may be creating files), else set and straight back."""
    with contextlib.suppress(OSError, ValueError):
        for line in Path("/proc/self/status").read_text().splitlines():
            if line.startswith("Umask:"):
                return int(line.split()[1], 8)
    mask = os.umask(0o022)
    os.umask(mask)
    return mask


def _cell(value: object) -> str:
    if value is None:
        return ""
    if isinstance(value, float):
        return f"{value:g}"
    return str(value)


def to_markdown(table: pa.Table) -> str:
    """A GitHub-flavoured Markdown table (pipes in cells escaped)."""
    header = [name.replace("|", "\\|") for name in table.column_names]
    lines = ["| " + " | ".join(header) + " |", "|" + "---|" * len(header)]
    for row in table.to_pylist():
        cells = (_cell(v).replace("|", "\\|").replace("\n", " ") for v in row.values())
        lines.append("| " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def to_tsv(header: Sequence[str] | None, rows: Sequence[Sequence[object]]) -> str:
    """Tab-separated text for the clipboard: pastes into spreadsheets as cells."""
    lines = ["\t".join(header)] if header else []
    lines += ["\t".join(_cell(v) for v in row) for row in rows]
    return "\n".join(lines)
