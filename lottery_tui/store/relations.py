"""The store's tables and views with their columns, for the SQL view's browser.

Read from DuckDB's catalog functions, so the list follows the schema (and any migration) by itself.
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

PUBLIC_VIEWS = ("results", "predictions")
"""The stable SQL interface (docs/architecture.md); listed first, everything else is internal."""

_RELATIONS_SQL = """
SELECT c.table_name, coalesce(v.view_name IS NOT NULL, false) AS is_view,
       c.column_name, c.data_type
FROM duckdb_columns() AS c
LEFT JOIN duckdb_views() AS v
  ON v.database_name = c.database_name AND v.schema_name = c.schema_name
 AND v.view_name = c.table_name
WHERE c.database_name = current_database() AND c.schema_name = 'main' AND NOT c.internal
ORDER BY c.table_name, c.column_index
"""


@dataclass(frozen=True)
class Column:
    name: str
    type: str


@dataclass(frozen=True)
class Relation:
    """A table or view: its name, which kind, and its columns in their declared order."""

    name: str
    is_view: bool
    columns: tuple[Column, ...]

    @property
    def public(self) -> bool:
        return self.name in PUBLIC_VIEWS


def list_relations(con: duckdb.DuckDBPyConnection) -> list[Relation]:
    """Every table and view of the store: the public views first, then by name."""
    grouped: dict[str, tuple[bool, list[Column]]] = {}
    for table, is_view, column, data_type in con.execute(_RELATIONS_SQL).fetchall():
        grouped.setdefault(table, (bool(is_view), []))[1].append(Column(column, data_type))
    relations = [Relation(name, view, tuple(cols)) for name, (view, cols) in grouped.items()]
    return sorted(relations, key=lambda r: (not r.public, r.name))
