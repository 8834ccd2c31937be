"""File access of a served explorer (`lottery serve`): none, except new files in one folder.

Whoever reaches the served page acts as the serving user, so the served explorer must not read
the user's files (DuckDB's `read_text`/`read_csv` in the SQL view) nor write over them (the
export dialog). `lottery serve` names the one folder exports go to in `SERVED_FOLDER_ENV`; the
explorer it starts inherits it, and then the console turns DuckDB's file access off
(`sql_policy.open_console`) and exports go through `export_target` and `place_new`.
"""

from __future__ import annotations

import os
from pathlib import Path

from lottery_tui.errors import InputError

SERVED_FOLDER_ENV = "LOTTERY_SERVED_EXPORT_FOLDER"


def served_folder() -> Path | None:
    """The export folder of a served explorer; None when not served (full file access)."""
    value = os.environ.get(SERVED_FOLDER_ENV)
    return Path(value) if value else None


def check_may_read(path: str | os.PathLike[str]) -> None:
    """Refuse reading the user's file `path` (a run plan, say) in a served explorer."""
    if served_folder() is not None:
        raise InputError("a served explorer reads no files; use the command line for this", path)


def export_target(name: str | os.PathLike[str]) -> Path:
    """Where an export named `name` goes: as given when not served; when served, a plain file
    name inside the served folder that does not exist yet (anything else is refused)."""
    folder = served_folder()
    if folder is None:
        return Path(name).expanduser().absolute()
    text = os.fspath(name)
    if not text or "/" in text or text in (".", "..") or "\0" in text:
        raise InputError(
            f"a served explorer exports only to a plain file name in {folder}", text or "(empty)"
        )
    target = folder / text
    if os.path.lexists(target):
        raise InputError("exists already; a served explorer never overwrites a file", target)
    return target


def place_new(tmp: str | os.PathLike[str], target: Path) -> None:
    """Move the finished file `tmp` to `target`: when served, only if `target` does not exist
    at that instant (a hard link fails on an existing name), else replacing it."""
    if served_folder() is None:
        os.replace(tmp, target)
        return
    try:
        os.link(tmp, target)
    except FileExistsError:
        raise InputError(
            "exists already; a served explorer never overwrites a file", target
        ) from None
    os.unlink(tmp)
