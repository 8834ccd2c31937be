"""One load per report: the selection and its per-image data, shared by every question.

`build_report` loads a `ReportContext` once and passes it to rank agreement, marginal gains,
rank distributions and effective robustness, so the aggregates are read once and each
dataset's per-image predictions at most once, for the selected identities only. Each question
called alone (the explorer, tests) loads its own; a context passed in must have been loaded for
the same reference, datasets, models, source and tags as the call (it replaces them).
"""

from __future__ import annotations

from dataclasses import dataclass

import duckdb

from lottery_tui.report.per_image import PerImage
from lottery_tui.report.selection import Selection


@dataclass(frozen=True)
class ReportContext:
    con: duckdb.DuckDBPyConnection
    selection: Selection
    per_image: PerImage

    @classmethod
    def load(
        cls,
        con: duckdb.DuckDBPyConnection,
        reference: str,
        datasets: list[str] | None,
        models: str | None,
        source: str | None,
        *,
        pretraining: str | None = None,
        protocol: str | None = None,
    ) -> ReportContext:
        selection = Selection.load(
            con, reference, datasets, models, source, pretraining=pretraining, protocol=protocol
        )
        return cls(con, selection, PerImage(con, selection.agg))
