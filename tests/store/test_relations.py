"""The SQL view's browser lists every table and view of the store with its columns, as DuckDB's
own DESCRIBE sees them, public views first; nothing from other schemas or temp tables."""

from __future__ import annotations

import duckdb

from lottery_tui.store.relations import PUBLIC_VIEWS, list_relations
from lottery_tui.store.schema import create_schema


def test_relations_follow_the_schema_public_views_first():
    con = duckdb.connect()
    create_schema(con)
    con.execute("CREATE TEMP TABLE scratch (x INTEGER)")
    con.execute("CREATE SCHEMA other; CREATE TABLE other.t (y INTEGER)")
    relations = list_relations(con)
    names = [r.name for r in relations]
    assert tuple(names[: len(PUBLIC_VIEWS)]) == tuple(sorted(PUBLIC_VIEWS))
    assert names[len(PUBLIC_VIEWS) :] == sorted(names[len(PUBLIC_VIEWS) :])
    expected = {
        row[0]: row[1]
        for row in con.execute(
            "SELECT table_name, table_type = 'VIEW' FROM information_schema.tables "
            "WHERE table_catalog = current_database() AND table_schema = 'main'"
        ).fetchall()
    }
    assert {r.name: r.is_view for r in relations} == expected
    assert "scratch" not in names and "t" not in names
    for relation in relations:
        described = con.execute(f'DESCRIBE "{relation.name}"').fetchall()
        assert [(c.name, c.type) for c in relation.columns] == [(d[0], d[1]) for d in described]
