"""Model rows: names, and metadata derived from timm-style names (architecture, family, ...)."""

from __future__ import annotations

import re
from dataclasses import dataclass, fields

import duckdb

# Pretrained-tag tokens that name a self-supervised (or masked-image) pretraining method.
SSL_FRAMEWORKS = frozenset(
    {
        "barlowtwins", "byol", "data2vec", "dino", "dinov2", "fcmae", "ibot", "mae", "mim",
        "moco", "mocov2", "mocov3", "msn", "simclr", "simclrv2", "swav", "vicreg",
    }
)  # fmt: skip
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
        if token in SSL_FRAMEWORKS:
            return token
    return "supervised"


def ensure_models(
    con: duckdb.DuckDBPyConnection, models: list[ModelInfo], source_id: int | list[int]
) -> dict[str, int]:
    """Insert the models not yet in the store (existing rows keep their metadata); name -> id.

    `source_id` is where the models come from: one source for all, or one per model. A model's
    identity is (the name of its source, its name), so the same name under another source is
    another model. One call must not bring one name from two source names. The rows go in as
    list parameters, unnested: cheaper than registering a table for a few models.
    """
    if not models:
        return {}
    columns = [field.name for field in fields(ModelInfo)]
    values: dict[str, list[object]] = {
        column: [getattr(model, column) for model in models] for column in columns
    }
    values["source_id"] = source_id if isinstance(source_id, list) else [source_id] * len(models)
    rows = con.execute(
        f"""
        WITH given AS (
            SELECT {", ".join(f"unnest(${column}) AS {column}" for column in values)}
        )
        INSERT INTO models (source, {", ".join(values)})
        SELECT s.name, given.* FROM given JOIN sources s ON s.source_id = given.source_id
        ON CONFLICT (source, name) DO NOTHING
        RETURNING name, model_id
        """,
        values,
    ).fetchall()
    ids = dict(rows)
    known = [m.name for m in models if m.name not in ids]
    if known:
        ids.update(
            con.execute(
                """
                SELECT m.name, m.model_id
                FROM (SELECT DISTINCT s.name AS source, unnest($names) AS name
                      FROM sources s WHERE list_contains($sources, s.source_id)) k
                JOIN models m ON m.source = k.source AND m.name = k.name
                """,
                {"names": known, "sources": sorted(set(values["source_id"]))},
            ).fetchall()
        )
    if len(ids) != len({m.name for m in models}):
        raise ValueError("ensure_models: unknown source id, or one name from two sources")
    return ids
