"""Provenance: one `sources` row per imported file (with its sha256) or probe shard; an
imported file's record (options, rows) is in `imports` (store/import_records.py)."""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from pathlib import Path

import duckdb

from lottery_tui.errors import InputError
from lottery_tui.store.csvfile import check_printable
from lottery_tui.store.query import first_row


def sha256_file(path: Path) -> str:
    digest = hashlib.sha256()
    with open(path, "rb") as handle:
        for block in iter(lambda: handle.read(1 << 20), b""):
            digest.update(block)
    return digest.hexdigest()


def known_checksums(con: duckdb.DuckDBPyConnection, checksums: Sequence[str]) -> set[str]:
    """Those of `checksums` already in `sources` (probe shards: each is ingested once)."""
    rows = con.execute(
        "SELECT sha256 FROM sources WHERE list_contains(?, sha256)", [list(checksums)]
    ).fetchall()
    return {row[0] for row in rows}


def check_source_name(name: str) -> None:
    """A source name is shown and filtered on (`--source`): printable, and not blank."""
    if not name.strip():
        raise InputError(f"empty source name {name!r}: give --source a name")
    check_printable(name, "source name")


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
    check_source_name(name)
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


def add_file_sources(
    con: duckdb.DuckDBPyConnection,
    *,
    name: str,
    kind: str,
    files: Sequence[tuple[str, str]],
    config: dict[str, object] | Sequence[dict[str, object]],
) -> dict[str, int]:
    """One row per (path, sha256) with a shared config or one per file, in one statement (a
    bulk seed or manifest adds many; one INSERT each costs more than the predictions' checks);
    path -> source_id."""
    check_source_name(name)
    configs = [config] * len(files) if isinstance(config, dict) else list(config)
    rows = con.execute(
        """
        INSERT INTO sources (name, kind, path, sha256, config)
        SELECT $name, $kind, unnest($paths), unnest($sha256), unnest($config)
        RETURNING path, source_id
        """,
        {
            "name": name,
            "kind": kind,
            "paths": [path for path, _ in files],
            "sha256": [sha for _, sha in files],
            "config": [json.dumps(c) for c in configs],
        },
    ).fetchall()
    return {path: int(source_id) for path, source_id in rows}
