"""How the report, `compare` and the explorer's statistics grow with per-image models (by hand).

A store holds M synthetic per-image models on ImageNet val with correlated errors: each image has
a difficulty shared by every model (latent z_i), each model a skill, and a model gets an image
right when skill + sqrt(rho) z_i + sqrt(1 - rho) e_mi > 0, so models err on the same images as
real ones do. ReaL and the -clean sets are derived from the same rows, as for imported files.
For M in `--models`, each measurement runs in a fresh process that opens the store read-only and
reports its wall time and peak resident memory (VmHWM):

- report: `build_report` over the synthetic source (B = `--resamples`), what `lottery report` runs;
- compare: `compare` of the two best models, what `lottery compare A B` runs;
- explorer: the marginal gains of one scope, what the Lottery view and the summary line compute.

Target (issue 13): at 500 models each within 2x of its time at 15, peak memory under 2 GB.

Usage: python bench/bench_scale.py [--models 15 200 500] [--resamples 1000] [--rho 0.5]
"""

from __future__ import annotations

import argparse
import tempfile
import time
from pathlib import Path

import numpy as np
from bench_predictions_view import N_IMAGES, run_child, synthetic_store  # bench/ on sys.path
from scipy.stats import norm

CHILD = """
import json, sys, time
import duckdb
from lottery_tui.report import service
db, what, resamples = sys.argv[1], sys.argv[2], int(sys.argv[3])
con = duckdb.connect(db, read_only=True)
start = time.perf_counter()
selection, options = service.Selection(source="synthetic"), service.Options(resamples=resamples)
if what == "report":
    service.build_report(con, selection, options)
elif what == "compare":
    service.compare(con, "synthetic:m_000", "synthetic:m_001", service.Selection(), options)
else:
    service.marginal_gains(service.ReportContext.load(con, selection), service.Options())
seconds = time.perf_counter() - start
status = open("/proc/self/status").read()
peak = int(status.split("VmHWM:")[1].split()[0]) / 1024
print(json.dumps({"seconds": seconds, "peak_mb": peak}))
"""
WHAT = ("report", "compare", "explorer")


def build(path: Path, n_models: int, rho: float, seed: int = 0) -> float:
    """A store with `n_models` correlated synthetic models (m_000 the best); seconds it took."""
    start = time.perf_counter()
    rng = np.random.default_rng(seed)
    accuracy = np.sort(rng.uniform(0.60, 0.85, n_models))[::-1]  # m_000 the best
    skill = norm.ppf(accuracy)  # P(correct) = accuracy when averaged over z and e
    difficulty = rng.standard_normal(N_IMAGES)

    def correct(chunk: slice) -> np.ndarray:
        noise = rng.standard_normal((chunk.stop - chunk.start, N_IMAGES))
        return skill[chunk, None] + np.sqrt(rho) * difficulty + np.sqrt(1 - rho) * noise > 0

    # ReaL and the -clean sets are derived from val's rows, as for imported files
    con = synthetic_store(path, [f"m_{m:03d}" for m in range(n_models)], correct, keep_real=True)
    con.commit()
    con.close()
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--models", type=int, nargs="+", default=[15, 200, 500])
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--rho", type=float, default=0.5, help="share of error variance common")
    args = parser.parse_args()
    print(f"B = {args.resamples}, rho = {args.rho}; one fresh process per cell")
    print(f"{'models':>6} " + " ".join(f"{w + ' s':>12} {w + ' MB':>12}" for w in WHAT))
    first: dict[str, float] = {}
    for n_models in args.models:
        with tempfile.TemporaryDirectory() as tmp:
            db = Path(tmp) / "bench.duckdb"
            built = build(db, n_models, args.rho)
            cells = {what: run_child(CHILD, db, what, args.resamples) for what in WHAT}
        for what, cell in cells.items():
            first.setdefault(what, cell["seconds"])
        print(
            f"{n_models:>6} "
            + " ".join(f"{c['seconds']:>12.2f} {c['peak_mb']:>12.0f}" for c in cells.values())
            + f"   (store built in {built:.1f} s)"
        )
        print(
            "       ratio to the first size: "
            + ", ".join(f"{w} {cells[w]['seconds'] / first[w]:.2f}x" for w in WHAT)
        )


if __name__ == "__main__":
    main()
