"""Per-image correctness, loaded once per dataset and sliced per question."""

from __future__ import annotations

import duckdb
import numpy as np

from lottery_tui.report.data import Aggregates, load_image_data
from lottery_tui.store import readers


class PerImage:
    """Per-image correctness of the selected identities (`agg`), loaded once per dataset for
    those of them with per-image predictions there, then sliced: one report touches each
    dataset's predictions once however many questions it asks, and never reads models or
    sources outside its selection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, agg: Aggregates) -> None:
        self.con = con
        self.agg = agg
        self.models: dict[str, set[str]] = {}
        self.loaded: dict[str, tuple[list[str], np.ndarray, np.ndarray | None]] = {}

    def _per_image(self, dataset: str) -> set[str]:
        if dataset not in self.models:
            ids = readers.per_image_model_ids(
                self.con, dataset, [ref.model_id for ref in self.agg.refs]
            )
            self.models[dataset] = {
                m for m, ref in zip(self.agg.models, self.agg.refs, strict=True)
                if ref.model_id in ids
            }  # fmt: skip
        return self.models[dataset]

    def has(self, dataset: str, models: list[str] | tuple[str, ...]) -> bool:
        return bool(models) and set(models) <= self._per_image(dataset)

    def correct(self, dataset: str, models: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """images x models correctness and the scored mask (None: every image counts)."""
        if dataset not in self.loaded:
            everyone = sorted(self._per_image(dataset))
            data = load_image_data(self.con, [dataset], [self.agg.ref(m) for m in everyone])
            self.loaded[dataset] = (
                everyone,
                data.image_set.correct[dataset],
                data.image_set.scored[dataset],
            )
        everyone, matrix, scored = self.loaded[dataset]
        return matrix[:, [everyone.index(m) for m in models]], scored
