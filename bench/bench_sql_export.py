"""Peak memory of `lottery sql ... --format csv|json` exporting the `predictions` view (1.45 M rows
in the shipped store) next to DuckDB's own `COPY ... TO` of the same query, side by side in one run.

Each export runs in its own process, its peak resident memory read from `wait4`'s rusage, its
output written to a file in a temporary folder. The target (issue 19): `lottery sql` within 2x of
DuckDB's own writer.

    python bench/bench_sql_export.py [--db PATH] [--query SQL]
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from lottery_tui.store.connection import connect
from lottery_tui.store.paths import resolve_db_path

QUERY = "SELECT * FROM predictions"


def measure(argv: list[str], out: Path) -> tuple[float, float]:
    """(peak RSS in MB, seconds) of `argv` with stdout to `out`."""
    env = {**os.environ, "PYTHONPATH": str(Path(__file__).resolve().parents[1])}
    start = time.perf_counter()
    with open(out, "wb") as sink:
        proc = subprocess.Popen(argv, stdout=sink, env=env)
        _, status, usage = os.wait4(proc.pid, 0)
    seconds = time.perf_counter() - start
    if os.waitstatus_to_exitcode(status) != 0:
        raise SystemExit(f"failed: {argv}")
    return usage.ru_maxrss / 1024, seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", default=None)
    parser.add_argument("--query", default=QUERY)
    args = parser.parse_args()
    db = resolve_db_path(args.db)
    con = connect(db)
    rows = con.execute(f"SELECT count(*) FROM ({args.query})").fetchone()[0]
    con.close()
    print(f"{rows:,} rows of: {args.query}   (store {db})")
    with tempfile.TemporaryDirectory() as tmp:
        for fmt, copy_format in (("csv", "FORMAT csv"), ("json", "FORMAT json, ARRAY true")):
            own = Path(tmp) / f"duckdb.{fmt}"
            copy = (
                f"import duckdb; con = duckdb.connect({str(db)!r}, read_only=True); "
                f'con.execute("COPY ({args.query}) TO {str(own)!r} ({copy_format})")'
            )
            duck_mb, duck_s = measure([sys.executable, "-c", copy], Path(os.devnull))
            ours = Path(tmp) / f"lottery.{fmt}"
            lottery = [sys.executable, "-m", "lottery_tui.cli.main", "sql", args.query,
                       "--format", fmt, "--db", str(db)]  # fmt: skip
            our_mb, our_s = measure(lottery, ours)
            print(
                f"{fmt:4}  DuckDB COPY: {duck_mb:7.0f} MB peak {duck_s:6.1f} s   "
                f"lottery sql: {our_mb:7.0f} MB peak {our_s:6.1f} s   "
                f"memory ratio {our_mb / duck_mb:.2f}x (target <= 2x)   "
                f"sizes {own.stat().st_size / 1e6:.0f} / {ours.stat().st_size / 1e6:.0f} MB"
            )


if __name__ == "__main__":
    main()
