"""Which whole columns of a table fit a width: the one rule behind the CLI's text tables and
the markdown tables of `compare` (a value is never cut; a column is shown or dropped)."""

from __future__ import annotations

from collections.abc import Callable, Sequence


def columns_that_fit(
    names: Sequence[str],
    priority: Sequence[str],
    width: int,
    measure: Callable[[list[str]], int],
) -> tuple[list[str], list[str]]:
    """The columns kept (in table order) and dropped (in table order): the least important by
    `priority` (names not listed count least) go first until `measure(kept) <= width`; the
    first column always stays."""
    rank = {name: i for i, name in enumerate(priority)}
    kept = list(names)
    for name in sorted(names[1:], key=lambda n: rank.get(n, len(rank)), reverse=True):
        if measure(kept) <= width:
            break
        kept.remove(name)
    return kept, [name for name in names if name not in kept]
