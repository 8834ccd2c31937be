"""What each statistics pane says about its numbers: which multiplicity family its adjusted
p-values come from (method, over what, how many members) and how many bootstrap draws made its
intervals, so two panes that give one pair different numbers say why (different families)."""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from lottery_tui.tui.widgets.display import counted

METHOD_NAMES = {
    "holm": "Holm",
    "bh": "Benjamini-Hochberg",
    "hochberg": "Hochberg",
    "holm-sidak": "Holm-Šidák",
    "bonferroni": "Bonferroni",
}


def family_text(method: str, members: int, over: str) -> str:
    """E.g. "p Holm-adjusted over 9 gains": `over` is the members' noun, singular ("gain")."""
    return f"p {METHOD_NAMES.get(method, method)}-adjusted over {counted(members, over)}"


def draws_text(draws: int, kind: str = "bootstrap") -> str:
    return f"{draws:,} {kind} draws"


def gains_family(gains: list[Any], reference: str) -> str:
    """The Lottery verdicts' family: one reference test per pair (a pair and its mirror count
    once, as `report.marginal.reference_family` counts them)."""
    if not gains:
        return ""
    members = len({frozenset((g.model, g.below)) for g in gains})
    return f"{family_text(gains[0].adjust_method, members, 'gain')} on {reference}"


def gain_draws(gains: list[Any], draws: int) -> str:
    """The draws behind flip probabilities and the lottery index: the image bootstrap, or a
    binomial simulation where a variant has aggregates only (the report labels each)."""
    from lottery_tui.report.labels import IMAGE_BOOTSTRAP

    if all(v.flip_method == IMAGE_BOOTSTRAP for g in gains for v in g.variants):
        return draws_text(draws)
    return f"{draws_text(draws, 'resampling')} (binomial simulation where aggregate-only)"


def variants_family(gain: Any, draws: int) -> str:
    """The `d` pane's per-variant p: adjusted over this gain's tested variants."""
    members = sum(1 for v in gain.variants if v.p_value == v.p_value)  # NaN: untested
    family = family_text(gain.adjust_method, members, "variant")
    return f"{family} of this gain · {gain_draws([gain], draws)}"


def comparison_family(rows: Iterable[Any], draws: int) -> str:
    """A vs B: adjusted over the datasets the pair shares; draws only where a row is paired
    (an aggregate-only row's interval is computed, not drawn)."""
    from lottery_tui.report.labels import PAIRED

    rows = list(rows)
    if not rows:
        return ""
    family = family_text(rows[0].adjust_method, len(rows), "dataset")
    paired = sum(1 for r in rows if r.mode == PAIRED)
    if paired == 0:
        drawn = "aggregate-only: no bootstrap draws"
    else:
        drawn = f"{draws_text(draws)} on the {counted(paired, 'paired dataset')}"
    return f"{family} of this pair · {drawn}"
