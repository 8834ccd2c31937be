"""CPU bench of the sweep's decode saving: N models of one preprocessing group run one by one
(`run_job`, each decoding every image) versus one sweep (`run_sweep`, each image decoded once),
alternating, on the same generated ImageNet-sized JPEGs. Prints wall seconds per round and the
ratio. Small ResNet-18s at a small crop keep the forward cheap, so the decode dominates as it does
on a GPU; with the default decode in the main process (--workers 0) the saving is additive.

    python bench/bench_sweep_cpu.py [--images 192] [--models 4] [--rounds 2]
"""

from __future__ import annotations

import argparse
import json
import shutil
import tempfile
import time
from pathlib import Path

import torch
import torchvision
from gpu_study_check import make_images  # run as a script: bench/ is on sys.path

from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.engine import run_job, run_sweep


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=192)
    parser.add_argument("--models", type=int, default=4)
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--image-size", type=int, default=32)
    parser.add_argument("--workers", type=int, default=0)
    args = parser.parse_args()
    torch.set_num_threads(1)
    with tempfile.TemporaryDirectory() as name:
        tmp = Path(name)
        make_images(tmp / "val", args.images, 1, 1)
        ckpts = []
        for i in range(args.models):
            torch.manual_seed(i)
            ckpts.append(tmp / f"m{i}.pth")
            torch.save(torchvision.models.resnet18().state_dict(), ckpts[-1])

        def specs(tag: str) -> list[JobSpec]:
            return [
                JobSpec(
                    run_id=f"m{i}-{tag}",
                    model=f"m{i}",
                    framework="torchvision",
                    checkpoint=str(c),
                    dataset="imagenet",
                    dataset_path=str(tmp / "val"),
                    cache_dir=str(tmp / f"cache-{tag}"),
                    image_size=args.image_size,
                    batch_size=32,
                    num_workers=args.workers,
                    allow_subset=True,
                )
                for i, c in enumerate(ckpts)
            ]

        rounds = []
        for r in range(args.rounds):
            start = time.perf_counter()
            for spec in specs(f"single{r}"):
                run_job(spec, tmp / "runs" / spec.run_id)
            single = time.perf_counter() - start
            start = time.perf_counter()
            run_sweep([(s, tmp / "runs" / s.run_id) for s in specs(f"sweep{r}")])
            sweep = time.perf_counter() - start
            rounds.append({"one_by_one_s": round(single, 2), "sweep_s": round(sweep, 2)})
            shutil.rmtree(tmp / "runs")
        ratio = sum(x["one_by_one_s"] for x in rounds) / sum(x["sweep_s"] for x in rounds)
    print(json.dumps({**vars(args), "rounds": rounds, "one_by_one_over_sweep": round(ratio, 2)}))


if __name__ == "__main__":
    main()
