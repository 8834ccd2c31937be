"""The torch-side checks of a model's files, run before any job starts: the checkpoint matches
its layout and architecture, and the head (a released file, or the checkpoint's own classifier)
gives ImageNet logits for its features.

`runs/plan_checks.py` takes this as an injected callable (`ModelFileCheck`) so `runs/` never
imports torch; the callers that may load torch (the CLI, the subprocess the explorer launches
plans through) pass `check_model_files`.
"""

from __future__ import annotations

from pathlib import Path

from lottery_tui.errors import InputError


def check_model_files(
    checkpoint: Path, framework: str, arch: str | None, head_kind: str, head_path: Path | None
) -> list[tuple[str, str]]:
    """(plan key, message) for each problem of an existing checkpoint and its head."""
    from lottery_tui.probe.checkpoints import validate_checkpoint

    try:
        # Layout, prefixes and the missing/unexpected/mis-shaped keys, without real weights.
        backbone = validate_checkpoint(checkpoint, framework)
    except InputError as exc:
        return [("checkpoint", str(exc))]
    problems = []
    if arch is not None and arch != backbone.arch:
        problems.append(("arch", f"arch {arch} but the checkpoint holds a {backbone.arch}"))
    if head_kind == "linear" and head_path is not None and head_path.is_file():
        problems += _check_head_file(head_path, backbone.arch)
    if head_kind == "builtin" and backbone.builtin_head is None:
        problems.append(
            (
                "head",
                f"head builtin, but the checkpoint ({backbone.layout}) has no ImageNet "
                "classifier; use linear:PATH, train:DIR or knn:DIR",
            )
        )
    return problems


def _check_head_file(head_path: Path, arch: str) -> list[tuple[str, str]]:
    """The head file holds a 1000-class classifier reading this backbone's features (not, say,
    a pretraining checkpoint given by mistake)."""
    from lottery_tui.probe.heads import read_head_file
    from lottery_tui.probe.models import feature_dim, feature_kind

    try:
        read_head_file(head_path, feature_dim(arch, feature_kind(arch, "linear")))
    except InputError as exc:
        return [("head", str(exc))]
    return []


def knn_feature_dim(checkpoint: str, framework: str, arch: str | None) -> int:
    """The k-NN features' dimension, as the engine's prepared model computes it (the plan's
    arch, else the one the checkpoint holds): the memory plan's `KnnDim`."""
    from lottery_tui.probe.checkpoints import adapt_checkpoint, read_checkpoint
    from lottery_tui.probe.models import feature_dim, feature_kind

    if arch is None:
        arch = adapt_checkpoint(read_checkpoint(checkpoint), framework, path=checkpoint).arch
    return feature_dim(arch, feature_kind(arch, "knn"))
