"""Where the store and the shipped data live."""

from __future__ import annotations

import os
from pathlib import Path

DEFAULT_DB_NAME = "results.duckdb"


def resolve_db_path(db: str | os.PathLike[str] | None = None) -> Path:
    """The store to use: `--db`, then `$LOTTERY_DB`, then the per-user data directory.

    The per-user default lets a newcomer run `lottery` from any directory and find the same store.
    """
    if db is not None and str(db) != "":
        return Path(db).expanduser()
    env = os.environ.get("LOTTERY_DB")
    if env:
        return Path(env).expanduser()
    return default_db_path()


def default_db_path() -> Path:
    """The per-user store: the only one whose missing folders are created (an explicit path in a
    folder that vanished is refused instead of silently replaced by a fresh store)."""
    from platformdirs import user_data_dir

    return Path(user_data_dir("lottery-tui")) / DEFAULT_DB_NAME


def data_dir() -> Path:
    """The repository's `data/` folder (shipped results, labels, class lists).

    The package is installed editable (`pip install -e .`), so `data/` is found next to
    `lottery_tui/` in the repository root rather than inside the installed package.
    """
    return Path(__file__).resolve().parents[2] / "data"
