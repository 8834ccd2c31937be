"""Every checkpoint layout: random weights saved in it load and give the same per-image
predictions as an independent torchvision model holding the same weights.

The writers below build each official layout from a torchvision state dict (prefixes, wrappers,
projection heads, prototypes, momentum encoders, queues), as the upstream repositories save them.
"""

from __future__ import annotations

import itertools
import re
from collections.abc import Callable
from pathlib import Path

import numpy as np
import pytest
import torch

from lottery_tui.probe.engine import run_job
from tests.probe.conftest import Reference, read_predictions, top5, val_names, write_image

Sd = dict[str, torch.Tensor]
_GEN = torch.Generator().manual_seed(7)


def noise(*shape: int) -> torch.Tensor:
    return torch.randn(*shape, generator=_GEN)


def backbone(tv: Sd) -> Sd:
    return {k: v for k, v in tv.items() if not k.startswith("fc.")}


def prefixed(prefix: str, sd: Sd) -> Sd:
    return {prefix + k: v for k, v in sd.items()}


def mlp(prefix: str, dims: list[int]) -> Sd:
    out = {}
    for i, (a, b) in enumerate(itertools.pairwise(dims)):
        out[f"{prefix}{2 * i}.weight"] = noise(b, a)
        out[f"{prefix}{2 * i}.bias"] = noise(b)
    return out


def linear_head(tv: Sd) -> dict:
    """SwAV / DINO eval_linear layout: ['state_dict'] module.linear.{weight,bias}."""
    return {
        "state_dict": {
            "module.linear.weight": tv["fc.weight"],
            "module.linear.bias": tv["fc.bias"],
        },
        "epoch": 100,
        "best_acc": 75.3,
    }


def full_linear(tv: Sd) -> dict:
    """MoCo v3 / SimSiam linear checkpoints: the whole torchvision model under module."""
    return {"state_dict": prefixed("module.", tv), "arch": "resnet50", "epoch": 90}


def simclr_v2_name(key: str) -> str:
    """torchvision -> Separius/SimCLRv2-Pytorch names (the inverse of the converter)."""
    key = re.sub(r"^conv1\.", "net.0.0.", key)
    key = re.sub(r"^bn1\.", "net.0.1.0.", key)
    m = re.match(r"layer(\d)\.(\d+)\.(.+)$", key)
    if not m:
        return key
    layer, block, rest = m.groups()
    table = {
        "conv1.": "net.0.",
        "bn1.": "net.1.0.",
        "conv2.": "net.2.",
        "bn2.": "net.3.0.",
        "conv3.": "net.4.",
        "bn3.": "net.5.0.",
        "downsample.0.": "projection.shortcut.",
        "downsample.1.": "projection.bn.0.",
    }
    for old, new in table.items():
        if rest.startswith(old):
            return f"net.{layer}.blocks.{block}.{new}{rest[len(old) :]}"
    raise AssertionError(key)


# name -> (framework, writer(tv) -> checkpoint, head writer or None for the builtin classifier)
Writer = Callable[[Sd], object]
LAYOUTS: dict[str, tuple[str, Writer, Writer | None]] = {
    "moco-v2": (
        "moco-v2",
        lambda tv: {
            "state_dict": {
                **prefixed("module.encoder_q.", backbone(tv)),
                **mlp("module.encoder_q.fc.", [2048, 64, 128]),
                **prefixed("module.encoder_k.", backbone(tv)),
                **mlp("module.encoder_k.fc.", [2048, 64, 128]),
                "module.queue": noise(128, 16),
                "module.queue_ptr": torch.zeros(1, dtype=torch.long),
            },
            "arch": "resnet50",
            "epoch": 800,
        },
        linear_head,
    ),
    "moco-v1": (
        "moco-v1",
        lambda tv: {
            "state_dict": {
                **prefixed("module.encoder_q.", backbone(tv)),
                **mlp("module.encoder_q.fc.", [2048, 128]),
                **prefixed("module.encoder_k.", backbone(tv)),
                **mlp("module.encoder_k.fc.", [2048, 128]),
                "module.queue": noise(128, 16),
                "module.queue_ptr": torch.zeros(1, dtype=torch.long),
            }
        },
        linear_head,
    ),
    "pcl": (
        "pcl",
        lambda tv: {
            "state_dict": {
                **prefixed("module.encoder_q.", backbone(tv)),
                **mlp("module.encoder_q.fc.", [2048, 64, 128]),
                **prefixed("module.encoder_k.", backbone(tv)),
                **mlp("module.encoder_k.fc.", [2048, 64, 128]),
                "module.queue": noise(128, 16),
                "module.queue_ptr": torch.zeros(1, dtype=torch.long),
            }
        },
        linear_head,
    ),
    "moco-v3": (
        "moco-v3",
        lambda tv: {
            "state_dict": {
                **prefixed("module.base_encoder.", backbone(tv)),
                **mlp("module.base_encoder.fc.", [2048, 64, 32]),
                **prefixed("module.momentum_encoder.", backbone(tv)),
                **mlp("module.momentum_encoder.fc.", [2048, 64, 32]),
                **mlp("module.predictor.", [32, 64, 32]),
            }
        },
        full_linear,
    ),
    "swav": (
        "swav",
        lambda tv: {
            **prefixed("module.", backbone(tv)),
            **mlp("module.projection_head.", [2048, 64, 128]),
            "module.prototypes.weight": noise(3000, 128),
        },
        linear_head,
    ),
    "deepcluster-v2": (
        "deepcluster-v2",
        lambda tv: {
            **prefixed("module.", backbone(tv)),
            **mlp("module.projection_head.", [2048, 64, 128]),
            **{f"module.prototypes.prototypes{i}.weight": noise(3000, 128) for i in range(3)},
        },
        linear_head,
    ),
    "sela-v2": (
        "sela-v2",
        lambda tv: {
            **prefixed("module.", backbone(tv)),
            **mlp("module.projection_head.", [2048, 64, 128]),
            **{f"module.prototypes.prototypes{i}.weight": noise(3000, 128) for i in range(3)},
        },
        linear_head,
    ),
    "simclr-v2": (
        "simclr",
        lambda tv: {
            "resnet": {simclr_v2_name(k): v for k, v in tv.items()},
            "head": mlp("layers.", [2048, 64, 128]),
        },
        None,
    ),
    "simclr-v1": ("simclr", lambda tv: {"state_dict": dict(tv)}, None),
    "byol": (
        "byol",
        lambda tv: {**backbone(tv), "fc.weight": noise(1000, 2048), "fc.bias": noise(1000)},
        linear_head,
    ),
    "simsiam": (
        "simsiam",
        lambda tv: {
            "state_dict": {
                **prefixed("module.encoder.", backbone(tv)),
                **mlp("module.encoder.fc.", [2048, 64, 2048]),
                **mlp("module.predictor.", [2048, 64, 2048]),
            }
        },
        full_linear,
    ),
    "obow": (
        "obow",
        lambda tv: {
            "network": {**backbone(tv), "fc.weight": noise(8192, 2048), "fc.bias": noise(8192)}
        },
        linear_head,
    ),
    "dino-r50": ("dino", lambda tv: backbone(tv), linear_head),
    "dino-full": (
        "dino",
        lambda tv: {
            "teacher": {
                **prefixed("module.backbone.", backbone(tv)),
                **mlp("module.head.mlp.", [2048, 64, 256]),
            },
            "epoch": 800,
        },
        linear_head,
    ),
    "barlow-twins": ("barlow-twins", lambda tv: backbone(tv), linear_head),
    "vicreg": ("vicreg", lambda tv: backbone(tv), linear_head),
    "vicreg-full": (
        "vicreg",
        lambda tv: {
            "model": {
                **prefixed("module.backbone.", backbone(tv)),
                **mlp("module.projector.", [2048, 64, 32]),
            }
        },
        linear_head,
    ),
    "torchvision": ("torchvision", lambda tv: dict(tv), None),
    "vissl": (
        "vissl",
        lambda tv: {
            "classy_state_dict": {
                "base_model": {
                    "model": {
                        "trunk": prefixed("_feature_blocks.", backbone(tv)),
                        "heads": {"0.clf.0.weight": noise(128, 2048)},
                    }
                }
            }
        },
        linear_head,
    ),
    "mmselfsup": (
        "mmselfsup",
        lambda tv: {
            "meta": {"epoch": 200},
            "state_dict": {
                **prefixed("backbone.", backbone(tv)),
                **mlp("neck.mlp.", [2048, 64, 128]),
            },
        },
        linear_head,
    ),
    "solo-learn": (
        "solo-learn",
        lambda tv: {
            "pytorch-lightning_version": "2.0.0",
            "state_dict": {
                **prefixed("backbone.", backbone(tv)),
                **mlp("projector.", [2048, 64, 256]),
                "classifier.weight": noise(1000, 2048),
                "classifier.bias": noise(1000),
            },
        },
        linear_head,
    ),
    "solo-learn-bare": (
        "solo-learn",
        lambda tv: {
            "state_dict": {
                **prefixed("backbone.", backbone(tv)),
                **prefixed("momentum_backbone.", backbone(tv)),
                "classifier.weight": noise(1000, 2048),
                "classifier.bias": noise(1000),
            }
        },
        linear_head,
    ),
    "swav-via-vissl": (
        "swav",
        lambda tv: {
            "classy_state_dict": {
                "base_model": {"model": {"trunk": prefixed("_feature_blocks.", backbone(tv))}}
            }
        },
        linear_head,
    ),
}


@pytest.fixture(scope="module")
def images(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("layout-images") / "val"
    rng = np.random.default_rng(5)
    for name in val_names(6):
        write_image(root / name, rng, size=(48, 40))
    return root


@pytest.fixture(scope="module")
def expected_top5(resnet50, images) -> Callable[[str], dict[str, list[int]]]:
    """Reference top-5 per image, computed once per framework's preprocessing."""
    cache: dict[str, dict[str, list[int]]] = {}

    def get(framework: str) -> dict[str, list[int]]:
        if framework not in cache:
            paths = sorted(images.iterdir())
            with torch.no_grad():
                logits = resnet50(Reference(framework).inputs(paths))
            cache[framework] = dict(zip([p.name for p in paths], top5(logits), strict=True))
        return cache[framework]

    return get


@pytest.mark.parametrize("layout", sorted(LAYOUTS))
def test_layout_matches_independent_torchvision_model(
    layout, resnet50, images, expected_top5, tmp_path, make_spec
):
    framework, write_checkpoint, write_head = LAYOUTS[layout]
    tv = resnet50.state_dict()
    checkpoint = tmp_path / "checkpoint.pth"
    torch.save(write_checkpoint(tv), checkpoint)
    head, head_path = "builtin", None
    if write_head is not None:
        head, head_path = "linear", str(tmp_path / "head.pth")
        torch.save(write_head(tv), head_path)
    spec = make_spec(
        framework=framework,
        checkpoint=str(checkpoint),
        dataset_path=str(images),
        head=head,
        head_path=head_path,
        arch="resnet50",
        chunk_size=6,
        batch_size=6,
    )
    result = run_job(spec, tmp_path / "run")

    expected = expected_top5(framework)
    got = read_predictions(tmp_path / "run")
    assert {k: r["top5"] for k, r in got.items()} == expected
    assert {k: r["pred"] for k, r in got.items()} == {k: t[0] for k, t in expected.items()}
    assert result.config["arch"] == "resnet50"
    assert result.n_images == len(expected)


def test_simclr_preprocessing_differs_from_default(images):
    """Guard for the test above: the per-framework pipelines really differ on these images."""
    paths = sorted(images.iterdir())
    default = Reference("torchvision").inputs(paths)
    for framework in ("simclr", "byol", "dino", "swav"):
        assert not torch.allclose(Reference(framework).inputs(paths), default)
