"""One load per report: the selection's data, and one joint draw per image set, shared by every
question.

`ReportContext.load(con, selection)` reads the selection's aggregates once and ranks the models
on the reference; its `PerImage` cache reads each dataset's per-image rows at most once, for the
selected identities only. A report's context shares its draws (`share_draws`): the joint
image bootstrap is made once per image set for every ranked model with per-image data there and
sliced per question (report.draws), so adding a `--pair` changes no other draw; a question
asked alone (the explorer) draws over its own models only, which costs far less with hundreds
of per-image models. Every question (rank
agreement, marginal gains, rank distribution, effective robustness) takes the context first, so
one asked alone keeps every filter of the selection.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import duckdb
import numpy as np

from lottery_tui.errors import InputError
from lottery_tui.report.data import Aggregates, load_aggregates
from lottery_tui.report.per_image import PerImage
from lottery_tui.report.selection import DEFAULT_FOCUS, Selection, top_on_reference
from lottery_tui.store.identity import ModelRef


@dataclass(frozen=True)
class ReportContext:
    con: duckdb.DuckDBPyConnection
    selection: Selection
    agg: Aggregates
    ranked: tuple[ModelRef, ...]  # identities with a reference result, best first
    per_image: PerImage
    share_draws: bool = False  # one joint draw per image set for every question (a report)
    draws_cache: dict = field(default_factory=dict, compare=False, repr=False)

    @classmethod
    def load(
        cls, con: duckdb.DuckDBPyConnection, selection: Selection, *, share_draws: bool = False
    ) -> ReportContext:
        """The reference plus the selection's datasets (None: all), filtered by model glob,
        source and tags."""
        s = selection
        wanted = None if s.datasets is None else list(dict.fromkeys([s.reference, *s.datasets]))
        agg = load_aggregates(
            con,
            datasets=wanted,
            models=s.models,
            source=s.source,
            pretraining=s.pretraining,
            protocol=s.protocol,
        )
        if s.reference not in agg.datasets:
            raise InputError(f"--reference: no results on dataset {s.reference!r} in the selection")
        ranked = tuple(top_on_reference(agg, s.reference, None))
        return cls(con, s, agg, ranked, PerImage(con, agg), share_draws)

    @property
    def reference(self) -> str:
        return self.selection.reference

    @property
    def variants(self) -> list[str]:
        """Every selected dataset except the reference."""
        return [d for d in self.agg.datasets if d != self.reference]

    def focus(self, top: int | None) -> list[ModelRef]:
        """The models studied in depth: the top `top` (default DEFAULT_FOCUS) on the reference."""
        return list(self.ranked[: top or DEFAULT_FOCUS])

    def ranked_with(self, dataset: str) -> list[ModelRef]:
        """Models with results on both the reference and `dataset`, best first."""
        has = dict(zip(self.agg.models, ~np.isnan(self.agg.column(dataset)), strict=True))
        return [m for m in self.ranked if has[m]]
