"""What the explorer pays for holding no store connection while idle, side by side in one run.

The explorer opens the store when a worker needs it (`ExplorerDatabase.cursor`, through
`sql_policy.open_console`: read-only, schema version check, configuration locked) and closes it
once idle for 0.5 s, so imports from another shell are never locked out. Before, it held one
read-only connection for its whole life. This times, for a small query (a count: the floor) and
the Results grid (the heaviest common query) on the shipped store: the held connection, a cold
open per batch (what the first query after an idle spell pays) and batches in a burst (a view
loading), alternating blocks of 5 rounds so load from other processes hits all alike.

Usage: python bench/bench_explorer_connection.py [--repeat N]
"""

from __future__ import annotations

import argparse
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb

from lottery_tui.store.explore import reference_grid
from lottery_tui.store.seed import build_store
from lottery_tui.store.sql_policy import open_console
from lottery_tui.tui.database import ExplorerDatabase

BLOCK = 5
QUERIES: dict[str, Callable[[duckdb.DuckDBPyConnection], object]] = {
    "count": lambda con: con.execute("SELECT count(*) FROM results").fetchone(),
    "results grid": lambda con: reference_grid(con, "imagenet"),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=30)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        path = Path(tmp) / "results.duckdb"
        build_store(path)
        cold = ExplorerDatabase(str(path), idle_close_seconds=0)  # every batch opens the file
        burst = ExplorerDatabase(str(path))  # the explorer's: open until idle for 0.5 s
        times: dict[tuple[str, str], list[float]] = {}
        for _ in range(args.repeat // BLOCK):
            # In blocks: while the held connection is open, the file's DuckDB instance stays
            # cached and "per batch" would not reopen the file at all.
            held = open_console(path)
            for _ in range(BLOCK):
                for name, query in QUERIES.items():
                    started = time.perf_counter()
                    cur = held.cursor()
                    query(cur)
                    cur.close()
                    elapsed = time.perf_counter() - started
                    times.setdefault((name, "held connection"), []).append(elapsed)
            held.close()
            for label, database in (("cold open", cold), ("in a burst", burst)):
                for _ in range(BLOCK):
                    for name, query in QUERIES.items():
                        started = time.perf_counter()
                        with database.cursor() as con:
                            query(con)
                        elapsed = time.perf_counter() - started
                        times.setdefault((name, label), []).append(elapsed)
                time.sleep(2 * burst.idle_close_seconds)  # the burst's connection has closed
        cold.close()
        burst.close()
    print(f"median of {args.repeat} rounds (ms)")
    for name in QUERIES:
        old = statistics.median(times[(name, "held connection")]) * 1e3
        line = f"  {name:13s} held {old:7.2f}"
        for label in ("cold open", "in a burst"):
            new = statistics.median(times[(name, label)]) * 1e3
            line += f" | {label} {new:7.2f} (+{new - old:6.2f}, {new / old:4.2f}x)"
        print(line)


if __name__ == "__main__":
    main()
