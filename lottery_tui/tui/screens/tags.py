"""`T`: keep only models of one pretraining or one protocol (store.pretraining's tags), in
Results and in the statistics views alike: e.g. self-supervised linear probes only."""

from __future__ import annotations

from lottery_tui.store.pretraining import PRETRAINING, PROTOCOLS
from lottery_tui.tui.screens.picker import PickerScreen

TAGS = {"pretraining": PRETRAINING, "protocol": PROTOCOLS}


def choice(tag: str, value: str | None) -> str:
    """A picker value: `tag=value` (`tag=`: any)."""
    return f"{tag}={value or ''}"


def parse(picked: str) -> tuple[str, str | None]:
    """(tag, value or None: any) from a picker value."""
    tag, _, value = picked.partition("=")
    return tag, value or None


class TagsScreen(PickerScreen):
    """Each pretraining, then each protocol ("any" first in each); the current two marked."""

    def __init__(self, pretraining: str | None, protocol: str | None) -> None:
        current = {"pretraining": pretraining, "protocol": protocol}
        super().__init__(
            "Keep only models with this pretraining or protocol (Results and statistics)",
            [
                (choice(tag, value), f"{tag}: {value or 'any'}")
                for tag, values in TAGS.items()
                for value in (None, *values)
            ],
            choice("pretraining", pretraining),
            marked={choice(tag, value) for tag, value in current.items()},
        )
