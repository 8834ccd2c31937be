"""Model names in a narrow column: cut in the middle, never two models reading the same.

timm names run to 56 characters and differ at either end (`..._mim_in22k_ft_in1k`
vs `..._ft_in22k_in1k`; `resnet50.a1_in1k` at two image sizes `@224` / `@288`). Cutting the end
made 13 pairs of different models identical at 44 characters; a middle cut keeps the
architecture and the tag, and a pair that would still read the same gets a different cut.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable

ELLIPSIS = "…"
HEAD_SHARE = 0.6
"""Of the characters kept, the share from the start (the architecture); the rest is the end."""


def middle_cut(name: str, width: int, tail: int | None = None) -> str:
    """`name` in at most `width` characters: whole if it fits, else head…tail (`tail` end
    characters, by default what `HEAD_SHARE` leaves)."""
    if len(name) <= width:
        return name
    if width < 3:
        return name[:width]
    kept = width - len(ELLIPSIS)
    if tail is None:
        tail = kept - round(kept * HEAD_SHARE)
    tail = max(1, min(kept - 1, tail))
    return f"{name[: kept - tail]}{ELLIPSIS}{name[-tail:]}"


def fit_names(names: Iterable[str], width: int) -> dict[str, str]:
    """Each distinct name -> its text in `width` characters, all texts distinct: names that a
    cut makes equal are cut elsewhere (more of the end, else more of the start) until they
    differ, all at one place if one place does it, else each at its first free place; a name
    no cut sets apart ends in a counter ("~2")."""
    distinct = sorted(set(names))
    texts = {n: middle_cut(n, width) for n in distinct}
    groups: dict[str, list[str]] = defaultdict(list)
    for name, text in texts.items():
        groups[text].append(name)
    taken = set(texts.values())
    for text, group in groups.items():
        if len(group) < 2:
            continue
        taken.discard(text)
        kept = width - len(ELLIPSIS)
        default = kept - round(kept * HEAD_SHARE)
        tails = [*range(default + 1, kept), *range(default - 1, 0, -1)]
        for tail in tails:
            cut = [middle_cut(n, width, tail) for n in group]
            if len(set(cut)) == len(group) and not taken & set(cut):
                break
        else:  # no one cut tells them all apart: each name its own first free cut
            cut = [_first_free(n, width, tails, taken) for n in group]
        for name, new in zip(group, cut, strict=True):
            texts[name] = new
            taken.add(new)
    return texts


def _first_free(name: str, width: int, tails: list[int], taken: set[str]) -> str:
    """The first cut of `name` no other name has; failing that, one with a counter ("~2")."""
    for tail in tails:
        text = middle_cut(name, width, tail)
        if text not in taken:
            taken.add(text)
            return text
    base, i = middle_cut(name, width), 2
    while (text := f"{base[: max(0, width - len(str(i)) - 1)]}~{i}") in taken:
        i += 1
    taken.add(text)
    return text
