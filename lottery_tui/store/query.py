"""Small query helpers that always finish their result.

In duckdb 2.0 a result left partly read (e.g. after `fetchone()`) owns its connection and makes the
next `con.sql(...)` fail with ResourceInUseException; these helpers read results to the end.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import duckdb


def first_row(
    con: duckdb.DuckDBPyConnection, sql: str, params: list[Any] | dict[str, Any] | None = None
) -> tuple[Any, ...] | None:
    rows = con.execute(sql, params).fetchall()
    return rows[0] if rows else None


@contextlib.contextmanager
def registered(con: duckdb.DuckDBPyConnection, name: str, table: object) -> Iterator[str]:
    """Expose an Arrow table to SQL as `name` for the duration of the block.

    After a failed statement the transaction is aborted and unregistering raises too; that
    error would hide the real one, and the rollback drops the view anyway, so it is ignored.
    """
    con.register(name, table)
    try:
        yield name
    finally:
        with contextlib.suppress(duckdb.TransactionException):
            con.unregister(name)
