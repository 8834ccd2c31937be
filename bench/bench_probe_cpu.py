"""CPU benchmark of the probe engine: end-to-end images/s over bare-forward images/s.

Both are measured in this one run on the same synthetic JPEGs with a random-weight ResNet-50:
- bare forward: the model alone on already decoded, normalised batches (the ceiling);
- pipeline: `run_job` end to end (checkpoint load and hash, decode, resize, forward, feature cache,
  Parquet shards, result.json), from a cold feature cache.
Target: pipeline / forward >= 0.8. Prints one JSON object.

    .venv/bin/python bench/bench_probe_cpu.py [--images 48] [--size 224] [--batch-size 16]
"""

from __future__ import annotations

import argparse
import json
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image

from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.engine import run_job
from lottery_tui.probe.pipelines import preprocessing_for
from lottery_tui.probe.preprocess import decode_rgb, normalise, to_uint8_tensor


def make_images(root: Path, n: int, rng: np.random.Generator) -> list[Path]:
    """ImageNet-sized JPEGs (500 x 375) named like val files, smooth enough to compress."""
    root.mkdir(parents=True)
    paths = []
    for i in range(n):
        small = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((500, 375), Image.Resampling.BILINEAR)
        path = root / f"ILSVRC2012_val_{i + 1:08d}.JPEG"
        img.save(path, quality=90)
        paths.append(path)
    return paths


def bare_forward(model: torch.nn.Module, batches: list[torch.Tensor]) -> float:
    with torch.inference_mode():
        model(batches[0])  # warm-up at the measured batch size
        start = time.perf_counter()
        for x in batches:
            model(x)
        elapsed = time.perf_counter() - start
    return sum(len(b) for b in batches) / elapsed


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=48)
    parser.add_argument("--size", type=int, default=224)
    parser.add_argument("--batch-size", type=int, default=16)
    parser.add_argument("--workers", type=int, default=0)
    parser.add_argument("--rounds", type=int, default=2, help="forward/pipeline pairs (median)")
    parser.add_argument("--threads", type=int, default=None, help="torch threads (default: all)")
    args = parser.parse_args()
    if args.threads:
        torch.set_num_threads(args.threads)

    rng = np.random.default_rng(0)
    torch.manual_seed(0)
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        paths = make_images(tmp_path / "val", args.images, rng)
        model = torchvision.models.resnet50().eval()
        torch.save(model.state_dict(), tmp_path / "r50.pth")
        model.fc = torch.nn.Identity()

        prep = preprocessing_for("torchvision", args.size)
        decoded = torch.stack([to_uint8_tensor(decode_rgb(p)[0], prep) for p in paths])
        batches = [
            normalise(decoded[i : i + args.batch_size], prep, torch.float32)
            for i in range(0, len(paths), args.batch_size)
        ]

        def pipeline(name: str, folder: Path) -> tuple[float, float]:
            """(end-to-end images/s, the engine's own compute-phase images/s), cold cache."""
            spec = JobSpec(
                run_id=name,
                model="bench-r50",
                framework="torchvision",
                checkpoint=str(tmp_path / "r50.pth"),
                dataset="imagenet",
                dataset_path=str(folder),
                cache_dir=str(tmp_path / f"cache-{name}"),
                batch_size=args.batch_size,
                num_workers=args.workers,
                image_size=args.size,
                allow_subset=True,
            )
            start = time.perf_counter()
            result = run_job(spec, tmp_path / f"run-{name}")
            n = result.n_images
            return n / (time.perf_counter() - start), result.images_per_s

        # Warm both paths at the measured batch size (oneDNN builds its kernels on first use).
        warm = tmp_path / "warm"
        warm.mkdir()
        for p in paths[: args.batch_size]:
            (warm / p.name).symlink_to(p)
        pipeline("warm-up", warm)
        rounds = []
        for r in range(args.rounds):
            forward = bare_forward(model, batches)
            end_to_end, steady = pipeline(f"round-{r}", tmp_path / "val")
            rounds.append(
                {
                    "forward_images_per_s": round(forward, 2),
                    "pipeline_images_per_s": round(end_to_end, 2),
                    "pipeline_compute_images_per_s": round(steady, 2),
                    "ratio_end_to_end": round(end_to_end / forward, 3),
                    "ratio_compute": round(steady / forward, 3),
                }
            )
    print(
        json.dumps(
            {
                "images": args.images,
                "size": args.size,
                "batch_size": args.batch_size,
                "workers": args.workers,
                "threads": torch.get_num_threads(),
                "rounds": rounds,
                "median_ratio_end_to_end": statistics.median(r["ratio_end_to_end"] for r in rounds),
                "median_ratio_compute": statistics.median(r["ratio_compute"] for r in rounds),
                "target_ratio": 0.8,
            },
            indent=2,
        )
    )


if __name__ == "__main__":
    main()
