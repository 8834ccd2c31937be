"""Per-image correctness, loaded once per dataset and sliced per question."""

from __future__ import annotations

import duckdb
import numpy as np

from lottery_tui.report.data import Aggregates, load_image_data
from lottery_tui.store import readers
from lottery_tui.store.identity import ModelRef


class PerImage:
    """Per-image correctness of the selected identities (`agg`), loaded once per dataset for
    those of them with per-image predictions there, then sliced: one report touches each
    dataset's predictions once however many questions it asks, and never reads models or
    sources outside its selection."""

    def __init__(self, con: duckdb.DuckDBPyConnection, agg: Aggregates) -> None:
        self.con = con
        self.agg = agg
        self.models: dict[str, set[ModelRef]] = {}
        # per dataset: the identities loaded, their column in the matrix, the matrix, the mask
        self.loaded: dict[str, tuple[dict[ModelRef, int], np.ndarray, np.ndarray | None]] = {}

    def _per_image(self, dataset: str) -> set[ModelRef]:
        if dataset not in self.models:
            ids = readers.per_image_model_ids(
                self.con, dataset, [ref.model_id for ref in self.agg.models]
            )
            self.models[dataset] = {ref for ref in self.agg.models if ref.model_id in ids}
        return self.models[dataset]

    def has(self, dataset: str, models: list[ModelRef] | tuple[ModelRef, ...]) -> bool:
        return bool(models) and set(models) <= self._per_image(dataset)

    def correct(self, dataset: str, models: list[ModelRef]) -> tuple[np.ndarray, np.ndarray | None]:
        """images x models correctness and the scored mask (None: every image counts).

        Sliced from what this dataset already loaded when that holds `models` (a report's rank
        agreement loads every ranked model first); otherwise only `models` are read, so a
        question about the top 20 of 500 per-image models (the explorer's gains) reads 20. An
        image counts when every model of the load has a row for it."""
        loaded = self.loaded.get(dataset)
        if loaded is None or not set(models) <= loaded[0].keys():
            wanted = sorted(set(models) | set(loaded[0] if loaded else []))
            data = load_image_data(self.con, [dataset], wanted)
            loaded = self.loaded[dataset] = (
                {m: j for j, m in enumerate(wanted)},
                data.image_set.correct[dataset],
                data.image_set.scored[dataset],
            )
        column, matrix, scored = loaded
        return matrix[:, [column[m] for m in models]], scored
