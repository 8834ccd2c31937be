"""A manifest of per-image prediction files: CSV `file,model,dataset`, one file per line.

Paths are relative to the manifest's folder. All files go in with one command and one
transaction (`lottery import predictions --manifest FILE`).
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import check_printable, claim_first, parse_csv, require_columns
from lottery_tui.store.input_files import non_regular_kind

COLUMNS = ("file", "model", "dataset")


@dataclass(frozen=True)
class ManifestEntry:
    line: int
    file: Path
    model: str
    dataset: str


def parse_manifest(path: Path) -> list[ManifestEntry]:
    """Every line names an existing file, and each (model, dataset) and file appears once."""
    rows = parse_csv(path)
    require_columns(rows, COLUMNS)
    for position, name in enumerate(rows.header, start=1):
        if name not in COLUMNS:
            raise InputError(
                f"unknown column {name!r} (expected {', '.join(COLUMNS)})", path, 1, position
            )
    col = {name: rows.column_index(name) for name in COLUMNS}
    pairs: dict[tuple[str, str], int] = {}
    files: dict[Path, int] = {}
    entries: list[ManifestEntry] = []
    for line, fields in rows.rows:
        values = {name: fields[col[name]].strip() for name in COLUMNS}
        for name, value in values.items():
            if not value:
                raise InputError(f"empty {name}", path, line, name)
            check_printable(value, f"{name} name", path, line, name)
        try:
            file = (path.parent / values["file"]).resolve()
        except RuntimeError:  # pathlib's "Symlink loop"
            raise InputError(
                f"a symbolic link loop: {values['file']!r}", path, line, "file"
            ) from None
        kind = non_regular_kind(file) or (None if file.exists() else "no such file")
        if kind is not None:
            raise InputError(f"{kind}: {values['file']!r}", path, line, "file")
        model, dataset = values["model"], values["dataset"]
        claim_first(pairs, (model, dataset), f"model {model!r} on {dataset!r}", path, line, "model")
        claim_first(files, file, f"file {values['file']!r}", path, line, "file")
        entries.append(ManifestEntry(line, file, model, dataset))
    return entries
