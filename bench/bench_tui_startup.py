"""Time to first paint of the explorer's Results view against a minimal Textual table app.

    .venv/bin/python bench/bench_tui_startup.py [--db PATH] [--repeat 7] [--tmux]

Each measurement is a fresh process (imports included), run headless at 120x40, timed from just
before the process is started to the first screen refresh after the table has its rows:

- `explorer`: `LotteryApp` on the store (opens DuckDB, runs the Results query, mounts the table);
- `minimal`: an App whose only widget is the same Arrow-backed table, the same 1,572 x 31 grid
  read from a Parquet file (the least any app showing that table has to do);
- `stock`: for context, Textual's own DataTable filled row by row with the same cells.

Runs alternate (explorer, minimal, stock, explorer, ...) so drift hits all alike; the medians
and the ratio explorer / minimal are printed (target <= 1.5).

`--tmux` measures the same in a real terminal as well: the `lottery` command and the minimal app
(not headless) in a detached tmux session at 80x24, timed from just before the session starts to
the first row visible in `capture-pane` (polled, `bench_tui_keys.first_row_seconds`); the
headless and the tmux runs alternate too.
"""

from __future__ import annotations

import argparse
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

from bench_tui_keys import explorer_command, first_row_seconds, loadavg, store_or_shipped

CHILD = r"""
import sys, time
kind, source = sys.argv[1], sys.argv[2]
from textual.app import App

def report_when_painted(app, ready):
    def check():
        if ready():
            app.call_after_refresh(finish)
            timer.stop()
    def finish():
        print(time.time(), flush=True)
        app.exit()
    timer = app.set_interval(0.002, check)

if kind == "explorer":
    from lottery_tui.tui.app import LotteryApp

    class Bench(LotteryApp):
        def on_ready(self):
            table = self.query_one("#results-table")
            report_when_painted(
                self,
                lambda: table.data_table is not None and table.data_table.is_mounted
                and table.data_table.row_count > 0,
            )

    app = Bench(db=source, watch_tty=False)
elif kind == "minimal":
    import pyarrow.parquet as pq
    from textual_fastdatatable import ArrowBackend
    from textual_fastdatatable.data_table import DataTable

    class Bench(App):
        def compose(self):
            yield DataTable(backend=ArrowBackend(pq.read_table(source)), fixed_columns=1)
        def on_ready(self):
            table = self.query_one(DataTable)
            report_when_painted(self, lambda: table.row_count > 0)

    app = Bench()
else:
    import pyarrow.parquet as pq
    from textual.widgets import DataTable

    class Bench(App):
        def compose(self):
            yield DataTable()
        def on_mount(self):
            data = pq.read_table(source)
            table = self.query_one(DataTable)
            table.add_columns(*data.column_names)
            table.add_rows([tuple(r.values()) for r in data.to_pylist()])
        def on_ready(self):
            table = self.query_one(DataTable)
            report_when_painted(self, lambda: table.row_count > 0)

    app = Bench()
app.run(headless=True, size=(120, 40))
"""


MINIMAL_IN_TERMINAL = r"""
import sys
import pyarrow.parquet as pq
from textual.app import App
from textual_fastdatatable import ArrowBackend
from textual_fastdatatable.data_table import DataTable

class Minimal(App):
    def compose(self):
        yield DataTable(backend=ArrowBackend(pq.read_table(sys.argv[1])), fixed_columns=1)

Minimal().run()
"""


def one_run(kind: str, source: str) -> float:
    start = time.time()
    out = subprocess.run(
        [sys.executable, "-c", CHILD, kind, source],
        capture_output=True,
        text=True,
        check=True,
        timeout=120,
    ).stdout
    return float(out.strip().splitlines()[-1]) - start


def grid_parquet(db: str, folder: Path) -> Path:
    """The exact table the explorer shows, saved for the baselines."""
    import duckdb
    import pyarrow.parquet as pq

    from lottery_tui.store.explore import DEFAULT_REFERENCE, list_datasets, results_grid

    con = duckdb.connect(db, read_only=True)
    try:
        grid = results_grid(con, DEFAULT_REFERENCE, list_datasets(con, DEFAULT_REFERENCE))
    finally:
        con.close()
    path = folder / "grid.parquet"
    pq.write_table(grid.table, path)
    print(f"grid: {grid.table.num_rows:,} rows x {grid.table.num_columns} columns")
    return path


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", help="store (default: build one from the shipped data)")
    parser.add_argument("--repeat", type=int, default=7)
    parser.add_argument("--tmux", action="store_true", help="also time it in a real terminal")
    args = parser.parse_args()
    print(f"load before: {loadavg()}")
    with tempfile.TemporaryDirectory() as tmp:
        db = store_or_shipped(args.db, Path(tmp))
        parquet = str(grid_parquet(db, Path(tmp)))
        sources = {"explorer": db, "minimal": parquet, "stock": parquet}
        times: dict[str, list[float]] = {k: [] for k in sources}
        commands = {}
        if args.tmux:
            commands = {
                "explorer in tmux": explorer_command(db),
                "minimal in tmux": [sys.executable, "-c", MINIMAL_IN_TERMINAL, parquet],
            }
            times |= {k: [] for k in commands}
        one_run("explorer", db)  # warm the file cache and .pyc files once, untimed
        for _ in range(args.repeat):
            for kind, source in sources.items():
                times[kind].append(one_run(kind, source))
            for kind, command in commands.items():
                times[kind].append(first_row_seconds(command))
    medians = {k: statistics.median(v) for k, v in times.items()}
    for kind, values in times.items():
        spread = f"{min(values):.3f}-{max(values):.3f}"
        print(f"{kind:9s} median {medians[kind]:.3f} s  (range {spread}, n={len(values)})")
    print(
        f"ratio explorer / minimal: {medians['explorer'] / medians['minimal']:.2f} (target <= 1.5)"
    )
    print(f"ratio stock / minimal:    {medians['stock'] / medians['minimal']:.2f}")
    if args.tmux:
        ratio = medians["explorer in tmux"] / medians["minimal in tmux"]
        print(f"ratio in tmux, explorer / minimal: {ratio:.2f} (target <= 1.5)")
    print(f"load after: {loadavg()}")


if __name__ == "__main__":
    main()
