"""Helpers for store tests: a content fingerprint (to prove a failed import changed nothing)
and a fresh in-memory store for tests that write many times (hypothesis)."""

from __future__ import annotations

from collections.abc import Callable, Iterator
from pathlib import Path

import duckdb
import pytest

from lottery_tui.store.datasets import BUILTIN_DATASETS, insert_datasets
from lottery_tui.store.schema import create_schema

TABLES = (
    "meta",
    "sources",
    "imports",
    "datasets",
    "models",
    "aggregate_results",
    "images",
    "label_sets",
    "prediction_sets",
    "prediction_rows",
    "prediction_top5",
    "probe_runs",
)


def fingerprint_connection(con: duckdb.DuckDBPyConnection) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of every row, per table."""
    return {
        table: tuple(con.execute(f"SELECT count(*), sum(hash(t)) FROM {table} t").fetchall()[0])
        for table in TABLES
    }


def fingerprint(path: Path) -> dict[str, tuple[int, int]]:
    con = duckdb.connect(str(path), read_only=True)
    try:
        return fingerprint_connection(con)
    finally:
        con.close()


@pytest.fixture
def memory_store() -> Iterator[Callable[[], duckdb.DuckDBPyConnection]]:
    """Factory of in-memory stores with the schema and builtin datasets (no images)."""
    opened: list[duckdb.DuckDBPyConnection] = []

    def make() -> duckdb.DuckDBPyConnection:
        con = duckdb.connect()
        create_schema(con)
        insert_datasets(con, BUILTIN_DATASETS, builtin=True)
        opened.append(con)
        return con

    yield make
    for con in opened:
        con.close()
