"""From a store to a figure file in one call: what `lottery figure` and the explorer's `e` key
run, so both draw through the same path as `make_figure`.

Takes an open DuckDB connection (the caller's; this module runs no SQL of its own: the report
layer reads the store) and the report's options.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lottery_tui.figures import make_figure, write_figure

if TYPE_CHECKING:
    from lottery_tui.report.data import Aggregates
    from lottery_tui.report.service import ReportOptions


def load_population(con: Any, options: ReportOptions) -> Aggregates:
    """Every selected model's results (bump and scatter draw them all), for the selection
    `options` describe: the one `build_report` loads for the same options."""
    from lottery_tui.report.selection import Selection

    o = options
    return Selection.load(
        con,
        o.reference,
        o.datasets,
        o.models,
        o.source,
        pretraining=o.pretraining,
        protocol=o.protocol,
    ).agg


def export_figure(
    con: Any,
    options: ReportOptions,
    kind: str,
    path: str | os.PathLike[str],
    *,
    width: str = "single",
    target: str | None = None,
) -> Path:
    """Build the report for `options`, draw `kind` and write it to `path` (all or nothing);
    returns the absolute path."""
    from lottery_tui.report.service import build_report

    report = build_report(con, options)
    population = load_population(con, options)
    figure = make_figure(report, kind, width, population=population, target=target)
    return write_figure(figure, path)
