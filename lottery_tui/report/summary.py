"""The report in one line: how the verdicts fall, what data they rest on, and how often the
reference order of neighbours flips on a variant. The report prints it first; the explorer shows
it above its gains table, both from the same list of marginal gains."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.gains import VERDICTS
from lottery_tui.report.labels import AGGREGATE, MIXED, PAIRED
from lottery_tui.report.marginal import MarginalGain


@dataclass(frozen=True)
class ReportSummary:
    verdicts: dict[str, int]  # every verdict label, in the rule's order, zeros included
    data: str  # PAIRED, AGGREGATE or MIXED: the tests behind the verdicts ("none": no test)
    paired_tests: int  # reference and variant tests run on per-image data
    aggregate_tests: int  # the same, from aggregate accuracies only (unpaired)
    top: int  # models in the top N studied (those in adjacent pairs)
    adjacent_pairs: int
    swapped_pairs: int  # adjacent pairs in the opposite order on >= 1 variant (point estimates)

    def text(self) -> str:
        counts = ", ".join(f"{n} {label}" for label, n in self.verdicts.items() if n)
        gains = sum(self.verdicts.values())
        return (
            f"{gains} gains judged among the top {self.top} ({counts or 'none'}); "
            f"data: {self.data}; {self.swapped_pairs} of {self.adjacent_pairs} adjacent pairs "
            "swap order on at least one variant (point estimates)."
        )


def summarize(gains: list[MarginalGain]) -> ReportSummary:
    """Counts over the gains as judged. A pair tied on the reference has no order to swap."""
    verdicts = dict.fromkeys(VERDICTS, 0)
    for g in gains:
        verdicts[g.verdict] += 1
    modes = [m for g in gains for m in (g.mode, *(v.mode for v in g.variants))]
    paired = sum(m == PAIRED for m in modes)
    aggregate = len(modes) - paired
    data = MIXED if paired and aggregate else PAIRED if paired else AGGREGATE if modes else "none"
    adjacent = [g for g in gains if g.adjacent]
    top = len({m for g in adjacent for m in (g.model, g.below)})
    swapped = sum(any(v.delta * g.delta < 0 for v in g.variants) for g in adjacent)
    return ReportSummary(verdicts, data, paired, aggregate, top, len(adjacent), swapped)
