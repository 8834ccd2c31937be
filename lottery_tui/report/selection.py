"""What a report is about (`Selection`) and how its statistics are drawn (`Options`).

The CLI (`lottery report`, `lottery compare`), the Python API (`lottery_tui.open`) and the
explorer build these two objects and nothing else; `ReportContext.load` turns a selection into
loaded data, and every question takes that context first, so a question asked alone keeps every
filter the selection names.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING

from lottery_tui.errors import InputError

if TYPE_CHECKING:  # light at import: the CLI's parser reads ADJUSTMENTS before --help
    from lottery_tui.report.data import Aggregates
    from lottery_tui.store.identity import ModelRef

DEFAULT_FOCUS = 20  # models near the top studied in depth when --top is not given
ADJUSTMENTS = ("holm", "bh", "hochberg", "holm-sidak", "bonferroni")
REPORT_RESAMPLES = 1000  # `lottery report` and `store.report` default
COMPARE_RESAMPLES = 10000  # `lottery compare` and `store.compare` default (two models only)


@dataclass(frozen=True)
class Selection:
    """Which models and datasets: the reference plus `datasets` (None: every dataset), models
    whose name matches the glob `models` (SOURCE:NAME when it has a ':'), from `source` with
    the given pretraining and protocol tags (None: any)."""

    reference: str = "imagenet"
    datasets: tuple[str, ...] | None = None
    models: str | None = None
    source: str | None = None
    pretraining: str | None = None  # lottery_tui.store.pretraining.PRETRAINING
    protocol: str | None = None  # lottery_tui.store.pretraining.PROTOCOLS

    def __post_init__(self) -> None:
        if self.datasets is not None:  # lists from argparse or callers: hashable and frozen
            object.__setattr__(self, "datasets", tuple(self.datasets))


@dataclass(frozen=True)
class Options:
    """How the statistics are computed: bootstrap resamples, the level alpha (intervals at
    1 - alpha, tests at alpha), the multiplicity adjustment and the seed every random stream
    is derived from (`report.streams`)."""

    resamples: int = REPORT_RESAMPLES
    alpha: float = 0.05
    adjustment: str = "holm"
    seed: int = 0

    def __post_init__(self) -> None:
        if self.resamples <= 0:
            raise InputError(f"resamples: must be a positive integer, got {self.resamples}")
        if self.seed < 0:
            raise InputError(f"seed: must be a non-negative integer, got {self.seed}")
        if not 0 < self.alpha < 1:
            raise InputError(f"alpha: must be between 0 and 1, got {self.alpha}")
        if self.adjustment not in ADJUSTMENTS:
            raise InputError(
                f"adjustment: unknown method {self.adjustment!r}; known: {', '.join(ADJUSTMENTS)}"
            )


def top_on_reference(agg: Aggregates, reference: str, top: int | None) -> list[ModelRef]:
    """Models with a reference result, best first (ties broken by `ModelRef.key`)."""
    import numpy as np

    acc = agg.column(reference)
    order = sorted(
        (i for i in range(len(agg.models)) if not np.isnan(acc[i])),
        key=lambda i: (-acc[i], agg.models[i].key),
    )
    chosen = [agg.models[i] for i in order]
    return chosen if top is None else chosen[:top]
