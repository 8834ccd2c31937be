"""One small report of the shipped store (top 8, 100 resamples) and its population, shared by
the figure tests: drawing is what they test, not the statistics. They need the [figures]
extra (matplotlib), which the test install includes."""

from __future__ import annotations

from pathlib import Path

import pytest

import lottery_tui
from lottery_tui.report.data import Aggregates
from lottery_tui.report.service import Report

TOP = 8
KEYWORDS = {"resamples": 100, "seed": 3}


@pytest.fixture(scope="session")
def shipped_report(shipped_db: Path) -> tuple[Report, Aggregates]:
    """Through the Python API, as `lottery figure` builds it."""
    with lottery_tui.open(shipped_db) as store:
        result = store.report(top=TOP, **KEYWORDS)
    return result.data, result.population
