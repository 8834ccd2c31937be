"""Ad hoc SQL for the SQL view: the user's statements, checked by the store's SQL policy.

The explorer's own queries live in lottery_tui/store/explore.py and explore_charts.py.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

import duckdb
import pyarrow as pa

from lottery_tui.store.sql_policy import check_sql
from lottery_tui.tui.widgets.display import counted

SQL_FETCH_LIMIT = 10_000
"""Rows fetched from an ad hoc query; more are reported as "N of >N", never loaded."""


@dataclass(frozen=True)
class SqlResult:
    """An ad hoc query's outcome: rows (capped at the fetch limit) or a statement message."""

    table: pa.Table | None
    truncated: bool
    message: str
    seconds: float
    sql: str = ""


def run_sql(
    cur: duckdb.DuckDBPyConnection, sql: str, limit: int | None = SQL_FETCH_LIMIT
) -> SqlResult:
    """Run every statement; fetch at most `limit` rows of the last one (plus one to detect more;
    None: every row, for export)."""
    started = time.perf_counter()
    statements = check_sql(sql, console="the SQL view")
    table: pa.Table | None = None
    for query in statements:
        rel = cur.sql(query)
        if rel is not None and limit is not None:
            rel = rel.limit(limit + 1)
        table = None if rel is None else rel.to_arrow_table()
    seconds = time.perf_counter() - started
    if table is None:
        return SqlResult(None, False, f"OK in {seconds:.2f} s", seconds, sql)
    truncated = limit is not None and table.num_rows > limit
    if truncated:
        table = table.slice(0, limit)
        shown = f"{limit:,} of >{limit:,} rows"
    else:
        shown = counted(table.num_rows, "row")
    return SqlResult(table, truncated, f"{shown} in {seconds:.2f} s", seconds, sql)
