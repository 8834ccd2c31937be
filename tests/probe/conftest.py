"""Probe fixtures: seeded random-weight models, tiny JPEG folders, an independent reference.

The reference pipeline is written from the documented protocols with torchvision transforms and
torchvision models only; it shares no code with `lottery_tui.probe`.
"""

from __future__ import annotations

import shutil
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import numpy as np
import pytest
import torch
import torchvision
from PIL import Image
from torchvision import transforms as T

from lottery_tui.probe.contract import JobSpec

SIZE = 32  # centre-crop size used by the tests: tiny, so ResNet-50 on CPU is cheap
MEAN = (0.485, 0.456, 0.406)
STD = (0.229, 0.224, 0.225)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Every test of this folder needs torch: marked so `-m "not torch"` leaves them out."""
    here = Path(__file__).parent
    for item in items:
        if here in Path(item.fspath).parents:
            item.add_marker(pytest.mark.torch)


@pytest.fixture(scope="session", autouse=True)
def one_torch_thread():
    """Tiny forwards: a second OpenMP thread only adds spinning (10x slower on a busy CI box)."""
    threads = torch.get_num_threads()
    torch.set_num_threads(1)
    yield
    torch.set_num_threads(threads)


def randomise_bn(model: torch.nn.Module, gen: torch.Generator) -> None:
    """Non-trivial BatchNorm statistics, so a key mix-up would change predictions."""
    for m in model.modules():
        if isinstance(m, torch.nn.BatchNorm2d):
            m.running_mean.copy_(torch.randn(m.running_mean.shape, generator=gen) * 0.1)
            m.running_var.copy_(torch.rand(m.running_var.shape, generator=gen) + 0.5)
            m.weight.data.copy_(torch.rand(m.weight.shape, generator=gen) + 0.5)
            m.bias.data.copy_(torch.randn(m.bias.shape, generator=gen) * 0.1)


def random_resnet(arch: str, seed: int) -> torch.nn.Module:
    torch.manual_seed(seed)
    model = getattr(torchvision.models, arch)(weights=None)
    randomise_bn(model, torch.Generator().manual_seed(seed))
    return model.eval()


@pytest.fixture(scope="session")
def resnet50() -> torch.nn.Module:
    """One random-weight torchvision ResNet-50 (with its fc as the ImageNet head)."""
    return random_resnet("resnet50", 50)


@pytest.fixture(scope="session")
def resnet18() -> torch.nn.Module:
    return random_resnet("resnet18", 18)


def write_image(path: Path, rng: np.random.Generator, *, mode: str = "RGB", size=(44, 38)) -> None:
    """A random JPEG (smooth enough to survive compression) of the given PIL mode."""
    path.parent.mkdir(parents=True, exist_ok=True)
    small = rng.integers(0, 256, (size[1] // 4 + 1, size[0] // 4 + 1, 3), dtype=np.uint8)
    img = Image.fromarray(small).resize(size, Image.Resampling.BILINEAR)
    if mode != "RGB":
        img = img.convert(mode)
    img.save(path, format="JPEG" if path.suffix.lower() in (".jpeg", ".jpg") else None, quality=92)


def val_names(n: int, start: int = 0) -> list[str]:
    return [f"ILSVRC2012_val_{i:08d}.JPEG" for i in range(start + 1, start + n + 1)]


@pytest.fixture
def val_folder(tmp_path: Path) -> Path:
    """Flat ImageNet val layout: 12 official file names, one of them a CMYK JPEG."""
    rng = np.random.default_rng(1)
    root = tmp_path / "val"
    for i, name in enumerate(val_names(12)):
        write_image(root / name, rng, mode="CMYK" if i == 3 else "RGB")
    return root


@dataclass
class Reference:
    """Independent per-image logits: torchvision transforms + a torchvision model."""

    framework: str = "torchvision"
    size: int = SIZE

    def transform(self) -> T.Compose:
        if self.framework in ("simclr", "byol"):
            steps: list = [
                T.Lambda(lambda im: T.CenterCrop(round(0.875 * min(im.size)))(im)),
                T.Resize((self.size, self.size), interpolation=T.InterpolationMode.BICUBIC),
                T.ToTensor(),
            ]
            if self.framework == "byol":
                steps.append(T.Normalize(MEAN, STD))
            return T.Compose(steps)
        bicubic = self.framework == "dino"
        swav_repo = self.framework in ("swav", "deepcluster-v2", "sela-v2")
        std = (0.228, 0.224, 0.225) if swav_repo else STD
        return T.Compose(
            [
                T.Resize(
                    round(self.size / 0.875),
                    interpolation=T.InterpolationMode.BICUBIC
                    if bicubic
                    else T.InterpolationMode.BILINEAR,
                ),
                T.CenterCrop(self.size),
                T.ToTensor(),
                T.Normalize(MEAN, std),
            ]
        )

    def inputs(self, paths: list[Path]) -> torch.Tensor:
        tf = self.transform()
        return torch.stack([tf(Image.open(p).convert("RGB")) for p in paths])


def top5(logits: torch.Tensor, classes: list[int] | None = None) -> list[list[int]]:
    if classes is not None:
        masked = torch.full_like(logits, float("-inf"))
        masked[:, classes] = logits[:, classes]
        logits = masked
    return logits.topk(5, dim=1).indices.tolist()


def read_predictions(run_dir: Path) -> dict[str, dict]:
    """The run's own rows (the shards result.json lists, not those of derived datasets)."""
    import json

    import pyarrow.parquet as pq

    result = json.loads((run_dir / "result.json").read_text())
    rows = {}
    for shard in result["shards"]:
        for row in pq.read_table(run_dir / "shards" / shard["name"]).to_pylist():
            rows[row["image_id"]] = row
    return rows


@pytest.fixture
def make_spec(tmp_path: Path) -> Callable[..., JobSpec]:
    """A JobSpec for the tests' tiny images, with a per-test feature cache."""

    def make(**fields) -> JobSpec:
        base = {
            "run_id": "test-run",
            "model": "m",
            "framework": "torchvision",
            "checkpoint": "",
            "dataset": "imagenet",
            "dataset_path": "",
            "cache_dir": str(tmp_path / "cache"),
            "image_size": SIZE,
            "allow_subset": True,
            "chunk_size": 5,
            "batch_size": 4,
        }
        base.update(fields)
        return JobSpec(**base)

    return make


def fresh_dir(path: Path) -> Path:
    shutil.rmtree(path, ignore_errors=True)
    path.mkdir(parents=True)
    return path
