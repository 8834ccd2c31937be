"""Model rows: names, metadata derived from timm-style names (architecture, family, ...), and
their tags (framework, pretraining, protocol) by the rules of `pretraining.tags`."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

import duckdb

from lottery_tui.store.pretraining import PROBE_SOURCE, TAG_RULES_VERSION, tags
from lottery_tui.store.query import first_row

# Leading tokens that name a port or a variant, not the family ('tf_efficientnet_b0').
_PREFIXES = frozenset({"tf", "legacy", "dm", "gluon", "hf", "test"})
# Trailing depth/width/variant tokens: 'resnet50d' -> 'resnet', 'mobilenetv3' -> 'mobilenet'.
_SIZE_SUFFIX = re.compile(r"(?:v?\d+[a-z]{0,2})+$")


@dataclass(frozen=True)
class ModelInfo:
    name: str
    base_name: str
    architecture: str
    family: str
    pretrained_tag: str | None
    img_size: int | None = None
    param_count: float | None = None
    crop_pct: float | None = None
    interpolation: str | None = None
    # None: from `pretraining.tags` when the model is added
    framework: str | None = None
    pretraining: str | None = None
    protocol: str | None = None


def describe(name: str, base_name: str | None = None, **metadata: object) -> ModelInfo:
    """Metadata for a model from its (timm-style) name: 'arch.tag'."""
    base = base_name or name
    architecture, _, tag = base.partition(".")
    return ModelInfo(
        name=name,
        base_name=base,
        architecture=architecture,
        family=family_of(architecture),
        pretrained_tag=tag or None,
        **metadata,  # type: ignore[arg-type]
    )


def family_of(architecture: str) -> str:
    tokens = [t for t in architecture.lower().split("_") if t]
    while len(tokens) > 1 and tokens[0] in _PREFIXES:
        tokens.pop(0)
    if not tokens:
        return architecture
    return _SIZE_SUFFIX.sub("", tokens[0]) or tokens[0]


class ModelIds(dict[str, int]):
    """Model name -> model_id, and `added`: the names just inserted (models with no rows yet,
    so a writer has nothing of theirs to replace)."""

    def __init__(self, ids: dict[str, int] | None = None, added: frozenset[str] = frozenset()):
        super().__init__(ids or {})
        self.added = added


def ensure_models(
    con: duckdb.DuckDBPyConnection, models: list[ModelInfo], source_id: int | list[int]
) -> ModelIds:
    """Insert the models not yet in the store (existing rows keep their metadata); name -> id.

    `source_id` is where the models come from: one source for all, or one per model. A model's
    identity is (the name of its source, its name), so the same name under another source is
    another model; one call must not bring one name from two source names. Framework,
    pretraining and protocol not given are derived by `pretraining.tags`. The stored models are
    looked up first and only the others inserted, as list parameters, unnested (cheaper than
    registering a table for a few models); `ON CONFLICT DO NOTHING` would cost ~15 ms a call in
    DuckDB even with nothing in conflict, and the caller's write transaction holds the store's
    only write lock, so no other writer can add a model in between.
    """
    if not models:
        return ModelIds()
    source_ids = source_id if isinstance(source_id, list) else [source_id] * len(models)
    found = con.execute(
        """
        SELECT k.source_id, s.name, m.model_id
        FROM (SELECT unnest($ids) AS source_id, unnest($names) AS name, unnest($at) AS at) k
        LEFT JOIN sources s USING (source_id)
        LEFT JOIN models m ON m.source = s.name AND m.name = k.name
        ORDER BY k.at
        """,
        {"ids": source_ids, "names": [m.name for m in models], "at": list(range(len(models)))},
    ).fetchall()  # each model's source name and stored id (or None), in one query
    if any(source is None for _, source, _ in found):
        raise ValueError(f"ensure_models: unknown source id among {sorted(set(source_ids))}")
    sources = [source for _, source, _ in found]
    models = [_tagged(model, source) for model, source in zip(models, sources, strict=True)]
    wanted: dict[tuple[str, str], tuple[ModelInfo, int]] = {}
    for model, source, from_id in zip(models, sources, source_ids, strict=True):
        wanted.setdefault((model.name, source), (model, from_id))
    if len({name for name, _ in wanted}) != len(wanted):
        raise ValueError("ensure_models: one name from two sources in one call")
    ids = {
        model.name: model_id
        for model, (_, _, model_id) in zip(models, found, strict=True)
        if model_id is not None
    }
    new = [(key, info) for key, info in wanted.items() if key[0] not in ids]
    if new:
        columns = [field.name for field in fields(ModelInfo)]
        values: dict[str, list[object]] = {
            column: [getattr(model, column) for _, (model, _) in new] for column in columns
        }
        values["source_id"] = [from_id for _, (_, from_id) in new]
        values["source"] = [source for (_, source), _ in new]
        unnested = ", ".join(f"unnest(${column}) AS {column}" for column in values)
        ids.update(
            con.execute(
                f"INSERT INTO models ({', '.join(values)}) SELECT * FROM (SELECT {unnested}) "
                "RETURNING name, model_id",
                values,
            ).fetchall()
        )
    return ModelIds(ids, frozenset(name for (name, _), _ in new))


def _tagged(model: ModelInfo, source: str) -> ModelInfo:
    if None not in (model.framework, model.pretraining, model.protocol):
        return model
    found = tags(model.base_name, source, model.framework)
    return replace(
        model,
        framework=model.framework or found.framework,
        pretraining=model.pretraining or found.pretraining,
        protocol=model.protocol or found.protocol,
    )


TAG_RULES_KEY = "tag_rules"  # meta key: the TAG_RULES_VERSION the models were tagged by


def tags_current(con: duckdb.DuckDBPyConnection) -> bool:
    """Whether the store's models were tagged by this version's rules (a store from before
    the key existed was not)."""
    row = first_row(con, "SELECT value FROM meta WHERE key = $key", {"key": TAG_RULES_KEY})
    return stamp_current(row[0] if row else None)


def stamp_current(stamp: str | None) -> bool:
    """Whether a store's TAG_RULES_KEY value (None: none) names this version's rules."""
    return stamp == str(TAG_RULES_VERSION)


def stamp_tag_rules(con: duckdb.DuckDBPyConnection) -> None:
    """Record that every model in the store is tagged by this version's rules."""
    con.execute(
        "INSERT OR REPLACE INTO meta VALUES ($key, $value)",
        {"key": TAG_RULES_KEY, "value": str(TAG_RULES_VERSION)},
    )


def retag_models(con: duckdb.DuckDBPyConnection) -> None:
    """Framework, pretraining and protocol of every model by this version's rules (a probe
    model's framework and head from its latest run), then stamp the rules' version."""
    rows = con.execute(
        """
        SELECT m.model_id, m.base_name, m.source,
               coalesce(p.framework, m.framework) AS framework, p.head
        FROM models m
        LEFT JOIN (
            SELECT model, arg_max(framework, created_at) AS framework,
                   arg_max(head, created_at) AS head
            FROM probe_runs GROUP BY model
        ) p ON m.source = $probe AND p.model = m.name
        """,
        {"probe": PROBE_SOURCE},
    ).fetchall()
    found = [(i, tags(name, source, framework, head)) for i, name, source, framework, head in rows]
    con.execute(
        """
        UPDATE models SET framework = t.framework, pretraining = t.pretraining,
                          protocol = t.protocol
        FROM (SELECT unnest($ids) AS model_id, unnest($fw) AS framework,
                     unnest($pre) AS pretraining, unnest($pro) AS protocol) t
        WHERE models.model_id = t.model_id
        """,
        {
            "ids": [i for i, _ in found],
            "fw": [t.framework for _, t in found],
            "pre": [t.pretraining for _, t in found],
            "pro": [t.protocol for _, t in found],
        },
    )
    stamp_tag_rules(con)
