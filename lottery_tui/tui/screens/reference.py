"""`R`: choose the reference dataset that deltas, rank changes, rankings and verdicts are taken
against (the paper's reference is ImageNet val, but a gain can be judged against any dataset)."""

from __future__ import annotations

from lottery_tui.tui.queries import DatasetInfo
from lottery_tui.tui.screens.picker import PickerScreen


class ReferenceScreen(PickerScreen):
    """The store's datasets, the current reference marked."""

    def __init__(self, datasets: list[DatasetInfo], current: str) -> None:
        choices = [
            (d.dataset_id, f"{d.dataset_id} ({d.label}, {d.n_models:,} models)") for d in datasets
        ]
        super().__init__(
            "Reference dataset: Δ, rank change, Rankings and Lottery follow it", choices, current
        )
