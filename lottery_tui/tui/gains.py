"""The marginal gains of one scope, computed once for every view that shows them (the Lottery
view's verdicts, the one-line lottery summary above Lottery and Rankings)."""

from __future__ import annotations

import threading
from concurrent.futures import Future
from typing import Any

import duckdb

from lottery_tui.store.explore import check_source
from lottery_tui.store.identity import ModelFilter
from lottery_tui.tui.scope import Scope


def report_context(
    cur: duckdb.DuckDBPyConnection, reference: str, datasets: list[str] | None, keep: ModelFilter
) -> Any:
    """The report layer's selection of the models `keep` lets through, for a statistic."""
    from lottery_tui.report.context import ReportContext
    from lottery_tui.report.selection import Selection

    selection = Selection(reference, datasets, None, keep.source, keep.pretraining, keep.protocol)
    return ReportContext.load(cur, selection)


class GainsCache:
    """`MarginalGain` lists by (scope, top N); the first worker to ask computes, others wait."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._futures: dict[tuple[Scope, int | None], Future[list[Any]]] = {}

    def get(self, cursor_of, scope: Scope, top: int | None) -> list[Any]:
        """The gains for `scope` among the top `top` (None: the report's default). Blocking:
        call from a worker; `cursor_of()` gives a database cursor context."""
        key = (scope, top)
        with self._lock:
            future = self._futures.get(key)
            owner = future is None
            if owner:
                future = self._futures[key] = Future()
        if owner:
            try:
                future.set_result(self._compute(cursor_of, scope, top))
            except BaseException as exc:
                with self._lock:  # not cached: the next ask tries again
                    self._futures.pop(key, None)
                future.set_exception(exc)
        return future.result()

    @staticmethod
    def _compute(cursor_of, scope: Scope, top: int | None) -> list[Any]:
        from lottery_tui.report import service

        reference, keep = scope
        with cursor_of() as cur:
            check_source(cur, keep)
            context = report_context(cur, reference, None, keep)
            return service.marginal_gains(context, gain_options(), top=top)

    def clear(self) -> None:
        """New results in the store: everything is computed anew."""
        with self._lock:
            self._futures.clear()


def gain_options() -> Any:
    """How the explorer draws every interval it shows, the verdicts' and the compare pane's
    alike: the report draws each pair's bootstrap from its own stream (`report/streams.py`),
    so with one number of draws a pair shows one interval wherever it appears. That number is
    `lottery report`'s default (1,000), not `lottery compare`'s 10,000: the verdicts at 10,000
    cost 1.6-4.2x as long, 1-3 s more per Lottery key (bench/bench_explorer_draws.py, load 8
    on 2 cores). Seed 0, as the CLI."""
    from lottery_tui.report.selection import REPORT_RESAMPLES, Options

    return Options(resamples=REPORT_RESAMPLES, seed=0)


def summary_line(gains: list[Any], top: int | None) -> str:
    """The one-line lottery summary (the report's own words) and how to change N."""
    from lottery_tui.report.selection import DEFAULT_FOCUS
    from lottery_tui.report.summary import summarize

    chosen = f"top {top}" if top else f"top {DEFAULT_FOCUS} by default"
    return f"{summarize(gains).text()} · N: {chosen}, +/- in Lottery changes it"
