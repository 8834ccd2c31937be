"""What the explorer's views are computed for, as one value: the app holds it as a reactive
and every view follows it, so a change of reference, source or tag is one assignment."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass

from lottery_tui.store.explore import DEFAULT_REFERENCE
from lottery_tui.store.identity import ModelFilter


@dataclass(frozen=True)
class Scope:
    """The reference dataset (R) and the models kept: one import source (S), one pretraining
    or protocol (T). A result computed for another scope is stale.

    It unpacks as `(reference, models)`, the pair every statistic and worker message takes."""

    reference: str = DEFAULT_REFERENCE
    source: str | None = None
    pretraining: str | None = None
    protocol: str | None = None

    @property
    def models(self) -> ModelFilter:
        """The models the statistics views judge (Rankings, Lottery, Plots)."""
        return ModelFilter(self.source, self.pretraining, self.protocol)

    @property
    def tags(self) -> ModelFilter:
        """The models Results lists: every source, the chosen pretraining and protocol only."""
        return ModelFilter(None, self.pretraining, self.protocol)

    def __iter__(self) -> Iterator[object]:
        return iter((self.reference, self.models))

    def __getitem__(self, index: int) -> object:
        return (self.reference, self.models)[index]
