"""Following many runs: the cost of one refresh of the Runs view / `lottery runs`, measured side by
side in one run (by hand, not in CI).

The view re-reads every run directory each second. A run's `events.jsonl` grows by a progress line
every half second (a 1-hour job writes about 7,000 lines), so `lottery_tui.runs.status` reads only
the head and the tail of it. This compares one refresh of N long-running runs through `scan_runs`
with the same scan followed by parsing every event line (what a naive reader does). Target: a
refresh of 400 runs with 7,000-line logs under 25% of the refresh interval, and at least 10x
cheaper than full parsing.

Usage: python bench/bench_runs.py [--runs N] [--lines L] [--repeat R]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

from lottery_tui.runs import rundir
from lottery_tui.runs.status import scan_runs
from lottery_tui.tui.views.runs import REFRESH_SECONDS


def make_runs(root: Path, n_runs: int, n_lines: int) -> None:
    for i in range(n_runs):
        run_dir = root / f"model{i:04d}--imagenet--{i:08x}"
        run_dir.mkdir()
        rundir.write_json(
            run_dir / rundir.LAUNCH,
            {"model": f"model{i}", "dataset": "imagenet", "launched_at": float(i)},
        )
        rundir.record_pid(run_dir, 1)  # pid 1 is alive: every run reads as running
        events = [{"t": 0.0, "event": "start", "dataset": "imagenet", "done": 0, "total": 0}]
        events += [
            {
                "t": k * 0.5,
                "event": "progress",
                "dataset": "imagenet",
                "done": k * 7,
                "total": 50_000,
                "images_per_s": 14.0,
                "eta_s": 3000.0,
                "message": "",
            }
            for k in range(1, n_lines)
        ]
        (run_dir / rundir.EVENTS).write_text("\n".join(map(json.dumps, events)) + "\n")


def full_parse(root: Path) -> int:
    """The naive refresh: the same scan plus parsing every line of every events.jsonl."""
    runs = scan_runs(root)
    lines = 0
    for run in runs:
        for line in (run.run_dir / rundir.EVENTS).read_text().splitlines():
            json.loads(line)
            lines += 1
    return lines


def timed(fn, repeat: int) -> float:
    times = []
    for _ in range(repeat):
        start = time.perf_counter()
        fn()
        times.append(time.perf_counter() - start)
    return statistics.median(times)


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--runs", type=int, default=400)
    parser.add_argument("--lines", type=int, default=7000)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        make_runs(root, args.runs, args.lines)
        runs = scan_runs(root)
        assert len(runs) == args.runs and all(r.progress.total == 50_000 for r in runs)
        ours = timed(lambda: scan_runs(root), args.repeat)
        naive = timed(lambda: full_parse(root), args.repeat)
    print(f"{args.runs} runs x {args.lines} event lines, median of {args.repeat}")
    print(f"scan_runs (head + tail)  : {ours * 1000:8.1f} ms per refresh")
    print(f"full parse of every line : {naive * 1000:8.1f} ms per refresh")
    print(f"ratio full / ours        : {naive / ours:8.1f}x (target >= 10x)")
    print(f"refresh cost / interval  : {ours / REFRESH_SECONDS:8.1%} (target <= 25%)")


if __name__ == "__main__":
    main()
