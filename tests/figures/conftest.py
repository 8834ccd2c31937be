"""One small report of the shipped store (top 8, 100 resamples) and its population, shared by
the figure tests: drawing is what they test, not the statistics. They need the [figures]
extra (matplotlib), which the test install includes."""

from __future__ import annotations

from pathlib import Path

import pytest

from lottery_tui.report.data import Aggregates
from lottery_tui.report.selection import Selection
from lottery_tui.report.service import Report, ReportOptions, build_report
from lottery_tui.store.connection import connect

OPTIONS = ReportOptions(top=8, resamples=100, seed=3)


@pytest.fixture(scope="session")
def shipped_report(shipped_db: Path) -> tuple[Report, Aggregates]:
    o = OPTIONS
    with connect(shipped_db, read_only=True) as con:
        report = build_report(con, o)
        population = Selection.load(con, o.reference, o.datasets, o.models, o.source).agg
    return report, population
