"""Where run directories live: `--results-dir`, then `$LOTTERY_RESULTS`, then `<store dir>/runs/`.

Next to the store by default, so one `--db` on a shared filesystem is enough for a login node and
the compute nodes to agree on where results go.
"""

from __future__ import annotations

import os
from pathlib import Path

from lottery_tui.store.paths import resolve_db_path

RESULTS_ENV = "LOTTERY_RESULTS"


def resolve_results_dir(
    results_dir: str | os.PathLike[str] | None = None,
    db: str | os.PathLike[str] | None = None,
) -> Path:
    """The results folder holding one directory per probe run (created on first launch)."""
    if results_dir is not None and str(results_dir) != "":
        return Path(results_dir).expanduser().resolve()
    env = os.environ.get(RESULTS_ENV)
    if env:
        return Path(env).expanduser().resolve()
    return resolve_db_path(db).resolve().parent / "runs"
