"""Every figure kind of the shipped data's report, drawn and saved in one process (run by hand).

    .venv/bin/python bench/bench_figures.py [--db PATH] [--resamples 1000] [--format svg]

Prints the report's build time (statistics, not timed against the target), then per kind the
time to draw it (`make_figure`) and to save it, the matplotlib import (paid once, by the first
figure), and the total over all kinds against the 5 s target of issue 22: wall-clock seconds,
and this process's CPU seconds beside them (on a shared, loaded machine the wall clock counts
the time other processes hold the cores; the CPU time is what the figures cost). `--format
all` runs svg, pdf and png one after another in the same process, for one table side by side.
Without --db it builds the shipped store in a temporary folder first.
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
    parser.add_argument("--format", choices=("svg", "pdf", "png", "all"), default="svg")
    args = parser.parse_args(argv)
    with tempfile.TemporaryDirectory() as scratch:
        db = args.db or build(Path(scratch) / "results.duckdb")
        report = load(db, args.resamples)
        formats = ("png", "svg", "pdf") if args.format == "all" else (args.format,)
        totals = {fmt: run(report, fmt, Path(scratch)) for fmt in formats}
    if len(totals) > 1:
        print(
            "side by side (wall s / CPU s): "
            + ", ".join(f"{fmt} {wall:.2f} / {cpu:.2f}" for fmt, (wall, cpu) in totals.items())
        )
    return 0


def build(path: Path) -> Path:
    from lottery_tui.store.seed import build_store

    start = time.perf_counter()
    build_store(path)
    print(f"built the shipped store in {time.perf_counter() - start:.2f} s")
    return path


def load(db: Path, resamples: int):
    import lottery_tui

    start = time.perf_counter()
    with lottery_tui.open(db) as store:
        report = store.report(resamples=resamples)
    print(
        f"report + population ({len(report.population.models)} models, B = {resamples}): "
        f"{time.perf_counter() - start:.2f} s (not part of the figure total)"
    )
    return report


def run(report, fmt: str, out: Path) -> tuple[float, float]:
    """Every kind drawn and saved as `fmt`: (wall s, CPU s) in all."""
    from lottery_tui.figures import KINDS, make_figure, write_figure

    wall, cpu = time.perf_counter(), time.process_time()
    import matplotlib.figure  # noqa: F401  (the import the first figure pays)

    total = [time.perf_counter() - wall, time.process_time() - cpu]
    print(f"{'matplotlib import':<20} {total[0]:6.3f} s  {total[1]:6.3f} CPU s")
    print(f"{'kind':<8} {'draw s':>8} {'save s':>8} {'CPU s':>8} {'bytes':>9}")
    for kind in KINDS:
        wall, cpu = time.perf_counter(), time.process_time()
        figure = make_figure(report, kind, population=report.population)
        drawn = time.perf_counter() - wall
        path = write_figure(figure, out / f"{kind}.{fmt}")
        saved = time.perf_counter() - wall - drawn
        used = time.process_time() - cpu
        total[0] += drawn + saved
        total[1] += used
        print(f"{kind:<8} {drawn:8.3f} {saved:8.3f} {used:8.3f} {path.stat().st_size:9d}")
    wall_s, cpu_s = total
    print(
        f"total {wall_s:.2f} s ({cpu_s:.2f} CPU s) for {len(KINDS)} kinds ({fmt}); target "
        f"{TARGET_S:.0f} s: ratio {wall_s / TARGET_S:.2f} wall, {cpu_s / TARGET_S:.2f} CPU "
        f"({'met' if wall_s < TARGET_S else 'MISSED'} by the wall clock)"
    )
    return wall_s, cpu_s


if __name__ == "__main__":
    sys.exit(main())
