"""Backbones: torchvision ResNets and DINO's ViT, built from a state dict's shapes.

The architecture is read off the weights (block counts, widths, embedding size) so a checkpoint of
the wrong architecture is named as such instead of failing with hundreds of key mismatches. Every
backbone returns features, never logits: heads live in `heads.py`.
"""

from __future__ import annotations

import math
import re
from collections.abc import Mapping

import torch
import torch.nn.functional as F
from torch import nn

from lottery_tui.errors import InputError

_RESNETS = {
    ("basic", (2, 2, 2, 2)): "resnet18",
    ("basic", (3, 4, 6, 3)): "resnet34",
    ("bottleneck", (3, 4, 6, 3)): "resnet50",
    ("bottleneck", (3, 4, 23, 3)): "resnet101",
    ("bottleneck", (3, 8, 36, 3)): "resnet152",
}
_VIT_SIZES = {192: ("tiny", 3), 384: ("small", 6), 768: ("base", 12)}

# Feature kinds. ResNets: global average pool. DINO ViT (eval_linear.py): the released ViT-S heads
# read the CLS tokens of the last 4 blocks; ViT-B heads the last CLS token and the mean patch token;
# k-NN uses the last CLS token.
POOL = "avgpool"
CLS = "cls"
CLS_LAST4 = "cls_last4"
CLS_AVGPOOL = "cls_avgpool"


def infer_arch(state: Mapping[str, torch.Tensor]) -> str:
    """The architecture name of a backbone state dict in torchvision / DINO naming."""
    if "patch_embed.proj.weight" in state:
        dim, _, patch, _ = state["patch_embed.proj.weight"].shape
        if dim not in _VIT_SIZES:
            raise InputError(f"unsupported ViT width {dim} (supported: 192, 384, 768)")
        return f"vit_{_VIT_SIZES[dim][0]}_patch{patch}"
    if "conv1.weight" in state and "layer1.0.conv1.weight" in state:
        kind = "bottleneck" if "layer1.0.conv3.weight" in state else "basic"
        blocks = []
        for layer in range(1, 5):
            ids = {int(m.group(1)) for k in state if (m := re.match(rf"layer{layer}\.(\d+)\.", k))}
            blocks.append(max(ids) + 1 if ids else 0)
        width = state["layer1.0.conv1.weight"].shape[0]
        name = _RESNETS.get((kind, tuple(blocks)))
        if name is None or state["conv1.weight"].shape[0] != 64 or width != 64:
            raise InputError(
                f"unsupported ResNet: {kind} blocks {blocks}, stem width "
                f"{state['conv1.weight'].shape[0]}, first block width {width} "
                f"(supported: {', '.join(sorted(set(_RESNETS.values())))})"
            )
        return name
    sample = ", ".join(sorted(state)[:5])
    raise InputError(f"not a ResNet or ViT backbone (first keys: {sample})")


def feature_kind(arch: str, head: str) -> str:
    """Which features a head reads: fixed by the released heads' protocols."""
    if not arch.startswith("vit"):
        return POOL
    if head == "knn":
        return CLS
    return CLS_AVGPOOL if arch.startswith("vit_base") else CLS_LAST4


def feature_dim(arch: str, kind: str) -> int:
    if arch.startswith("vit"):
        dim = {"tiny": 192, "small": 384, "base": 768}[arch.split("_")[1]]
        return {CLS: dim, CLS_LAST4: 4 * dim, CLS_AVGPOOL: 2 * dim}[kind]
    return 512 if arch in ("resnet18", "resnet34") else 2048


def build_backbone(arch: str, kind: str) -> nn.Module:
    """A backbone for `arch` whose forward returns `kind` features, on the meta device.

    No memory and no random initialisation: `checkpoints.load_strictly` assigns the weights.
    """
    with torch.device("meta"):
        return _build(arch, kind)


def _build(arch: str, kind: str) -> nn.Module:
    if arch.startswith("vit"):
        size, patch = arch.split("_")[1], int(arch.split("patch")[1])
        dim = {"tiny": 192, "small": 384, "base": 768}[size]
        return DinoViT(dim=dim, depth=12, heads=dim // 64, patch=patch, kind=kind)
    import torchvision

    model = getattr(torchvision.models, arch)(weights=None)
    model.fc = nn.Identity()
    return model


class _Attention(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.heads = heads
        self.qkv = nn.Linear(dim, dim * 3, bias=True)
        self.proj = nn.Linear(dim, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        b, n, c = x.shape
        qkv = self.qkv(x).reshape(b, n, 3, self.heads, c // self.heads).permute(2, 0, 3, 1, 4)
        out = F.scaled_dot_product_attention(qkv[0], qkv[1], qkv[2])
        return self.proj(out.transpose(1, 2).reshape(b, n, c))


class _Mlp(nn.Module):
    def __init__(self, dim: int, hidden: int) -> None:
        super().__init__()
        self.fc1 = nn.Linear(dim, hidden)
        self.act = nn.GELU()
        self.fc2 = nn.Linear(hidden, dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.fc2(self.act(self.fc1(x)))


class _Block(nn.Module):
    def __init__(self, dim: int, heads: int) -> None:
        super().__init__()
        self.norm1 = nn.LayerNorm(dim, eps=1e-6)
        self.attn = _Attention(dim, heads)
        self.norm2 = nn.LayerNorm(dim, eps=1e-6)
        self.mlp = _Mlp(dim, 4 * dim)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        x = x + self.attn(self.norm1(x))
        return x + self.mlp(self.norm2(x))


class _PatchEmbed(nn.Module):
    def __init__(self, dim: int, patch: int) -> None:
        super().__init__()
        self.proj = nn.Conv2d(3, dim, kernel_size=patch, stride=patch)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.proj(x).flatten(2).transpose(1, 2)


class DinoViT(nn.Module):
    """facebookresearch/dino `vision_transformer.py`, same parameter names, features only."""

    def __init__(self, *, dim: int, depth: int, heads: int, patch: int, kind: str) -> None:
        super().__init__()
        self.patch = patch
        self.kind = kind
        self.patch_embed = _PatchEmbed(dim, patch)
        self.cls_token = nn.Parameter(torch.zeros(1, 1, dim))
        self.pos_embed = nn.Parameter(torch.zeros(1, 1 + (224 // patch) ** 2, dim))
        self.blocks = nn.ModuleList(_Block(dim, heads) for _ in range(depth))
        self.norm = nn.LayerNorm(dim, eps=1e-6)

    def load_state_dict(self, state_dict, strict: bool = True, assign: bool = False):  # type: ignore[override]
        # The position embedding's length follows the checkpoint's training resolution.
        if "pos_embed" in state_dict:
            self.pos_embed = nn.Parameter(torch.zeros_like(state_dict["pos_embed"]))
        return super().load_state_dict(state_dict, strict=strict, assign=assign)

    def _pos_embed(self, n_patches: int, h: int, w: int) -> torch.Tensor:
        n = self.pos_embed.shape[1] - 1
        if n_patches == n and h == w:
            return self.pos_embed
        cls_pos, patch_pos = self.pos_embed[:, :1], self.pos_embed[:, 1:]
        side = int(math.sqrt(n))
        # DINO's +0.1 keeps the interpolated grid from rounding down a patch.
        rows, cols = h // self.patch + 0.1, w // self.patch + 0.1
        patch_pos = F.interpolate(
            patch_pos.reshape(1, side, side, -1).permute(0, 3, 1, 2),
            scale_factor=(rows / side, cols / side),
            mode="bicubic",
        )
        patch_pos = patch_pos.permute(0, 2, 3, 1).reshape(1, -1, patch_pos.shape[1])
        return torch.cat((cls_pos, patch_pos), dim=1)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        h, w = x.shape[-2:]
        x = self.patch_embed(x)
        x = torch.cat((self.cls_token.expand(x.shape[0], -1, -1), x), dim=1)
        x = x + self._pos_embed(x.shape[1] - 1, h, w).to(x.dtype)
        n_last = 4 if self.kind == CLS_LAST4 else 1
        outputs = []
        for i, block in enumerate(self.blocks):
            x = block(x)
            if i >= len(self.blocks) - n_last:
                outputs.append(self.norm(x))
        if self.kind == CLS_LAST4:
            return torch.cat([o[:, 0] for o in outputs], dim=-1)
        last = outputs[-1]
        if self.kind == CLS_AVGPOOL:
            # eval_linear.py stacks (cls, mean) on a new last axis, then flattens: interleaved.
            return torch.stack((last[:, 0], last[:, 1:].mean(dim=1)), dim=-1).flatten(1)
        return last[:, 0]
