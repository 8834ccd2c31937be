"""`S`: choose the import source the statistics views work on. The shipped store mixes 1,556
aggregate-only timm models with 15 models that have per-image predictions; only the latter give
paired (McNemar, paired bootstrap) verdicts, and over all models the timm ones crowd them out."""

from __future__ import annotations

from lottery_tui.store.explore import SourceInfo
from lottery_tui.tui.screens.picker import PickerScreen

ALL_SOURCES = ""
"""What the picker returns for "all sources" (None stays "cancelled")."""


class SourceScreen(PickerScreen):
    """ "All sources" then the store's sources, the current one marked."""

    def __init__(self, sources: list[SourceInfo], current: str | None) -> None:
        super().__init__(
            "Source: Rankings, Lottery and Plots use only its models",
            [(ALL_SOURCES, "all sources")]
            + [(s.name, f"{s.name} ({s.n_models:,} models)") for s in sources],
            current or ALL_SOURCES,
        )
