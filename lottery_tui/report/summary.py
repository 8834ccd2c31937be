"""The report in one line: how the verdicts fall, what data they rest on, and how often a
variant significantly reverses the reference order of neighbours (point-estimate swaps within
noise are counted apart: they are not evidence of a lottery). The report prints it first; the
explorer shows it above its gains table, both from the same list of marginal gains."""

from __future__ import annotations

from dataclasses import dataclass

from analysis.gains import LOTTERY_WIN, REAL_GAIN, REVERSES, VERDICTS
from lottery_tui.report.labels import AGGREGATE, MIXED, PAIRED
from lottery_tui.report.marginal import MarginalGain

PLURALS = {REAL_GAIN: "real gains", LOTTERY_WIN: "lottery wins"}  # the verdicts that are nouns


@dataclass(frozen=True)
class ReportSummary:
    verdicts: dict[str, int]  # every verdict label, in the rule's order, zeros included
    data: str  # PAIRED, AGGREGATE or MIXED: the tests behind the verdicts ("none": no test)
    paired_tests: int  # reference and variant tests run on per-image data
    aggregate_tests: int  # the same, from aggregate accuracies only (unpaired)
    top: int  # models in the top N studied (those in adjacent pairs)
    adjacent_pairs: int
    swapped_pairs: int  # adjacent pairs in the opposite order on >= 1 variant (point estimates)
    reversed_pairs: int  # adjacent pairs significantly reversed on >= 1 variant (the rule's test)

    def text(self) -> str:
        counts = ", ".join(
            f"{n} {PLURALS.get(label, label) if n != 1 else label}"
            for label, n in self.verdicts.items()
            if n
        )
        gains = sum(self.verdicts.values())
        within_noise = self.swapped_pairs - self.reversed_pairs
        return (
            f"{gains} {'gain' if gains == 1 else 'gains'} judged among the top {self.top} "
            f"({counts or 'none'}); data: {self.data}; {self.reversed_pairs} of "
            f"{self.adjacent_pairs} adjacent pairs significantly reversed on at least one variant "
            f"(adjusted p < alpha); {within_noise} more swapped in point estimates only (within "
            "noise: not lottery evidence)."
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
    reversed_ = sum(any(v.outcome == REVERSES for v in g.variants) for g in adjacent)
    return ReportSummary(verdicts, data, paired, aggregate, top, len(adjacent), swapped, reversed_)
