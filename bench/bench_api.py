"""The Python API's cost over plain duckdb, and the CLI's start-up (by hand).

Side by side in one run, each measurement a fresh process (imports included), alternating:

- api: `import lottery_tui; store = lottery_tui.open(DB); store.results()`;
- duckdb: `import duckdb; duckdb.connect(DB, read_only=True).execute("SELECT * FROM results").df()`;
- `lottery --help` with this tree's code, for the record (`import lottery_tui` must stay light).

Prints the median wall time of each and the ratio api / duckdb. Target (issue 22): <= 1.5x.

Usage: python bench/bench_api.py [--db PATH] [--repeat 7]
"""

from __future__ import annotations

import argparse
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
API = "import lottery_tui; lottery_tui.open({db!r}).results()"
DUCKDB = (
    "import duckdb; duckdb.connect({db!r}, read_only=True).execute('SELECT * FROM results').df()"
)
HELP = "import sys; from lottery_tui.cli.main import main; sys.argv = ['lottery', '--help']; main()"


def timed(code: str) -> float:
    env = {**os.environ, "PYTHONPATH": str(ROOT)}
    start = time.perf_counter()
    subprocess.run([sys.executable, "-c", code], check=True, env=env, stdout=subprocess.DEVNULL)
    return time.perf_counter() - start


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="store (default: what lottery_tui.open() resolves)")
    parser.add_argument("--repeat", type=int, default=7)
    args = parser.parse_args()
    sys.path.insert(0, str(ROOT))
    from lottery_tui.store.paths import resolve_db_path

    db = str(resolve_db_path(args.db))
    timed(API.format(db=db))  # builds the default store if missing, warms the file cache
    times: dict[str, list[float]] = {"api": [], "duckdb": [], "help": []}
    for _ in range(args.repeat):
        times["api"].append(timed(API.format(db=db)))
        times["duckdb"].append(timed(DUCKDB.format(db=db)))
        times["help"].append(timed(HELP))
    median = {k: statistics.median(v) for k, v in times.items()}
    print(f"store {db}, {args.repeat} runs each, fresh process per run (median wall time)")
    print(f"  import lottery_tui + open() + store.results(): {median['api']:.3f} s")
    print(f"  import duckdb + connect + SELECT * FROM results .df(): {median['duckdb']:.3f} s")
    print(f"  ratio api / duckdb: {median['api'] / median['duckdb']:.2f}x (target <= 1.5x)")
    print(f"  lottery --help: {median['help']:.3f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
