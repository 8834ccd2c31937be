"""Which models and datasets one service call studies, loaded and ranked once per call."""

from __future__ import annotations

from dataclasses import dataclass

import duckdb
import numpy as np

from lottery_tui.errors import InputError
from lottery_tui.report.data import Aggregates, load_aggregates
from lottery_tui.report.defaults import DEFAULT_FOCUS


@dataclass(frozen=True)
class Selection:
    """The aggregates of the selected models and the reference ranking every function starts
    from: built once so each public function shares one preamble."""

    agg: Aggregates
    reference: str
    ranked: tuple[str, ...]  # models with a reference result, best first

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
    ) -> Selection:
        """The reference plus `datasets` (None: all), filtered by model glob, source and tags."""
        wanted = None if datasets is None else list(dict.fromkeys([reference, *datasets]))
        agg = load_aggregates(
            con,
            datasets=wanted,
            models=models,
            source=source,
            pretraining=pretraining,
            protocol=protocol,
        )
        if reference not in agg.datasets:
            raise InputError(f"--reference: no results on dataset {reference!r} in the selection")
        return cls(agg, reference, tuple(top_on_reference(agg, reference, None)))

    @property
    def variants(self) -> list[str]:
        """Every selected dataset except the reference."""
        return [d for d in self.agg.datasets if d != self.reference]

    def focus(self, top: int | None) -> list[str]:
        """The models studied in depth: the top `top` (default DEFAULT_FOCUS) on the reference."""
        return list(self.ranked[: top or DEFAULT_FOCUS])

    def ranked_with(self, dataset: str) -> list[str]:
        """Models with results on both the reference and `dataset`, best first."""
        has = dict(zip(self.agg.models, ~np.isnan(self.agg.column(dataset)), strict=True))
        return [m for m in self.ranked if has[m]]


def top_on_reference(agg: Aggregates, reference: str, top: int | None) -> list[str]:
    """Models with a reference result, best first (ties broken by name for determinism)."""
    acc = agg.column(reference)
    order = sorted(
        (i for i in range(len(agg.models)) if not np.isnan(acc[i])),
        key=lambda i: (-acc[i], agg.models[i]),
    )
    chosen = [agg.models[i] for i in order]
    return chosen if top is None else chosen[:top]
