"""One probed model name, one model: a name reused for another checkpoint, head or
configuration would replace the first model's predictions and keep its protocol tag.

A model's identity is its spec's MODEL_FIELDS (`JobSpec.model_identity`). The store's
`probe_runs` rows keep either a launched run's spec or a finished run's configuration; both give
the identity back (`stored_identity`), so the plan checks, the foreground `lottery probe` and
ingest can each refuse a reuse and name the earlier run (`probe.ingest.check_model_identity`).
"""

from __future__ import annotations

from typing import Any

from lottery_tui.probe.contract import MODEL_FIELDS


def stored_identity(config: dict[str, Any]) -> dict[str, Any]:
    """The identity a `probe_runs.config` holds: a result's `model_identity`, a spec's fields,
    or (a result from before identities were recorded) what its configuration says."""
    if isinstance(config.get("model_identity"), dict):
        return config["model_identity"]
    if "run_id" in config:  # a launched run's spec
        identity = {k: config[k] for k in MODEL_FIELDS if k in config}
        if identity.get("head") != "train":
            identity.pop("head_epochs", None)
            identity.pop("head_solver", None)
        return identity
    head = config.get("head") if isinstance(config.get("head"), dict) else {}
    older = {
        "framework": config.get("framework"),
        "checkpoint": config.get("checkpoint"),
        "head": head.get("kind"),
        "head_path": head.get("path"),
        "precision": config.get("precision"),
        "image_size": config.get("image_size"),
        "decoder": config.get("decoder"),
    }
    return {k: v for k, v in older.items() if k in config or k.startswith("head")}


def difference(earlier: dict[str, Any], here: dict[str, Any]) -> str | None:
    """The first field the two identities both give and disagree on, described; None if none."""
    for key in MODEL_FIELDS:
        if key in earlier and key in here and earlier[key] != here[key]:
            return f"{key} {earlier[key]!r} there, {here[key]!r} here"
    return None
