"""Imports as records: one `imports` row per imported file, which `lottery imports` lists and
`lottery imports remove ID` takes back.

A record is keyed by its `sources` row (which holds the file, its sha256, the source name and
the time) and adds the options the command was given and the rows it wrote. The same bytes are
skipped only when imported before with the same source name and the same options: under another
`--map`, `--scale`, `--dataset`, `--model` or `--source` they mean something else, and import.
"""

from __future__ import annotations

import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from lottery_tui.errors import InputError
from lottery_tui.store.query import first_row

Options = dict[str, object]


def timm_options(dataset: str, scale: str | None) -> Options:
    return {"importer": "timm", "dataset": dataset, "scale": scale}


def results_options(mapping: Mapping[str, str], skip_unmapped: bool, scale: str | None) -> Options:
    return {
        "importer": "results",
        "map": dict(sorted(mapping.items())),
        "skip_unmapped": skip_unmapped,
        "scale": scale,
    }


def predictions_options(model: str, dataset: str, file_labels_win: bool) -> Options:
    return {
        "importer": "predictions",
        "model": model,
        "dataset": dataset,
        "file_labels_win": file_labels_win,
    }


@dataclass(frozen=True)
class PriorImport:
    """An import record of bytes being imported (again)."""

    sha256: str
    source: str
    import_id: int
    options: Options
    holds_predictions: bool  # prediction sets of this import are still in the store


def prior_imports(con: duckdb.DuckDBPyConnection, sha256: Sequence[str]) -> list[PriorImport]:
    """Every import record of these bytes, under any source, oldest first, in one query (a
    manifest has hundreds of files)."""
    rows = con.execute(
        """
        SELECT s.sha256, s.name, i.source_id, i.options,
               EXISTS (SELECT 1 FROM prediction_sets p WHERE p.source_id = i.source_id)
        FROM imports i JOIN sources s USING (source_id)
        WHERE list_contains($sha, s.sha256) ORDER BY i.source_id
        """,
        {"sha": sorted(set(sha256))},
    ).fetchall()
    return [
        PriorImport(sha, name, int(import_id), json.loads(text), bool(holds))
        for sha, name, import_id, text, holds in rows
    ]


def matching(
    prior: Sequence[PriorImport], source: str, files: Sequence[tuple[str, Options]]
) -> list[int | None]:
    """For each (sha256, options), the id of an import of those bytes under this source name
    with those options, if any; options are compared as values, so key order and spacing do
    not matter."""
    return [
        next(
            (
                p.import_id
                for p in prior
                if p.sha256 == sha and p.source == source and p.options == options
            ),
            None,
        )
        for sha, options in files
    ]


def find_import(
    con: duckdb.DuckDBPyConnection, sha256: str, source: str, options: Options
) -> int | None:
    """The id of an import of these bytes under this source name with these options, if any."""
    return matching(prior_imports(con, [sha256]), source, [(sha256, options)])[0]


def add_imports(
    con: duckdb.DuckDBPyConnection, records: Sequence[tuple[int, Options, int]]
) -> None:
    """The records (source id, options, rows) of imported files, in one statement."""
    if not records:
        return
    con.execute(
        "INSERT INTO imports SELECT unnest($ids), unnest($options), unnest($rows)",
        {
            "ids": [source_id for source_id, _, _ in records],
            "options": [json.dumps(options, sort_keys=True) for _, options, _ in records],
            "rows": [rows for _, _, rows in records],
        },
    )


def imports_table(con: duckdb.DuckDBPyConnection) -> pa.Table:
    """Every import, oldest first, as `lottery imports` lists it; `kind` is 'import' (a
    command) or 'seed' (the shipped data)."""
    return con.sql(
        """
        SELECT i.source_id AS id, s.path AS file, s.sha256, s.name AS source, s.kind,
               i.options::VARCHAR AS options, i.rows, s.created_at AS time
        FROM imports i JOIN sources s USING (source_id)
        ORDER BY i.source_id
        """
    ).to_arrow_table()


@dataclass(frozen=True)
class Removal:
    """What `remove_import` took out."""

    file: str
    source: str
    results: int  # aggregate_results rows
    predictions: int  # prediction_rows rows (with those derived from them, e.g. ReaL's)
    models: list[str]  # models left with no rows, removed


def remove_import(con: duckdb.DuckDBPyConnection, import_id: int) -> Removal:
    """Take one import back inside the caller's transaction: its results, its prediction sets
    (and the sets derived from them, which carry its source), its sources row and record, and
    the models left with no rows. Values it replaced when it was imported do not come back.
    A model still holding rows that named this import as its first source names its earliest
    remaining one instead."""
    record = first_row(
        con,
        "SELECT s.path, s.name FROM imports i JOIN sources s USING (source_id) "
        "WHERE i.source_id = ?",
        [import_id],
    )
    if record is None:
        raise InputError(f"no import with id {import_id} (`lottery imports` lists them)")
    touched = [
        row[0]
        for row in con.execute(
            """
            SELECT model_id FROM aggregate_results WHERE source_id = $s
            UNION SELECT model_id FROM prediction_sets WHERE source_id = $s
            UNION SELECT model_id FROM models WHERE source_id = $s
            """,
            {"s": import_id},
        ).fetchall()
    ]
    sets = [r[0] for r in con.execute(
        "SELECT set_id FROM prediction_sets WHERE source_id = ?", [import_id]
    ).fetchall()]  # fmt: skip
    row = first_row(
        con, "SELECT count(*) FROM prediction_rows WHERE list_contains(?, set_id)", [sets]
    )
    predictions = int(row[0]) if row else 0
    for table in ("prediction_rows", "prediction_top5", "prediction_sets"):
        con.execute(f"DELETE FROM {table} WHERE list_contains(?, set_id)", [sets])
    deleted = con.execute(
        "DELETE FROM aggregate_results WHERE source_id = ? RETURNING 1", [import_id]
    ).fetchall()
    # The models of this import that hold no rows any more go; the others keep a provenance.
    con.execute(
        """
        CREATE OR REPLACE TEMP TABLE _remaining AS
        SELECT m.model_id,
               (SELECT min(source_id) FROM (
                    SELECT source_id FROM aggregate_results a WHERE a.model_id = m.model_id
                    UNION ALL
                    SELECT source_id FROM prediction_sets p WHERE p.model_id = m.model_id
               )) AS first_source
        FROM models m WHERE list_contains($touched, m.model_id)
        """,
        {"touched": touched},
    )
    gone = [
        (model_id, name)
        for model_id, name in con.execute(
            "SELECT model_id, name FROM models JOIN _remaining USING (model_id) "
            "WHERE first_source IS NULL ORDER BY name"
        ).fetchall()
    ]
    gone_ids = [model_id for model_id, _ in gone]
    con.execute("UPDATE models SET same_as = NULL WHERE list_contains(?, same_as)", [gone_ids])
    con.execute("DELETE FROM models WHERE list_contains(?, model_id)", [gone_ids])
    con.execute(
        """
        UPDATE models SET source_id = r.first_source FROM _remaining r
        WHERE models.model_id = r.model_id AND models.source_id = $s
        """,
        {"s": import_id},
    )
    con.execute("DROP TABLE _remaining")
    con.execute("DELETE FROM imports WHERE source_id = ?", [import_id])
    con.execute("DELETE FROM sources WHERE source_id = ?", [import_id])
    return Removal(record[0], record[1], len(deleted), predictions, [name for _, name in gone])
