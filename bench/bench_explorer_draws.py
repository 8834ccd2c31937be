"""What the explorer's one number of draws costs: the Lottery verdicts (marginal gains of the
top 20 with every variant's flip probability) at `lottery report`'s default draws and at
`lottery compare`'s, side by side.

    .venv/bin/python bench/bench_explorer_draws.py [--db PATH] [--repeat 3]

The verdicts and the compare pane use one number of draws, so a pair shows one interval in
both (`tui/gains.gain_options`). The verdicts are computed when Lottery is first shown; this
prints, per scope (all sources; the source with per-image predictions; the ImageNet testbed),
the median seconds (loading the scope's data included) at each number of draws and their
ratio. One warm-up pass first (imports,
the store's pages), then the two alternate so drift hits both alike.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

SCOPES = (None, "analysing-relations", "imagenet-testbed")


def main() -> None:
    from lottery_tui.report import service
    from lottery_tui.report.selection import COMPARE_RESAMPLES, REPORT_RESAMPLES
    from lottery_tui.store.identity import ModelFilter
    from lottery_tui.store.paths import resolve_db_path
    from lottery_tui.tui.gains import report_context

    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--db", type=Path, default=None, help="the store (default: as `lottery`)")
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()

    import duckdb

    con = duckdb.connect(str(resolve_db_path(args.db)), read_only=True)
    counts = (REPORT_RESAMPLES, COMPARE_RESAMPLES)
    print(f"{'scope':<22}{REPORT_RESAMPLES:>10,} draws{COMPARE_RESAMPLES:>10,} draws   ratio")
    for source in SCOPES:
        keep = ModelFilter(source=source)

        def run(draws: int, keep=keep) -> float:
            """A fresh context each time, as the explorer loads one per scope (a context
            keeps its bootstrap draws)."""
            start = time.perf_counter()
            context = report_context(con, "imagenet", None, keep)
            service.marginal_gains(context, service.Options(resamples=draws, seed=0), top=None)
            return time.perf_counter() - start

        run(REPORT_RESAMPLES)  # warm-up
        times: dict[int, list[float]] = {n: [] for n in counts}
        for _ in range(args.repeat):
            for n in counts:
                times[n].append(run(n))
        low, high = (statistics.median(times[n]) for n in counts)
        print(f"{source or 'all sources':<22}{low:>14.2f} s{high:>14.2f} s{high / low:>7.1f}x")


if __name__ == "__main__":
    main()
