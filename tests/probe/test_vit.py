"""DINO ViT-S/16 and ViT-B/16: DINO-layout weights give the predictions of an independent
torchvision VisionTransformer holding the same weights, read with DINO's linear-eval protocol
(ViT-S: CLS tokens of the last 4 blocks; ViT-B: last CLS token interleaved with the mean patch
token, as eval_linear.py's stack-then-flatten makes it)."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest
import torch
from torchvision.models.vision_transformer import VisionTransformer

from lottery_tui.probe.engine import run_job
from tests.probe.conftest import SIZE, Reference, read_predictions, top5, val_names, write_image

VIT_IMAGE = 64  # the checkpoint's position embedding is for 64 px: 4 x 4 patches


def random_vit(dim: int, heads: int, seed: int) -> VisionTransformer:
    torch.manual_seed(seed)
    vit = VisionTransformer(
        image_size=VIT_IMAGE,
        patch_size=16,
        num_layers=12,
        num_heads=heads,
        hidden_dim=dim,
        mlp_dim=4 * dim,
        num_classes=10,
    )
    with torch.no_grad():
        vit.class_token.normal_()
        for layer in vit.encoder.layers:
            layer.ln_1.weight.uniform_(0.5, 1.5)
            layer.self_attention.in_proj_bias.normal_(0, 0.1)
    return vit.eval()


def to_dino(vit: VisionTransformer) -> dict[str, torch.Tensor]:
    """torchvision names -> facebookresearch/dino vision_transformer names."""
    sd = vit.state_dict()
    out = {
        "cls_token": sd["class_token"],
        "pos_embed": sd["encoder.pos_embedding"],
        "patch_embed.proj.weight": sd["conv_proj.weight"],
        "patch_embed.proj.bias": sd["conv_proj.bias"],
        "norm.weight": sd["encoder.ln.weight"],
        "norm.bias": sd["encoder.ln.bias"],
    }
    names = {
        "ln_1": "norm1",
        "self_attention.in_proj_": "attn.qkv.",
        "self_attention.out_proj.": "attn.proj.",
        "ln_2": "norm2",
        "mlp.0.": "mlp.fc1.",
        "mlp.3.": "mlp.fc2.",
    }
    for key, value in sd.items():
        if key.startswith("encoder.layers.encoder_layer_"):
            i, rest = key.removeprefix("encoder.layers.encoder_layer_").split(".", 1)
            for old, new in names.items():
                if rest.startswith(old):
                    out[f"blocks.{i}.{new}{rest[len(old) :]}"] = value
                    break
            else:
                raise AssertionError(key)
    return out


def reference_features(vit: VisionTransformer, x: torch.Tensor, protocol: str) -> torch.Tensor:
    """DINO's eval_linear feature protocol, computed through torchvision's modules."""
    tokens = vit._process_input(x)
    tokens = torch.cat([vit.class_token.expand(len(x), -1, -1), tokens], dim=1)
    tokens = tokens + vit.encoder.pos_embedding
    outputs = []
    for layer in vit.encoder.layers:
        tokens = layer(tokens)
        outputs.append(vit.encoder.ln(tokens))
    if protocol == "last4":
        return torch.cat([o[:, 0] for o in outputs[-4:]], dim=-1)
    last = outputs[-1]
    cls, mean = last[:, 0], last[:, 1:].mean(dim=1)
    return torch.stack([cls, mean], dim=2).reshape(len(x), -1)


@pytest.fixture(scope="module")
def vit_images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("vit-images") / "val"
    rng = np.random.default_rng(11)
    for name in val_names(4):
        write_image(root / name, rng, size=(80, 72))
    return root


@pytest.mark.parametrize(
    ("arch", "dim", "heads", "protocol"),
    [("vit_small_patch16", 384, 6, "last4"), ("vit_base_patch16", 768, 12, "cls_avgpool")],
)
def test_dino_vit_layout_and_head_protocol(
    arch, dim, heads, protocol, vit_images, tmp_path, make_spec
):
    vit = random_vit(dim, heads, seed=dim)
    in_dim = 4 * dim if protocol == "last4" else 2 * dim
    gen = torch.Generator().manual_seed(3)
    weight, bias = torch.randn(1000, in_dim, generator=gen) * 0.05, torch.randn(1000, generator=gen)
    torch.save(to_dino(vit), tmp_path / "dino_vit.pth")
    torch.save(
        {"state_dict": {"module.linear.weight": weight, "module.linear.bias": bias}},
        tmp_path / "dino_linearweights.pth",
    )
    spec = make_spec(
        framework="dino",
        checkpoint=str(tmp_path / "dino_vit.pth"),
        dataset_path=str(vit_images),
        head="linear",
        head_path=str(tmp_path / "dino_linearweights.pth"),
        image_size=VIT_IMAGE,
        chunk_size=4,
        batch_size=4,
    )
    result = run_job(spec, tmp_path / "run")
    assert result.config["arch"] == arch

    paths = sorted(vit_images.iterdir())
    with torch.no_grad():
        feats = reference_features(vit, Reference("dino", VIT_IMAGE).inputs(paths), protocol)
        logits = feats @ weight.T + bias
    expected = dict(zip([p.name for p in paths], top5(logits), strict=True))
    assert {k: r["top5"] for k, r in read_predictions(tmp_path / "run").items()} == expected


def test_vit_position_embedding_is_interpolated_for_other_sizes(vit_images, tmp_path, make_spec):
    """A 64 px checkpoint evaluated at 32 px runs (DINO's bicubic position interpolation)."""
    vit = random_vit(384, 6, seed=1)
    torch.save(to_dino(vit), tmp_path / "dino_vit.pth")
    gen = torch.Generator().manual_seed(4)
    torch.save(
        {
            "state_dict": {
                "module.linear.weight": torch.randn(1000, 1536, generator=gen),
                "module.linear.bias": torch.zeros(1000),
            }
        },
        tmp_path / "head.pth",
    )
    spec = make_spec(
        framework="dino",
        checkpoint=str(tmp_path / "dino_vit.pth"),
        dataset_path=str(vit_images),
        head="linear",
        head_path=str(tmp_path / "head.pth"),
        image_size=SIZE,
    )
    assert run_job(spec, tmp_path / "run").n_images == 4
