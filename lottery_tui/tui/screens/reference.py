"""`R`: choose the reference dataset that deltas, rank changes, rankings and verdicts are taken
against (the paper's reference is ImageNet val, but a gain can be judged against any dataset)."""

from __future__ import annotations

from lottery_tui.store.explore import DatasetInfo
from lottery_tui.tui.screens.picker import PickerScreen


class ReferenceScreen(PickerScreen):
    """The datasets with results (from `source`, if one is chosen), in the store's order, the
    current reference marked."""

    def __init__(
        self, datasets: list[DatasetInfo], current: str, source: str | None = None
    ) -> None:
        choices = [
            (d.dataset_id, f"{d.dataset_id} ({d.label}, {d.n_models:,} models)") for d in datasets
        ]
        prompt = "Reference dataset: Δ, rank change, Rankings and Lottery follow it"
        if source is not None:
            prompt += f" (datasets with results from {source})"
        super().__init__(prompt, choices, current)
