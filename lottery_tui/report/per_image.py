"""Per-image correctness, loaded once per dataset and sliced per question."""

from __future__ import annotations

import duckdb
import numpy as np

from lottery_tui.report.data import load_image_data, per_image_models


class PerImage:
    """Per-image correctness loaded once per dataset (all its per-image models), then sliced:
    one service call touches each dataset's predictions once however many pairs it tests."""

    def __init__(self, con: duckdb.DuckDBPyConnection) -> None:
        self.con = con
        self.models: dict[str, set[str]] = {}
        self.loaded: dict[str, tuple[list[str], np.ndarray, np.ndarray | None]] = {}

    def has(self, dataset: str, models: list[str] | tuple[str, ...]) -> bool:
        if dataset not in self.models:
            self.models[dataset] = per_image_models(self.con, dataset)
        return bool(models) and set(models) <= self.models[dataset]

    def correct(self, dataset: str, models: list[str]) -> tuple[np.ndarray, np.ndarray | None]:
        """images x models correctness and the scored mask (None: every image counts)."""
        if dataset not in self.loaded:
            everyone = sorted(self.models.get(dataset) or per_image_models(self.con, dataset))
            data = load_image_data(self.con, [dataset], everyone)
            self.loaded[dataset] = (
                everyone,
                data.image_set.correct[dataset],
                data.image_set.scored[dataset],
            )
        everyone, matrix, scored = self.loaded[dataset]
        return matrix[:, [everyone.index(m) for m in models]], scored
