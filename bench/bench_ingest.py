"""Ingest speed of the store, measured side by side in one run (by hand, not in CI).

1. The 15 x 50,000 shipped per-image predictions through the store's bulk path (the seed's
   `load_shipped_predictions`: sources, checks, insert, aggregates; then again with ReaL derived
   for 46,837 images), and through 15 separate `lottery import predictions`-style imports of the
   Parquet files, each against a bare `CREATE TABLE ... AS SELECT * FROM read_parquet(...)` of
   the same files in a fresh database file. Target: bulk ingest <= 1.5x.
2. One 50,000-row predictions CSV (`image_id,pred`, the first shipped model's val predictions)
   through the CLI, `lottery import predictions FILE --model M --dataset imagenet` run in this
   process (argument parsing, read, checks, store open, one transaction, ReaL derived, close),
   against DuckDB's own `read_csv` + INSERT of the same file into a table of a copy of the same
   store (open, insert, close). Both sides run in this one process, after a first round has
   imported their modules, so neither pays interpreter start-up or imports: what is compared is
   the work of one import. A second DuckDB row sets `checkpoint_threshold` as the CLI's writes
   do (`store.connection.write_transaction`: the commit checkpoints), to show what that setting
   alone is worth. Target: <= 1.5x of plain DuckDB.
3. Time to build the default store from data/ (what a newcomer waits for on first run).

Every timing opens the database, does its work and closes it (DuckDB checkpoints on close).
The stores an ingest writes into are copied from a template and flushed to disk before the clock
starts, as a user's store would be.
The cases run round-robin, so load from other processes hits them alike.

Usage: python bench/bench_ingest.py [--repeat N] [--csv-only]   (results: bench/results/)
"""

from __future__ import annotations

import argparse
import contextlib
import io
import os
import shutil
import statistics
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import pyarrow as pa
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from lottery_tui.cli.main import main as lottery
from lottery_tui.store.connection import CHECKPOINT_ON_COMMIT
from lottery_tui.store.paths import data_dir
from lottery_tui.store.predictions_import import (
    PredictionImport,
    parse_predictions,
    write_prediction_files,
)
from lottery_tui.store.seed import build_store, load_shipped_predictions

PRED_FILES = sorted((data_dir() / "imagenet-val-predictions").glob("*.parquet"))


def timed(
    cases: dict[str, tuple[Callable[[Path], None], Callable[[Path], None]]], repeat: int
) -> dict[str, list[float]]:
    """Seconds of each case's `work`, per round, on a fresh database made by its `setup` (not
    timed), the cases interleaved."""
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(repeat):
        for name, (setup, work) in cases.items():
            with tempfile.TemporaryDirectory() as tmp:
                db = Path(tmp) / "bench.duckdb"
                setup(db)
                start = time.perf_counter()
                work(db)
                times[name].append(time.perf_counter() - start)
    return times


def nothing(db: Path) -> None:
    del db


def bare_ctas(db: Path) -> None:
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE preds AS SELECT * FROM read_parquet(?)", [[str(p) for p in PRED_FILES]]
    )
    con.close()


def ctas_stored_columns(db: Path) -> None:
    """The same rows as the 3 columns prediction_rows stores: the cost of the width alone."""
    con = duckdb.connect(str(db))
    con.execute(
        "CREATE TABLE preds AS SELECT file_index::INTEGER AS set_id, image_idx, "
        "(CASE WHEN pred % 2 = 0 THEN pred ELSE -1 - pred END)::SMALLINT AS outcome "
        "FROM read_parquet(?)",
        [[str(p) for p in PRED_FILES]],
    )
    con.close()


def empty_store(without_real: bool) -> Callable[[Path], None]:
    template = Path(tempfile.mkdtemp()) / "empty.duckdb"
    build_store(template, with_results=False)
    if without_real:
        con = duckdb.connect(str(template))
        con.execute("DELETE FROM label_sets")
        con.close()
    return lambda db: durable_copy(template, db)


def durable_copy(source: Path, target: Path) -> None:
    """Copy, then flush the copy to disk: a user's store is not 4 MB of dirty page cache, and
    the ingest's first fsync would otherwise pay for writing out the whole copy (~3 ms here)."""
    shutil.copyfile(source, target)
    with open(target, "rb") as handle:
        os.fsync(handle.fileno())


def bulk_ingest(db: Path) -> None:
    con = duckdb.connect(str(db))
    con.begin()
    load_shipped_predictions(con, data_dir())
    con.commit()
    con.close()


def per_file_imports(db: Path) -> None:
    con = duckdb.connect(str(db))
    con.begin()
    for path in PRED_FILES:
        write_prediction_files(
            con, [PredictionImport(parse_predictions(path), path.stem, "imagenet")]
        )
    con.commit()
    con.close()


def predictions_csv(store: Path, folder: Path) -> Path:
    """The first shipped model's predictions as a user's CSV: image_id,pred."""
    con = duckdb.connect(str(store), read_only=True)
    ids = con.sql(
        "SELECT image_id FROM images WHERE dataset_id = 'imagenet' ORDER BY image_idx"
    ).to_arrow_table()
    con.close()
    table = pq.read_table(PRED_FILES[0])
    out = pa.table(
        {"image_id": ids.column(0).take(table.column("image_idx")), "pred": table.column("pred")}
    )
    path = folder / "predictions.csv"
    pacsv.write_csv(out, path, pacsv.WriteOptions(quoting_style="none"))
    return path


def cli_import(path: Path) -> Callable[[Path], None]:
    def work(db: Path) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            assert lottery(["import", "predictions", str(path), "--model", "m",
                            "--dataset", "imagenet", "--db", str(db)]) == 0  # fmt: skip

    return work


def duckdb_read_csv_insert(
    path: Path, *, checkpoint_on_commit: bool = False
) -> Callable[[Path], None]:
    def work(db: Path) -> None:
        con = duckdb.connect(str(db))
        if checkpoint_on_commit:
            con.execute(f"SET checkpoint_threshold = '{CHECKPOINT_ON_COMMIT}'")
        con.execute("CREATE TABLE user_predictions (image_id VARCHAR, pred SMALLINT)")
        con.execute("INSERT INTO user_predictions SELECT * FROM read_csv(?)", [str(path)])
        con.close()

    return work


def report(title: str, base_name: str, results: dict[str, list[float]]) -> None:
    """Medians, each case's ratio to the base and the spread of its per-round ratios (the same
    round's base: load from other processes hits both alike)."""
    base_times = results.pop(base_name)
    base = statistics.median(base_times)
    print(title)
    print(f"  {base_name:<37} {base * 1000:8.1f} ms   1.00x")
    for name, values in results.items():
        seconds = statistics.median(values)
        rounds = sorted(v / b for v, b in zip(values, base_times, strict=True))
        spread = f"(rounds {rounds[0]:.2f}-{rounds[-1]:.2f})"
        print(f"  {name:<37} {seconds * 1000:8.1f} ms  {seconds / base:5.2f}x {spread}")


def bulk(repeat: int) -> None:
    rows = 15 * 50000
    with_real, without_real = empty_store(False), empty_store(True)
    results = timed(
        {
            "bare CREATE TABLE AS read_parquet": (nothing, bare_ctas),
            "CTAS of the 3 stored columns": (nothing, ctas_stored_columns),
            "bulk, imagenet only (no ReaL labels)": (without_real, bulk_ingest),
            "bulk, imagenet + ReaL derived": (with_real, bulk_ingest),
            "15 file imports, imagenet + ReaL": (with_real, per_file_imports),
        },
        repeat,
    )
    report(
        f"{rows:,} predictions from {len(PRED_FILES)} Parquet files, median of {repeat}",
        "bare CREATE TABLE AS read_parquet",
        results,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=15)
    parser.add_argument("--csv-only", action="store_true", help="only the one-CSV comparison")
    args = parser.parse_args()
    repeat = args.repeat
    if not args.csv_only:
        bulk(repeat)
    folder = Path(tempfile.mkdtemp())
    template = folder / "empty.duckdb"
    build_store(template, with_results=False)
    csv = predictions_csv(template, folder)
    store = lambda db: durable_copy(template, db)  # noqa: E731
    report(
        f"one 50,000-row predictions CSV ({csv.stat().st_size:,} bytes), median of {repeat}",
        "DuckDB read_csv + INSERT",
        timed(
            {
                "DuckDB read_csv + INSERT": (store, duckdb_read_csv_insert(csv)),
                "  the same, checkpoint at commit": (
                    store,
                    duckdb_read_csv_insert(csv, checkpoint_on_commit=True),
                ),
                "lottery import predictions (CLI)": (store, cli_import(csv)),
            },
            repeat,
        ),
    )
    shutil.rmtree(folder)
    if args.csv_only:
        return
    build = statistics.median(
        timed({"build": (nothing, build_store)}, max(1, repeat // 2))["build"]
    )
    print(f"build the default store from data/     {build:8.2f} s")


if __name__ == "__main__":
    main()
