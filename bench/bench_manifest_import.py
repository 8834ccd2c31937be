"""Many per-image files into the store, measured side by side in one run (by hand, not in CI).

N synthetic CSV files of R predictions on ImageNet val (default 60 x 2,000) go in
1. with one `lottery import predictions --manifest` (in this process: parse, one transaction);
2. as N `lottery import predictions FILE` commands run in this process, one after another (each
   opens the store and commits its own transaction);
3. through the bulk path alone (`replace_predictions` of all rows from arrays in hand, with
   the sources and models, as the seed does): the floor a manifest is measured against;
and the manifest's reading and checking of the files alone (no store); and, unless
--no-processes, a few single imports each in its own process (`lottery` started
anew, as a shell loop would), extrapolated to N and labelled so.
With --peak, only the manifest import runs, once, as `lottery` in a process of its own, and its
wall time and peak resident memory (the child's ru_maxrss) are printed: the issue's tier is
`--peak --files 500 --rows 50000` (25 M predictions, 0.8 GB of CSV; target: within 2 GB).
Every case writes into a fresh copy of an empty store (val labels and ReaL); ReaL is derived in
all of them. The cases run round-robin, so load from other processes hits them alike.

Usage: python bench/bench_manifest_import.py [--files N] [--rows R] [--repeat K] [--peak]
"""

from __future__ import annotations

import argparse
import contextlib
import io
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.csv as pacsv

from lottery_tui.cli.main import main as lottery
from lottery_tui.store.manifest import parse_manifest
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.predictions import PredictionBatch, replace_predictions
from lottery_tui.store.predictions_import import parse_predictions
from lottery_tui.store.seed import build_store
from lottery_tui.store.sources import add_file_sources, sha256_file


def make_files(folder: Path, n_files: int, rows: int) -> list[tuple[Path, np.ndarray, np.ndarray]]:
    rng = np.random.default_rng(0)
    names = np.array([f"ILSVRC2012_val_{i + 1:08d}.JPEG" for i in range(50000)])
    files = []
    lines = ["file,model,dataset"]
    for k in range(n_files):
        idx = np.sort(rng.choice(50000, rows, replace=False))
        pred = rng.integers(0, 1000, rows)
        path = folder / f"model{k:03d}.csv"
        table = pa.table({"image_id": names[idx], "pred": pred})
        pacsv.write_csv(table, path, pacsv.WriteOptions(quoting_style="none"))
        lines.append(f"{path.name},{path.stem},imagenet")
        files.append((path, idx, pred))
    (folder / "manifest.csv").write_text("\n".join(lines) + "\n")
    return files


def peak(template: Path, folder: Path, work: Path, n_files: int, rows: int) -> None:
    """The manifest import as its own `lottery` process: wall time and peak RSS."""
    db = work / "bench.duckdb"
    shutil.copyfile(template, db)
    start = time.perf_counter()
    subprocess.run(
        [sys.executable, "-m", "lottery_tui.cli.main", "import", "predictions", "--manifest",
         str(folder / "manifest.csv"), "--db", str(db)],
        check=True, capture_output=True,
    )  # fmt: skip
    seconds = time.perf_counter() - start
    rss = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 2**20  # KiB -> GiB
    size = sum(p.stat().st_size for p in folder.glob("model*.csv")) / 2**30
    print(f"--manifest of {n_files} files x {rows:,} predictions ({size:.2f} GiB of CSV), "
          f"one process: {seconds:.1f} s, peak RSS {rss:.2f} GiB")  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--files", type=int, default=60)
    parser.add_argument("--rows", type=int, default=2000)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--no-processes", action="store_true")
    parser.add_argument("--peak", action="store_true", help="time and peak memory of one manifest")
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp())
    template = work / "empty.duckdb"
    build_store(template, with_results=False)
    folder = work / "files"
    folder.mkdir()
    files = make_files(folder, args.files, args.rows)
    if args.peak:
        peak(template, folder, work, args.files, args.rows)
        shutil.rmtree(work)
        return

    def manifest(db: Path) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            assert lottery(["import", "predictions", "--manifest", str(folder / "manifest.csv"),
                            "--db", str(db)]) == 0  # fmt: skip

    def parse_only(db: Path) -> None:
        del db
        for entry in parse_manifest(folder / "manifest.csv"):
            parse_predictions(entry.file)

    def single_imports(db: Path) -> None:
        with contextlib.redirect_stdout(io.StringIO()):
            for path, _, _ in files:
                assert lottery(["import", "predictions", str(path), "--model", path.stem,
                                "--dataset", "imagenet", "--db", str(db)]) == 0  # fmt: skip

    def bulk(db: Path) -> None:
        con = duckdb.connect(str(db))
        con.begin()
        source_of = add_file_sources(
            con, name="user", kind="import",
            files=[(str(p), sha256_file(p)) for p, _, _ in files], config={"format": "bench"},
        )  # fmt: skip
        ids = ensure_models(
            con, [describe(p.stem) for p, _, _ in files], [source_of[str(p)] for p, _, _ in files]
        )
        batch = PredictionBatch(
            pairs=[(ids[p.stem], source_of[str(p)]) for p, _, _ in files],
            lengths=[len(idx) for _, idx, _ in files],
            image_idx=np.concatenate([idx for _, idx, _ in files]).astype(np.int32),
            pred=np.concatenate([pred for _, _, pred in files]).astype(np.int16),
        )
        replace_predictions(con, "imagenet", batch)
        con.commit()
        con.close()

    cases: dict[str, Callable[[Path], None]] = {
        "bulk replace_predictions (floor)": bulk,
        f"--manifest of {args.files} files": manifest,
        "  of which reading and checking the files": parse_only,
        f"{args.files} single imports, one process": single_imports,
    }
    times: dict[str, list[float]] = {name: [] for name in cases}
    for _ in range(args.repeat):
        for name, case in cases.items():
            db = work / "bench.duckdb"
            shutil.copyfile(template, db)
            start = time.perf_counter()
            case(db)
            times[name].append(time.perf_counter() - start)
            db.unlink()
    floor = statistics.median(times["bulk replace_predictions (floor)"])
    print(f"{args.files} files x {args.rows:,} predictions on imagenet (+ ReaL derived), "
          f"median of {args.repeat}")  # fmt: skip
    for name, values in times.items():
        seconds = statistics.median(values)
        print(f"  {name:<40} {seconds:7.2f} s  {seconds / floor:6.1f}x the bulk path")
    if not args.no_processes:
        sample = files[:5]
        db = work / "bench.duckdb"
        shutil.copyfile(template, db)
        start = time.perf_counter()
        for path, _, _ in sample:
            subprocess.run(
                [sys.executable, "-m", "lottery_tui.cli.main", "import", "predictions", str(path),
                 "--model", path.stem, "--dataset", "imagenet", "--db", str(db)],
                check=True, capture_output=True,
            )  # fmt: skip
        each = (time.perf_counter() - start) / len(sample)
        total = each * args.files
        print(f"  {args.files} processes (5 timed, extrapolated)  {total:7.2f} s  "
              f"{total / floor:6.1f}x the bulk path ({each:.2f} s each)")  # fmt: skip
    shutil.rmtree(work)


if __name__ == "__main__":
    main()
