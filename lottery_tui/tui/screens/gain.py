"""`d` in Lottery: one marginal gain in full: how it fares on each variant and its lottery index."""

from __future__ import annotations

from typing import Any, ClassVar

import pyarrow as pa
from textual.app import ComposeResult
from textual.binding import Binding, BindingType
from textual.containers import Vertical
from textual.screen import ModalScreen
from textual.widgets import Static

from lottery_tui.report.numbers import format_p
from lottery_tui.tui.stats import present, to_table
from lottery_tui.tui.widgets.arrow_table import ArrowTable

VARIANT_COLUMNS = [  # p_adjusted before the interval: it must fit in 80 columns
    "dataset",
    "outcome",
    "delta",
    "p_adjusted",
    "ci_low",
    "ci_high",
    "mdd",
    "below_detectable",
    "flip_probability",
]
VARIANT_FRACTIONS = ["delta", "ci_low", "ci_high", "mdd", "flip_probability", "flip_probability_se"]
VARIANT_UNITS = "delta, CI and MDD in pp, flip probability in %"
"""Said in the caption: in the headers they would push the interval off 80 columns."""


def variant_table(gain: Any) -> pa.Table:
    """One row per variant: outcome (holds / reverses / inconclusive), delta and its interval
    where the report gives one, in percentage points, and the adjusted p."""
    return present(to_table(gain.variants), first=VARIANT_COLUMNS, percent=VARIANT_FRACTIONS)


def lottery_table(gain: Any) -> pa.Table:
    """One row per aggregation rule: how often a random subset of variants reverses the gain."""
    table = present(
        to_table(gain.lottery),
        first=["rule", "index", "probability", "monte_carlo_se"],
        percent=["probability", "monte_carlo_se"],
    )
    if table.num_rows == 0:
        return table
    table = table.rename_columns(
        {"probability": "probability (%)", "monte_carlo_se": "Monte Carlo SE (%)"}
    )
    by_size = [" / ".join(f"{100 * p:.1f}" for p in row.by_subset_size) for row in gain.lottery]
    return table.append_column("by subset size (%)", pa.array(by_size, pa.string()))


def headline(gain: Any, shown: tuple[str, str]) -> str:
    """The gain in one line: who beats whom (`shown`: its two models as the view shows them) on
    which reference, by how much, and the verdict."""
    return (
        f"{shown[0]} over {shown[1]} on {gain.reference}: "
        f"Δ {100 * gain.delta:+.2f} pp [{100 * gain.ci_low:+.2f}, {100 * gain.ci_high:+.2f}] "
        f"({gain.ci_method}), adjusted p {format_p(gain.p_adjusted)} · "
        f"{gain.verdict} · better on every variant? intersection-union test "
        f"p = {format_p(gain.p_all_variants)}"
    )


class GainDetailScreen(ModalScreen[None]):
    """Built from the `MarginalGain` the Lottery view already holds: no database work here."""

    BINDINGS: ClassVar[list[BindingType]] = [
        Binding("escape,q", "dismiss", "Close", id="gain.close"),
    ]
    DEFAULT_CSS = """
    GainDetailScreen { align: center middle; }
    GainDetailScreen > Vertical {
        width: 98%; height: 96%; border: round $primary; background: $surface;
    }
    GainDetailScreen #gain-headline { height: auto; max-height: 5; padding: 0 1; }
    GainDetailScreen #variants-table { height: 1fr; }
    GainDetailScreen #lottery-index-table { height: 1fr; }
    """

    def __init__(
        self, gain: Any, shown: tuple[str, str], gains_family: str, variants_family: str
    ) -> None:
        """`shown`: the gain's two models as the Lottery row names them; `gains_family` adjusted
        the headline's p (over the verdicts), `variants_family` the per-variant p
        (tui.families)."""
        super().__init__()
        self.gain = gain
        self.shown = shown
        self.gains_family = gains_family
        self.variants_family = variants_family

    def compose(self) -> ComposeResult:
        with Vertical():
            yield Static(
                f"{headline(self.gain, self.shown)} · {self.gains_family}", id="gain-headline"
            )
            yield ArrowTable(  # the dataset and its outcome stay in view scrolling right
                title="Per variant", max_column_width=30, pinned=2, id="variants-table"
            )
            yield ArrowTable(
                title="Lottery index (subsets of variants)",
                max_column_width=30,
                id="lottery-index-table",
            )

    def on_mount(self) -> None:
        variants = self.query_one("#variants-table", ArrowTable)
        variants.load(variant_table(self.gain))
        variants.set_note(f"{VARIANT_UNITS} · {self.variants_family}")
        self.query_one("#lottery-index-table", ArrowTable).load(lottery_table(self.gain))
        variants.focus_table()
