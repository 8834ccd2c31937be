"""'Did you mean ...' for a model name the store does not have.

A user types the method ('swav') or a near miss ('resnet50_swaw'); the error names the models
they probably meant, within the same filters, so the next command works.
"""

from __future__ import annotations

import difflib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    import duckdb

    from lottery_tui.store.identity import ModelFilter

MAX_SUGGESTIONS = 3
_CLOSE_ENOUGH = 0.6  # difflib ratio below which a name is not offered


def similar_names(names: list[str], spec: str, limit: int = MAX_SUGGESTIONS) -> list[str]:
    """The names closest to `spec`: those that contain it (shortest first, so 'swav' finds
    'resnet50_swav' before longer names), then difflib's close matches."""
    wanted = spec.lower()
    containing = sorted((n for n in names if wanted in n.lower()), key=lambda n: (len(n), n))
    close = difflib.get_close_matches(spec, names, n=limit, cutoff=_CLOSE_ENOUGH)
    return list(dict.fromkeys([*containing, *close]))[:limit]


def did_you_mean(con: duckdb.DuckDBPyConnection, spec: str, keep: ModelFilter) -> str:
    """'; did you mean A, B or C?' over the models `keep` lets through (SOURCE:NAME where a
    name is in several sources), or '' when no name is close."""
    from lottery_tui.store.identity import SEPARATOR, ModelFilter

    rows = con.execute(
        f"SELECT source, name FROM models WHERE same_as IS NULL AND {ModelFilter.SQL}",
        keep.params(),
    ).fetchall()
    sources: dict[str, list[str]] = {}
    for source, name in rows:
        sources.setdefault(name, []).append(source)
    prefix, _, rest = spec.partition(SEPARATOR)
    found = similar_names(sorted(sources), rest or prefix)
    if not found:
        return ""
    shown = [
        n if len(sources[n]) == 1 else " or ".join(f"{s}{SEPARATOR}{n}" for s in sorted(sources[n]))
        for n in found
    ]
    listed = ", ".join(shown[:-1]) + " or " + shown[-1] if len(shown) > 1 else shown[0]
    return f"; did you mean {listed}?"
