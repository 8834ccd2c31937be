"""Model identity: a model is (source, name), written `SOURCE:NAME`.

The same name from two sources is two models (the testbed's `resnet50` is torchvision's
checkpoint, analysing-relations' is timm's). Everywhere a user names a model it goes through
`resolve_model`: `SOURCE:NAME` names one identity; a bare `NAME` works when exactly one source
(within `--source`, if given) has it, and otherwise fails with one line listing the candidates.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from lottery_tui.errors import InputError

SEPARATOR = ":"


@dataclass(frozen=True, order=True)
class ModelRef:
    """One model identity, with the store's id for it."""

    source: str
    name: str
    model_id: int

    @property
    def qualified(self) -> str:
        return f"{self.source}{SEPARATOR}{self.name}"


def known_sources(con: duckdb.DuckDBPyConnection) -> list[str]:
    return [r[0] for r in con.execute("SELECT DISTINCT name FROM sources ORDER BY 1").fetchall()]


def check_source(con: duckdb.DuckDBPyConnection, source: str | None) -> None:
    """A `--source` must name a source in the store."""
    if source is None:
        return
    known = known_sources(con)
    if source not in known:
        raise InputError(f"--source: unknown source {source!r}; known: {', '.join(known)}")


def _refs(con: duckdb.DuckDBPyConnection, where: str, params: dict) -> list[ModelRef]:
    rows = con.execute(
        f"SELECT source, name, model_id FROM models WHERE {where} ORDER BY source, name", params
    ).fetchall()
    return [ModelRef(*row) for row in rows]


def resolve_model(con: duckdb.DuckDBPyConnection, spec: str, source: str | None = None) -> ModelRef:
    """The identity `spec` names: `SOURCE:NAME`, or a `NAME` exactly one source has (one of
    `source` when given). Raises InputError (one line, with the candidates) otherwise."""
    check_source(con, source)
    prefix, _, rest = spec.partition(SEPARATOR)
    if rest:
        exact = _refs(con, "source = $s AND name = $n", {"s": prefix, "n": rest})
        if exact:
            if source is not None and prefix != source:
                raise InputError(f"model {spec!r} is not from --source {source!r}")
            return exact[0]
    candidates = _refs(con, "name = $n AND ($s IS NULL OR source = $s)", {"n": spec, "s": source})
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        listed = ", ".join(ref.qualified for ref in candidates)
        raise InputError(f"model {spec!r} is in {len(candidates)} sources; write one of {listed}")
    within = f" in source {source!r}" if source is not None else ""
    raise InputError(f"no model {spec!r}{within} (write SOURCE:NAME, e.g. timm:resnet50.a1_in1k)")


def select_models(
    con: duckdb.DuckDBPyConnection, *, source: str | None = None, pattern: str | None = None
) -> list[ModelRef]:
    """Every identity from `source` (all if None) whose name matches the glob `pattern`; a
    pattern with ':' is matched against `SOURCE:NAME` instead."""
    check_source(con, source)
    refs = _refs(con, "$s IS NULL OR source = $s", {"s": source})
    if pattern is None:
        return refs
    qualified = SEPARATOR in pattern
    return [
        ref
        for ref in refs
        if fnmatch.fnmatchcase(ref.qualified if qualified else ref.name, pattern)
    ]


def display_names(refs: Iterable[ModelRef]) -> dict[ModelRef, str]:
    """What to call each identity in output: its bare name where no other identity among
    `refs` has that name, else `SOURCE:NAME`."""
    refs = list(refs)
    count = Counter(ref.name for ref in refs)
    return {ref: ref.name if count[ref.name] == 1 else ref.qualified for ref in refs}
