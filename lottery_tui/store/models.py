"""Model rows: names, and metadata derived from timm-style names (architecture, family, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields, replace

import duckdb

from lottery_tui.store.pretraining import SSL_METHODS, tags

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
    framework: str
    pretrained_tag: str | None
    img_size: int | None = None
    param_count: float | None = None
    crop_pct: float | None = None
    interpolation: str | None = None
    pretraining: str | None = None  # None: from `pretraining.tags` when the model is added
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
        framework=framework_of(tag),
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


def framework_of(tag: str) -> str:
    for token in tag.lower().split("_"):
        if token in SSL_METHODS:
            return token
    return "supervised"


def ensure_models(
    con: duckdb.DuckDBPyConnection, models: list[ModelInfo], source_id: int | list[int]
) -> dict[str, int]:
    """Insert the models not yet in the store (existing rows keep their metadata); name -> id.

    `source_id` is where the models come from: one source for all, or one per model. A model's
    identity is (the name of its source, its name), so the same name under another source is
    another model; one call must not bring one name from two source names. Pretraining and
    protocol not given are derived by `pretraining.tags`. The rows go in as list parameters,
    unnested: cheaper than registering a table for a few models.
    """
    if not models:
        return {}
    source_ids = source_id if isinstance(source_id, list) else [source_id] * len(models)
    source_names = dict(
        con.execute(
            "SELECT source_id, name FROM sources WHERE list_contains($ids, source_id)",
            {"ids": sorted(set(source_ids))},
        ).fetchall()
    )
    if len(source_names) != len(set(source_ids)):
        raise ValueError(f"ensure_models: unknown source id among {sorted(set(source_ids))}")
    sources = [source_names[i] for i in source_ids]
    models = [_tagged(model, source) for model, source in zip(models, sources, strict=True)]
    columns = [field.name for field in fields(ModelInfo)]
    values: dict[str, list[object]] = {
        column: [getattr(model, column) for model in models] for column in columns
    }
    values["source_id"] = source_ids
    values["source"] = sources
    rows = con.execute(
        f"""
        INSERT INTO models ({", ".join(values)})
        SELECT * FROM (SELECT {", ".join(f"unnest(${column}) AS {column}" for column in values)})
        ON CONFLICT (source, name) DO NOTHING
        RETURNING name, model_id
        """,
        values,
    ).fetchall()
    ids = dict(rows)
    known = [(m.name, s) for m, s in zip(models, sources, strict=True) if m.name not in ids]
    if known:
        ids.update(
            con.execute(
                """
                SELECT m.name, m.model_id
                FROM (SELECT unnest($names) AS name, unnest($sources) AS source) k
                JOIN models m ON m.source = k.source AND m.name = k.name
                """,
                {"names": [n for n, _ in known], "sources": [s for _, s in known]},
            ).fetchall()
        )
    if len(ids) != len({m.name for m in models}):
        raise ValueError("ensure_models: one name from two sources in one call")
    return ids


def _tagged(model: ModelInfo, source: str) -> ModelInfo:
    if model.pretraining is not None and model.protocol is not None:
        return model
    found = tags(model.base_name, source, model.framework)
    return replace(
        model,
        pretraining=model.pretraining or found.pretraining,
        protocol=model.protocol or found.protocol,
    )
