"""Provenance: one `sources` row per imported file (with its sha256) or probe shard."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

import duckdb

from lottery_tui.store.query import first_row


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def already_imported(con: duckdb.DuckDBPyConnection, sha256: str) -> bool:
    """Importing the same bytes twice is a no-op: the checksum is UNIQUE in `sources`."""
    return first_row(con, "SELECT 1 FROM sources WHERE sha256 = ?", [sha256]) is not None


def add_source(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    kind: str,
    path: str | None = None,
    sha256: str | None = None,
    run_id: str | None = None,
    config: dict[str, object] | None = None,
) -> int:
    row = first_row(
        con,
        """
        INSERT INTO sources (name, kind, path, sha256, run_id, config)
        VALUES (?, ?, ?, ?, ?, ?) RETURNING source_id
        """,
        [name, kind, path, sha256, run_id, json.dumps(config) if config is not None else None],
    )
    assert row is not None
    return int(row[0])
