"""Every figure kind of the shipped data's report, drawn and saved in one process (run by hand).

    .venv/bin/python bench/bench_figures.py [--db PATH] [--resamples 1000] [--format svg]

Prints the report's build time (statistics, not timed against the target), then per kind the
time to draw it (`make_figure`) and to save it, the matplotlib import (paid once, by the first
figure), and the total over all kinds against the 5 s target of issue 22. Without --db it
builds the shipped store in a temporary folder first.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import time
from pathlib import Path

TARGET_S = 5.0  # issue 22: every figure kind of the shipped data in under 5 s together


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, help="store to read (default: build the shipped one)")
    parser.add_argument("--resamples", type=int, default=1000)
    parser.add_argument("--format", choices=("svg", "pdf", "png"), default="svg")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        db = args.db or build(Path(scratch) / "results.duckdb")
        run(db, args.resamples, args.format, Path(scratch))
    return 0


def build(path: Path) -> Path:
    from lottery_tui.store.seed import build_store

    start = time.perf_counter()
    build_store(path)
    print(f"built the shipped store in {time.perf_counter() - start:.2f} s")
    return path


def run(db: Path, resamples: int, fmt: str, out: Path) -> None:
    import lottery_tui
    from lottery_tui.figures import KINDS, make_figure, write_figure

    start = time.perf_counter()
    with lottery_tui.open(db) as store:
        report = store.report(resamples=resamples)
    population = report.population
    print(
        f"report + population ({len(population.models)} models, B = {resamples}): "
        f"{time.perf_counter() - start:.2f} s (not part of the figure total)"
    )
    start = time.perf_counter()
    import matplotlib.figure  # noqa: F401  (the import the first figure pays)

    total = time.perf_counter() - start
    print(f"{'matplotlib import':<20} {total:6.3f} s")
    print(f"{'kind':<8} {'draw s':>8} {'save s':>8} {'bytes':>9}")
    for kind in KINDS:
        start = time.perf_counter()
        figure = make_figure(report, kind, population=population)
        drawn = time.perf_counter() - start
        path = write_figure(figure, out / f"{kind}.{fmt}")
        saved = time.perf_counter() - start - drawn
        total += drawn + saved
        print(f"{kind:<8} {drawn:8.3f} {saved:8.3f} {path.stat().st_size:9d}")
    print(
        f"total {total:.2f} s for {len(KINDS)} kinds ({fmt}); target {TARGET_S:.0f} s: "
        f"ratio {total / TARGET_S:.2f} of the target ({'met' if total < TARGET_S else 'MISSED'})"
    )


if __name__ == "__main__":
    sys.exit(main())
