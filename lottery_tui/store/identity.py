"""Model identity: a model is (source, name), written `SOURCE:NAME`.

The same name from two sources is two models (the testbed's `resnet50` is torchvision's
checkpoint, analysing-relations' is timm's). Everywhere a user names a model it goes through
`resolve_model`: `SOURCE:NAME` names one identity; a bare `NAME` works when exactly one source
(within `--source`, if given) has it, and otherwise fails with one line listing the candidates.
A model declared the same checkpoint as another (`declare_same`) resolves to that one.
"""

from __future__ import annotations

import fnmatch
from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass

import duckdb

from lottery_tui.errors import InputError
from lottery_tui.store.suggest import did_you_mean

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

    @property
    def key(self) -> tuple[str, str]:
        """How identities are listed: by name (a listing reads alphabetically), the source
        breaking a shared name."""
        return (self.name, self.source)


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


@dataclass(frozen=True)
class ModelFilter:
    """Which identities a command considers: `--source`, `--pretraining`, `--protocol`
    (None: any)."""

    source: str | None = None
    pretraining: str | None = None
    protocol: str | None = None

    SQL = (
        "($source IS NULL OR source = $source)"
        " AND ($pretraining IS NULL OR pretraining = $pretraining)"
        " AND ($protocol IS NULL OR protocol = $protocol)"
    )

    def params(self) -> dict[str, str | None]:
        return {"source": self.source, "pretraining": self.pretraining, "protocol": self.protocol}

    def describe(self) -> str:
        return " and ".join(f"--{k} {v!r}" for k, v in self.params().items() if v is not None)


def resolve_model(
    con: duckdb.DuckDBPyConnection, spec: str | ModelRef, keep: str | ModelFilter | None = None
) -> ModelRef:
    """The identity `spec` names: an identity itself (a row the explorer showed), `SOURCE:NAME`,
    or a `NAME` exactly one source has, among the identities `keep` (a source name, or a
    ModelFilter) lets through. Raises InputError (one line, with the candidates) otherwise."""
    keep = keep if isinstance(keep, ModelFilter) else ModelFilter(keep)
    check_source(con, keep.source)
    if isinstance(spec, ModelRef):
        found = canonical(con, spec)
        if not _keeps(con, keep, found):
            raise InputError(f"model {spec.qualified!r} is not among {keep.describe()}")
        return found
    prefix, _, rest = spec.partition(SEPARATOR)
    if rest:
        exact = _refs(con, "source = $s AND name = $n", {"s": prefix, "n": rest})
        if exact:
            found = canonical(con, exact[0])
            if not _keeps(con, keep, found):
                raise InputError(f"model {spec!r} is not among {keep.describe()}")
            return found
    candidates = _refs(
        con, f"name = $n AND same_as IS NULL AND {ModelFilter.SQL}", {"n": spec, **keep.params()}
    )
    if not candidates:  # a name only an alias has stands for the model it was declared as
        candidates = sorted({canonical(con, ref) for ref in _refs(con, "name = $n", {"n": spec})})
        candidates = [ref for ref in candidates if _keeps(con, keep, ref)]
    within = f" among {keep.describe()}" if keep.describe() else ""
    hint = did_you_mean(con, spec, keep) or " (write SOURCE:NAME, e.g. timm:resnet50.a1_in1k)"
    return _one(spec, candidates, f"{within}{hint}")


def canonical(con: duckdb.DuckDBPyConnection, ref: ModelRef) -> ModelRef:
    """The model `ref` was declared the same checkpoint as, or `ref` itself."""
    found = _refs(
        con,
        "model_id = (SELECT coalesce(same_as, model_id) FROM models WHERE model_id = $id)",
        {"id": ref.model_id},
    )
    return found[0]


def _keeps(con: duckdb.DuckDBPyConnection, keep: ModelFilter, ref: ModelRef) -> bool:
    where = f"model_id = $id AND {ModelFilter.SQL}"
    return bool(_refs(con, where, {"id": ref.model_id, **keep.params()}))


def declare_same(con: duckdb.DuckDBPyConnection, keep: ModelRef, alias: ModelRef) -> None:
    """Declare `alias` the same checkpoint as `keep`: from now on the statistics read the
    alias's rows as `keep`'s (where `keep` has none, or only the alias has per-image rows),
    and the alias is no longer a model of its own. Its own aliases follow it."""
    keep, alias = canonical(con, keep), canonical(con, alias)
    if keep == alias:
        raise InputError(f"{alias.qualified!r} is already {keep.qualified!r}")
    con.execute(
        "UPDATE models SET same_as = $keep WHERE model_id = $alias OR same_as = $alias",
        {"keep": keep.model_id, "alias": alias.model_id},
    )


def undeclare_same(con: duckdb.DuckDBPyConnection, alias: ModelRef) -> None:
    """Make `alias` a model of its own again."""
    con.execute("UPDATE models SET same_as = NULL WHERE model_id = ?", [alias.model_id])


def exact_model(con: duckdb.DuckDBPyConnection, spec: str) -> ModelRef:
    """The identity `SOURCE:NAME` names, alias or not (for undoing a declaration)."""
    prefix, _, rest = spec.partition(SEPARATOR)
    found = _refs(con, "source = $s AND name = $n", {"s": prefix, "n": rest}) if rest else []
    if not found:
        raise InputError(f"no model {spec!r}: write SOURCE:NAME")
    return found[0]


def identities_named(con: duckdb.DuckDBPyConnection, name: str) -> list[ModelRef]:
    """Every identity with this name, whatever its source."""
    return _refs(con, "name = $n", {"n": name})


def resolve_among(refs: Iterable[ModelRef], spec: str) -> ModelRef:
    """`resolve_model` within given identities (a report's selection)."""
    refs = list(refs)
    exact = [ref for ref in refs if ref.qualified == spec]
    return exact[0] if exact else _one(spec, [r for r in refs if r.name == spec], " selected")


def _one(spec: str, candidates: list[ModelRef], missing: str) -> ModelRef:
    if len(candidates) == 1:
        return candidates[0]
    if candidates:
        listed = ", ".join(ref.qualified for ref in candidates)
        raise InputError(f"model {spec!r} is in {len(candidates)} sources; write one of {listed}")
    raise InputError(f"no model {spec!r}{missing}")


def select_models(
    con: duckdb.DuckDBPyConnection,
    *,
    source: str | None = None,
    pattern: str | None = None,
    pretraining: str | None = None,
    protocol: str | None = None,
) -> list[ModelRef]:
    """Every identity from `source` with the given tags (None: any) whose name matches the glob
    `pattern`; a pattern with ':' is matched against `SOURCE:NAME` instead. What the report,
    `lottery models` and the explorer's filters select."""
    check_source(con, source)
    where = f"same_as IS NULL AND {ModelFilter.SQL}"
    refs = _refs(con, where, ModelFilter(source, pretraining, protocol).params())
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
    `refs` has that name, else `SOURCE:NAME`. The one rule: reports (`Report.names`) and the
    explorer (`store.explore.explorer_names`) both call it."""
    refs = list(refs)
    count = Counter(ref.name for ref in refs)
    return {ref: ref.name if count[ref.name] == 1 else ref.qualified for ref in refs}
