"""A real, tiny probe setup: a seeded random ResNet-18 checkpoint in torchvision layout (with its
own fc as the builtin head) and a flat ImageNet-val folder of small JPEGs, so the real
`lottery_tui.probe.job` runs end to end on a CPU in seconds."""

from __future__ import annotations

from pathlib import Path

import numpy as np


def write_tiny_probe_plan(
    root: Path, n_images: int = 10, models: tuple[str, ...] = ("tiny-r18",), executor: str = "local"
) -> Path:
    import torch
    import torchvision
    from PIL import Image

    root.mkdir(parents=True, exist_ok=True)
    val = root / "val"
    val.mkdir(exist_ok=True)
    rng = np.random.default_rng(6)
    for i in range(1, n_images + 1):
        small = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((44, 38), Image.Resampling.BILINEAR)
        img.save(val / f"ILSVRC2012_val_{i:08d}.JPEG", format="JPEG", quality=92)
    lines = [
        "[defaults]",
        'device = "cpu"',
        "batch_size = 4",
        "num_workers = 0",
        "image_size = 32",
        "chunk_size = 4",
        "allow_subset = true",
        f'executor = "{executor}"',
        "",
    ]
    for seed, name in enumerate(models):
        torch.manual_seed(seed)
        ckpt = root / f"{name}.pth"
        torch.save(torchvision.models.resnet18(weights=None).state_dict(), ckpt)
        lines += [
            "[[models]]",
            f'name = "{name}"',
            'framework = "torchvision"',
            f'checkpoint = "{ckpt.name}"',
            'head = "builtin"',
            "",
        ]
    lines += ["[[datasets]]", 'id = "imagenet"', 'path = "val"', ""]
    plan = root / "plan.toml"
    plan.write_text("\n".join(lines))
    return plan
