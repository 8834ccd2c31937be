"""Cost of the public `predictions` view against the same query on a plain table (by hand).

A store with M synthetic per-image models on ImageNet val (50,000 images each, M x 50,000 rows;
ReaL is left out so the rows are what M models hold) answers the issue's query (`QUERIES`:
accuracy per model) and one that reads image_id, through the view and through a plain table
holding the view's rows (`CREATE TABLE AS SELECT * FROM predictions`). Each measurement runs
in a fresh process that opens the store read-only, runs the query `--repeat` times and reports
the best time and its peak resident memory; the view as schema version 2 defined it is measured
once beside them. Target (issue 10): the view within about 2x of the plain table.

Usage: python bench/bench_predictions_view.py [--models 15 200 500] [--repeat 3]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from pathlib import Path

import duckdb
import numpy as np

from lottery_tui.store.datasets import BUILTIN_DATASETS, insert_datasets
from lottery_tui.store.models import describe, ensure_models
from lottery_tui.store.paths import data_dir
from lottery_tui.store.predictions import PredictionBatch, replace_predictions
from lottery_tui.store.schema import create_schema
from lottery_tui.store.seed import load_reference
from lottery_tui.store.sources import add_source

QUERIES = {
    # the query: image_id unread, so the view drops its image join
    "per model": "SELECT model, avg(correct::int) FROM {relation} GROUP BY model",
    # reads image_id: the view joins images (docs/store.md's "images every model gets wrong")
    "per image": "SELECT image_id FROM {relation} WHERE dataset = 'imagenet' "
    "GROUP BY image_id HAVING bool_or(correct) = false",
}
# The view as schema version 2 wrote it (images joined to the datasets, not to the rows' sets),
# measured once per store for comparison.
V2_VIEW = """
CREATE VIEW predictions_v2 AS
SELECT m.name AS model, s.dataset_id AS dataset, i.image_id,
       predicted_class(r.outcome) AS pred, r.outcome >= 0 AS correct
FROM prediction_rows r
JOIN prediction_sets s ON s.set_id = r.set_id
JOIN models m ON m.model_id = s.model_id
JOIN datasets d ON d.dataset_id = s.dataset_id
JOIN images i
  ON i.dataset_id = coalesce(d.shares_images_with, d.dataset_id) AND i.image_idx = r.image_idx
"""
N_IMAGES = 50_000
BATCH = 25  # models per replace_predictions call

CHILD = """
import json, sys, time
import duckdb
db, query, repeat = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect(db, read_only=True)
con.execute("SET enable_progress_bar = false")
best = float("inf")
for _ in range(repeat):
    start = time.perf_counter()
    rows = con.execute(query).fetchall()
    best = min(best, time.perf_counter() - start)
# VmHWM, not ru_maxrss: the latter keeps the forking parent's peak across exec
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"seconds": best, "peak_mb": peak, "groups": len(rows)}))
"""


def synthetic_store(
    path: Path,
    names: list[str],
    correct: Callable[[slice], np.ndarray],
    *,
    keep_real: bool,
) -> duckdb.DuckDBPyConnection:
    """A new store, in an open transaction, holding `names` as per-image models on ImageNet val
    (source 'synthetic'): `correct(chunk)` gives the chunk's models x images correctness, and a
    wrong image is predicted as the next class. Without `keep_real` the ReaL label sets are
    dropped, so only val's rows are written."""
    con = duckdb.connect(str(path))
    con.execute("SET enable_progress_bar = false")
    con.begin()
    create_schema(con)
    insert_datasets(con, BUILTIN_DATASETS, builtin=True)
    load_reference(con, data_dir())
    if not keep_real:
        con.execute("DELETE FROM label_sets")
    labels = con.execute(
        "SELECT label FROM images WHERE dataset_id = 'imagenet' ORDER BY image_idx"
    ).fetchnumpy()["label"]
    source = add_source(con, name="synthetic", kind="import", config={"bench": True})
    ids = ensure_models(con, [describe(name) for name in names], source)
    image_idx = np.arange(N_IMAGES, dtype=np.int32)
    for first in range(0, len(names), BATCH):
        chunk = slice(first, min(first + BATCH, len(names)))
        hit = correct(chunk)
        pred = np.where(hit, labels, (labels + 1) % 1000).astype(np.int16).ravel()
        replace_predictions(
            con,
            "imagenet",
            PredictionBatch(
                pairs=[(ids[name], source) for name in names[chunk]],
                lengths=[N_IMAGES] * len(names[chunk]),
                image_idx=np.tile(image_idx, len(names[chunk])),
                pred=pred,
            ),
        )
    return con


def build(path: Path, n_models: int, seed: int = 0) -> float:
    """A store with `n_models` synthetic models' predictions on val; seconds it took."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)

    def correct(chunk: slice) -> np.ndarray:
        skill = rng.uniform(0.6, 0.85, chunk.stop - chunk.start)
        return rng.random((len(skill), N_IMAGES)) <= skill[:, None]

    names = [f"synthetic_{m:03d}" for m in range(n_models)]
    # no ReaL: M x 50,000 rows, as the issue measured
    con = synthetic_store(path, names, correct, keep_real=False)
    con.execute("CREATE TABLE plain AS SELECT * FROM predictions")
    con.execute(V2_VIEW)
    con.commit()
    con.close()
    return time.perf_counter() - start


def run_child(code: str, *args: object) -> dict[str, float]:
    """Run `code` in a fresh interpreter with `args`; the JSON object its last line prints."""
    out = subprocess.run(
        [sys.executable, "-c", code, *map(str, args)],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    return json.loads(out.strip().splitlines()[-1])


def measure(db: Path, query: str, relation: str, repeat: int) -> dict[str, float]:
    return run_child(CHILD, db, query.format(relation=relation), repeat)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[15, 200, 500])
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    for name, query in QUERIES.items():
        print(f"{name}: {query.format(relation='<relation>')}")
    print(f"best of {args.repeat} runs per process (the v2 view: 1 run)")
    print(f"{'query':>9} {'models':>6} {'rows':>11} {'view s':>8} {'plain s':>8} {'ratio':>6} "
          f"{'view MB':>8} {'plain MB':>8} {'v2 view s':>9} {'v2 MB':>6}")  # fmt: skip
    for n_models in args.models:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            built = build(db, n_models)
            print(f"(store with {n_models} models built in {built:.1f} s)")
            for name, query in QUERIES.items():
                view = measure(db, query, "predictions", args.repeat)
                plain = measure(db, query, "plain", args.repeat)
                before = measure(db, query, "predictions_v2", 1)
                assert view["groups"] == plain["groups"] == before["groups"]
                print(
                    f"{name:>9} {n_models:>6} {n_models * N_IMAGES:>11,} "
                    f"{view['seconds']:>8.3f} {plain['seconds']:>8.3f} "
                    f"{view['seconds'] / plain['seconds']:>6.2f} "
                    f"{view['peak_mb']:>8.0f} {plain['peak_mb']:>8.0f} "
                    f"{before['seconds']:>9.3f} {before['peak_mb']:>6.0f}"
                )


if __name__ == "__main__":
    main()
