"""Checkpoint adapters: official SSL checkpoints -> a backbone state dict in torchvision/DINO names.

Each layout says where the backbone sits in the file (container keys, prefix) and which keys are
known non-classifier parts (projection heads, prototypes, momentum encoders, queues, bag-of-words
heads) to drop. Whatever is left must match the backbone exactly: any other key, a missing key or a
wrong shape is an error that lists them (the rule of the official linear-evaluation scripts).
Only torchvision's own `fc` and SimCLR's supervised head are ever kept as a classifier.
"""

from __future__ import annotations

import argparse
import pickle
import re
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import torch
from torch import nn

from lottery_tui.errors import InputError
from lottery_tui.probe.models import infer_arch


class CheckpointError(InputError):
    """A checkpoint that cannot be read, has the wrong layout or does not match its model."""


@dataclass(frozen=True)
class Layout:
    name: str
    containers: tuple[tuple[str, ...], ...]  # where the state dict sits; () = the file itself
    prefixes: tuple[str, ...]  # backbone keys start with one of these (first that fits wins)
    drop: tuple[str, ...] = ()  # regexes on full keys: known parts that are not the backbone
    head: tuple[str, str] | None = None  # a real ImageNet classifier, after the prefix
    rename: Callable[[str], str] | None = None
    signature: tuple[str, ...] = ()  # top-level keys, any of which must be present
    description: str = ""


def _simclr_v2_name(key: str) -> str:
    """Separius/SimCLRv2-Pytorch names (`net.<stage>.blocks.<i>.net.<op>`) -> torchvision."""
    stem = {"net.0.0.": "conv1.", "net.0.1.0.": "bn1."}
    for old, new in stem.items():
        if key.startswith(old):
            return new + key[len(old) :]
    m = re.match(r"net\.([1-4])\.blocks\.(\d+)\.(.+)$", key)
    if not m:
        return key
    layer, block, rest = m.groups()
    ops = {
        "net.0.": "conv1.",
        "net.1.0.": "bn1.",
        "net.2.": "conv2.",
        "net.3.0.": "bn2.",
        "net.4.": "conv3.",
        "net.5.0.": "bn3.",
        "projection.shortcut.": "downsample.0.",
        "projection.bn.0.": "downsample.1.",
    }
    for old, new in ops.items():
        if rest.startswith(old):
            return f"layer{layer}.{block}.{new}{rest[len(old) :]}"
    return key


_FLAT = ((), ("state_dict",), ("model",))
LAYOUTS: dict[str, Layout] = {
    layout.name: layout
    for layout in (
        Layout(
            "torchvision",
            _FLAT,
            ("module.", ""),
            head=("fc.weight", "fc.bias"),
            description="torchvision keys with the supervised fc head",
        ),
        Layout(
            "plain", _FLAT, ("module.", ""), description="torchvision or DINO ViT keys, no head"
        ),
        Layout(
            "moco",
            (("state_dict",),),
            ("module.encoder_q.",),
            drop=(r"^module\.encoder_q\.fc\.", r"^module\.encoder_k\.", r"^module\.queue"),
            description="['state_dict'], module.encoder_q.*",
        ),
        Layout(
            "moco-v3",
            (("state_dict",),),
            ("module.base_encoder.",),
            drop=(
                r"^module\.base_encoder\.fc\.",
                r"^module\.momentum_encoder\.",
                r"^module\.predictor\.",
            ),
            description="['state_dict'], module.base_encoder.*",
        ),
        Layout(
            "swav",
            ((), ("state_dict",)),
            ("module.", ""),
            drop=(r"^(module\.)?projection(_head)?\.", r"^(module\.)?prototypes"),
            description="flat dict, module.*, with projection_head and prototypes",
        ),
        Layout(
            "simclr-v2",
            (("resnet",),),
            ("",),
            head=("fc.weight", "fc.bias"),
            rename=_simclr_v2_name,
            description="converted SimCLR v2: {'resnet': net.*, 'head': ...}",
        ),
        Layout(
            "byol",
            _FLAT,
            ("module.", ""),
            drop=(r"^(module\.)?fc\.", r"^(module\.)?(projector|predictor|classifier)\."),
            description="converted BYOL, torchvision keys",
        ),
        Layout(
            "simsiam",
            (("state_dict",),),
            ("module.encoder.",),
            drop=(r"^module\.encoder\.fc\.", r"^module\.predictor\."),
            description="['state_dict'], module.encoder.*",
        ),
        Layout(
            "obow",
            (("network",),),
            ("",),
            drop=(r"^fc\.",),
            description="['network'], torchvision keys, fc = bag-of-words head",
        ),
        Layout(
            "dino-full",
            (("teacher",),),
            ("module.backbone.", "backbone."),
            drop=(r"^(module\.)?head\.",),
            description="DINO training checkpoint ['teacher'], backbone.*",
        ),
        Layout(
            "vicreg-full",
            (("model",),),
            ("module.backbone.",),
            drop=(r"^module\.projector\.",),
            description="VICReg training checkpoint ['model'], module.backbone.*",
        ),
        Layout(
            "vissl",
            (("classy_state_dict", "base_model", "model", "trunk"),),
            ("_feature_blocks.",),
            description="VISSL classy_state_dict.base_model.model.trunk, _feature_blocks.*",
        ),
        Layout(
            "solo-learn",
            (("state_dict",),),
            ("backbone.",),
            drop=(r"^(classifier|projector|predictor|prototypes|queue|head)", r"^momentum_"),
            signature=("pytorch-lightning_version", "hyper_parameters"),
            description="Lightning .ckpt ['state_dict'], backbone.*",
        ),
        Layout(
            "mmselfsup",
            (("state_dict",),),
            ("backbone.",),
            # also solo-learn's parts, for its state dict saved without the Lightning wrapper
            drop=(
                r"^(neck|head|heads|predictor|projector|data_preprocessor)\.",
                r"^(momentum_encoder|target_net|encoder_k|teacher)\.",
                r"^(classifier|prototypes|queue)",
                r"^momentum_",
            ),
            description="mmselfsup/mmpretrain ['state_dict'], backbone.*",
        ),
    )
}

_GENERIC = ("vissl", "solo-learn", "mmselfsup")
FRAMEWORKS: dict[str, tuple[str, ...]] = {
    "deepcluster-v2": ("swav", *_GENERIC),
    "sela-v2": ("swav", *_GENERIC),
    "swav": ("swav", *_GENERIC),
    "simclr": ("simclr-v2", "torchvision", *_GENERIC),
    "moco-v1": ("moco", *_GENERIC),
    "moco-v2": ("moco", *_GENERIC),
    "moco-v3": ("moco-v3", *_GENERIC),
    "pcl": ("moco", *_GENERIC),
    "byol": ("byol", *_GENERIC),
    "simsiam": ("simsiam", *_GENERIC),
    "obow": ("obow", *_GENERIC),
    "dino": ("dino-full", "plain", *_GENERIC),
    "barlow-twins": ("plain", *_GENERIC),
    "vicreg": ("vicreg-full", "plain", *_GENERIC),
    "torchvision": ("torchvision",),
    "supervised": ("torchvision",),
    "vissl": ("vissl",),
    "mmselfsup": ("mmselfsup",),
    "solo-learn": ("solo-learn", "mmselfsup"),
}


@dataclass
class Backbone:
    """A backbone state dict ready for `models.build_backbone`, plus where it came from."""

    arch: str
    layout: str
    state: dict[str, torch.Tensor]
    builtin_head: tuple[torch.Tensor, torch.Tensor] | None = None
    dropped: list[str] = field(default_factory=list)


def read_checkpoint(path: Path | str) -> Any:
    """torch.load on the CPU, tensors only (plus argparse namespaces, common in official files)."""
    path = Path(path)
    if not path.is_file():
        raise CheckpointError("checkpoint not found", path)
    if path.suffix == ".pkl":
        raise CheckpointError(
            "a JAX/Haiku pickle (BYOL's release): convert it to a PyTorch state dict with "
            "torchvision key names first (see docs/probe.md)",
            path,
        )
    try:
        with torch.serialization.safe_globals([argparse.Namespace]):
            return torch.load(path, map_location="cpu", weights_only=True)
    except pickle.UnpicklingError as exc:
        first = str(exc).strip().splitlines()[0]
        raise CheckpointError(f"not a plain PyTorch checkpoint of tensors: {first}", path) from exc
    except (RuntimeError, EOFError, ValueError, OSError, KeyError) as exc:
        first = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
        raise CheckpointError(f"corrupt or truncated checkpoint: {first}", path) from exc


def _container(obj: Any, keys: tuple[str, ...]) -> Mapping[str, Any] | None:
    for key in keys:
        if not isinstance(obj, Mapping) or key not in obj:
            return None
        obj = obj[key]
    return obj if isinstance(obj, Mapping) else None


def _is_backbone_key(key: str) -> bool:
    return key in ("conv1.weight", "patch_embed.proj.weight")


def _match(obj: Any, layout: Layout) -> tuple[Mapping[str, Any], str] | None:
    if layout.signature and not (
        isinstance(obj, Mapping) and any(k in obj for k in layout.signature)
    ):
        return None
    for keys in layout.containers:
        state = _container(obj, keys)
        if state is None:
            continue
        names = [layout.rename(k) if layout.rename else k for k in state]
        for prefix in layout.prefixes:
            if any(k.startswith(prefix) and _is_backbone_key(k[len(prefix) :]) for k in names):
                return state, prefix
    return None


def _split(
    state: Mapping[str, Any], layout: Layout, prefix: str
) -> tuple[dict, list[str], list[str]]:
    """(backbone keys with the prefix stripped, dropped keys, keys that belong nowhere)."""
    drops = [re.compile(p) for p in layout.drop]
    backbone: dict[str, torch.Tensor] = {}
    dropped: list[str] = []
    stray: list[str] = []
    for key, value in state.items():
        if any(p.search(key) for p in drops):
            dropped.append(key)
            continue
        name = layout.rename(key) if layout.rename else key
        if not name.startswith(prefix):
            stray.append(key)
            continue
        if not isinstance(value, torch.Tensor):
            stray.append(key)
            continue
        backbone[name[len(prefix) :]] = value
    return backbone, dropped, stray


def adapt_checkpoint(obj: Any, framework: str, *, path: Path | str) -> Backbone:
    """Find `framework`'s layout in a loaded checkpoint and return its backbone."""
    if framework not in FRAMEWORKS:
        raise CheckpointError(
            f"unknown framework {framework!r} (known: {', '.join(sorted(FRAMEWORKS))})"
        )
    for name in FRAMEWORKS[framework]:
        layout = LAYOUTS[name]
        found = _match(obj, layout)
        if found is None:
            continue
        state, prefix = found
        backbone, dropped, stray = _split(state, layout, prefix)
        head = None
        if layout.head is not None and all(k in backbone for k in layout.head):
            head = (backbone.pop(layout.head[0]), backbone.pop(layout.head[1]))
        if stray:
            raise CheckpointError(
                f"layout {name}: unexpected keys {_listing(stray)} (not part of the backbone "
                "nor a known head)",
                path,
            )
        try:
            arch = infer_arch(backbone)
        except InputError as exc:
            raise CheckpointError(f"layout {name}: {exc.message}", path) from exc
        return Backbone(arch, name, backbone, head, dropped)
    top = sorted(obj)[:8] if isinstance(obj, Mapping) else type(obj).__name__
    expected = "; ".join(f"{n}: {LAYOUTS[n].description}" for n in FRAMEWORKS[framework])
    raise CheckpointError(
        f"no {framework} checkpoint layout found (top-level keys {top}); expected {expected}",
        path,
    )


def _listing(keys: list[str], limit: int = 12) -> str:
    shown = ", ".join(keys[:limit])
    more = f", ... {len(keys) - limit} more" if len(keys) > limit else ""
    return f"[{shown}{more}]"


def check_keys(model: nn.Module, backbone: Backbone, *, path: Path | str) -> None:
    """Fail naming the missing, unexpected and mis-shaped keys (works on a meta-device model)."""
    expected = model.state_dict()
    missing = [k for k in expected if k not in backbone.state]
    unexpected = [k for k in backbone.state if k not in expected]
    shapes = [
        f"{k} {tuple(v.shape)} vs {tuple(expected[k].shape)}"
        for k, v in backbone.state.items()
        # a ViT's position embedding follows the checkpoint's training resolution
        if k in expected and k != "pos_embed" and v.shape != expected[k].shape
    ]
    if missing or unexpected or shapes:
        parts = []
        if missing:
            parts.append(f"missing keys {_listing(missing)}")
        if unexpected:
            parts.append(f"unexpected keys {_listing(unexpected)}")
        if shapes:
            parts.append(f"wrong shapes {_listing(shapes)}")
        raise CheckpointError(
            f"layout {backbone.layout} does not match {backbone.arch}: " + "; ".join(parts), path
        )


def load_strictly(model: nn.Module, backbone: Backbone, *, path: Path | str) -> None:
    """Load every key into `model` (built on the meta device), or fail listing the mismatches."""
    check_keys(model, backbone, path=path)
    # Official files are sometimes saved in half precision: the backbone always runs in fp32.
    state = {k: v.float() if v.is_floating_point() else v for k, v in backbone.state.items()}
    model.load_state_dict(state, strict=True, assign=True)


def validate_checkpoint(path: Path | str, framework: str, arch: str | None = None) -> Backbone:
    """Everything a probe job checks about a checkpoint, without building real weights.

    For launchers that validate many runs before starting any (`lottery probe --plan`).
    """
    from lottery_tui.probe.models import POOL, build_backbone

    backbone = adapt_checkpoint(read_checkpoint(path), framework, path=path)
    if arch is not None and arch != backbone.arch:
        raise CheckpointError(
            f"wrong architecture: the checkpoint holds a {backbone.arch}, not {arch}", path
        )
    check_keys(build_backbone(backbone.arch, POOL), backbone, path=path)
    return backbone
