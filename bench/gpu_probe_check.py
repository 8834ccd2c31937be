"""GPU check of the probe engine: bare forward vs full pipeline, fp32 / channels_last / bf16.

Self-contained: a random-weight ResNet-50 and synthetic ImageNet-sized JPEGs generated into a
temporary folder (no weights or data sets needed). Measures, on one GPU:
- bare forward images/s on decoded, normalised batches already on the GPU: fp32 (TF32 off),
  channels_last fp32, channels_last bf16;
- full pipeline images/s (`run_job`: decode in DataLoader workers, pinned memory, forward, feature
  cache, Parquet shards) in fp32 and bf16, and the pipeline / forward ratio (target >= 0.8);
- the same pipeline with the opt-in `nvjpeg` decoder (workers read bytes; decode, resize and crop
  on the GPU) in fp32 and bf16, its pipeline / forward ratios and its per-image top-1 agreement
  with the PIL pipeline on the same images;
- the input side alone (DataLoader workers and, for `nvjpeg`, the device decode; no forward):
  images/s and the wait for the first batch, so a pipeline below its forward shows which side
  bounds it;
- feature-cache reuse: the same model and images with another head, from the cache;
- per-image agreement of the GPU fp32 predictions with a CPU run on a subset.
Prints one JSON object. Default sizes take about two minutes on an H100.

    python bench/gpu_probe_check.py [--images 8192] [--batch-size 256] [--workers N]
"""

from __future__ import annotations

import argparse
import json
import os
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image

from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.engine import run_job
from lottery_tui.probe.extractor import Extractor
from lottery_tui.probe.pipelines import preprocessing_for
from lottery_tui.probe.preprocess import decode_rgb, normalise, to_uint8_tensor


def _write_images(args: tuple[Path, int, int]) -> None:
    root, start, stop = args
    rng = np.random.default_rng(start)
    for i in range(start, stop):
        small = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((500, 375), Image.Resampling.BILINEAR)
        img.save(root / f"ILSVRC2012_val_{i + 1:08d}.JPEG", quality=90)


def make_images(root: Path, n: int, workers: int) -> None:
    root.mkdir(parents=True)
    step = max(1, n // (4 * workers))
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_write_images, [(root, s, min(s + step, n)) for s in range(0, n, step)]))


def bare_forward(
    model, batch_uint8: torch.Tensor, *, channels_last: bool, bf16: bool, steps: int
) -> float:
    prep = preprocessing_for("torchvision", batch_uint8.shape[-1])
    x = normalise(batch_uint8.cuda(), prep, torch.float32)
    m = model
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
        m = model.to(memory_format=torch.channels_last)
    else:
        m = model.to(memory_format=torch.contiguous_format)
    with torch.inference_mode(), torch.autocast("cuda", dtype=torch.bfloat16, enabled=bf16):
        for _ in range(3):
            m(x)
        torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(steps):
            m(x)
        torch.cuda.synchronize()
    return steps * len(x) / (time.perf_counter() - start)


def input_only(folder: Path, decoder: str, batch_size: int, workers: int) -> dict[str, float]:
    """The pipeline's input side alone: decoded uint8 batches on the GPU, no forward."""
    paths = sorted(folder.iterdir())
    device = torch.device("cuda")
    prep = preprocessing_for("torchvision", 224, decoder)
    extractor = Extractor(torch.nn.Identity(), prep, device, "fp32", True, batch_size, workers)
    batches = [
        list(range(s, min(s + batch_size, len(paths)))) for s in range(0, len(paths), batch_size)
    ]
    start = time.perf_counter()
    first = None
    for _ in extractor.decoded(paths, batches):  # each batch already on the device
        if first is None:
            torch.cuda.synchronize()
            first = time.perf_counter()
    torch.cuda.synchronize()
    end = time.perf_counter()
    return {
        "images_per_s": round(len(paths) / (end - start), 1),
        "after_first_batch_images_per_s": round((len(paths) - batch_size) / (end - first), 1),
        "first_batch_s": round(first - start, 2),
    }


def spec_for(tmp: Path, name: str, **fields) -> JobSpec:
    base = dict(
        run_id=name,
        model=f"gpu-check-{name}",
        framework="torchvision",
        checkpoint=str(tmp / "r50.pth"),
        dataset="imagenet",
        dataset_path=str(tmp / "val"),
        cache_dir=str(tmp / f"cache-{name}"),
        device="cuda",
        allow_subset=True,
    )
    base.update(fields)
    return JobSpec(**base)


def timed_run(spec: JobSpec, run_dir: Path) -> tuple[dict, float]:
    start = time.perf_counter()
    result = run_job(spec, run_dir)
    return result, time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=8192)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--workers", type=int, default=max(1, (os.cpu_count() or 2) - 1))
    parser.add_argument("--forward-steps", type=int, default=20)
    parser.add_argument("--cpu-check-images", type=int, default=64)
    args = parser.parse_args()
    if not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA GPU visible"}))
        return
    torch.backends.cudnn.benchmark = True
    out: dict[str, object] = {
        "device": torch.cuda.get_device_name(),
        "torch": torch.__version__,
        "images": args.images,
        "batch_size": args.batch_size,
        "workers": args.workers,
    }
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_images(tmp / "val", args.images, args.workers)
        out["generate_s"] = round(time.perf_counter() - t0, 1)
        torch.manual_seed(0)
        model = torchvision.models.resnet50().eval()
        torch.save(model.state_dict(), tmp / "r50.pth")
        head = {
            "state_dict": {
                "module.linear.weight": model.fc.weight.detach().clone(),
                "module.linear.bias": model.fc.bias.detach().clone(),
            }
        }
        torch.save(head, tmp / "head.pth")
        model.fc = torch.nn.Identity()
        model = model.cuda()

        prep = preprocessing_for("torchvision", 224)
        paths = sorted((tmp / "val").iterdir())[: args.batch_size]
        batch = torch.stack([to_uint8_tensor(decode_rgb(p)[0], prep) for p in paths])
        torch.backends.cudnn.allow_tf32 = False
        torch.backends.cuda.matmul.allow_tf32 = False
        forward = {
            "fp32": bare_forward(
                model, batch, channels_last=False, bf16=False, steps=args.forward_steps
            ),
            "fp32_channels_last": bare_forward(
                model, batch, channels_last=True, bf16=False, steps=args.forward_steps
            ),
            "bf16_channels_last": bare_forward(
                model, batch, channels_last=True, bf16=True, steps=args.forward_steps
            ),
        }
        out["forward_images_per_s"] = {k: round(v, 1) for k, v in forward.items()}
        del model
        torch.cuda.empty_cache()

        out["input_only"] = {
            decoder: input_only(tmp / "val", decoder, args.batch_size, args.workers)
            for decoder in ("pil", "nvjpeg")
        }

        common = dict(batch_size=args.batch_size, num_workers=args.workers)
        pipeline, nvjpeg = {}, {}
        for precision, fwd_key in (("fp32", "fp32_channels_last"), ("bf16", "bf16_channels_last")):
            for decoder, table in (("pil", pipeline), ("nvjpeg", nvjpeg)):
                name = precision if decoder == "pil" else f"nvjpeg-{precision}"
                result, wall = timed_run(
                    spec_for(tmp, name, precision=precision, decoder=decoder, **common),
                    tmp / f"run-{name}",
                )
                table[precision] = _pipeline_numbers(result, wall, args.images, forward[fwd_key])
        out["pipeline"] = pipeline
        out["pipeline_nvjpeg"] = nvjpeg
        out["nvjpeg_vs_pil_top1_agreement"] = {
            precision: _agreement(tmp / f"run-{precision}", tmp / f"run-nvjpeg-{precision}")
            for precision in ("fp32", "bf16")
        }

        # Another head on the same model and images: features come from the fp32 cache.
        _, reuse_wall = timed_run(
            spec_for(
                tmp,
                "fp32",
                run_id="reuse",
                head="linear",
                head_path=str(tmp / "head.pth"),
                **common,
            ),
            tmp / "run-reuse",
        )
        out["feature_cache_reuse"] = {
            "first_run_s": pipeline["fp32"]["wall_s"],
            "reuse_run_s": round(reuse_wall, 2),
            "speed_up": round(pipeline["fp32"]["wall_s"] / reuse_wall, 1),
        }

        # GPU fp32 vs CPU on a subset: per-image top-1 agreement (TF32 is off in fp32).
        sub = tmp / "subset"
        sub.mkdir()
        for p in sorted((tmp / "val").iterdir())[: args.cpu_check_images]:
            os.symlink(p, sub / p.name)
        gpu, _ = timed_run(
            spec_for(tmp, "gpu-sub", dataset_path=str(sub), **common), tmp / "run-gpu-sub"
        )
        cpu, _ = timed_run(
            spec_for(tmp, "cpu-sub", dataset_path=str(sub), device="cpu", batch_size=32),
            tmp / "run-cpu-sub",
        )
        out["gpu_vs_cpu_top1_agreement"] = _agreement(tmp / "run-gpu-sub", tmp / "run-cpu-sub")
        out["gpu_vs_cpu_n"] = gpu["n_images"] if gpu["n_images"] == cpu["n_images"] else None
    out["total_s"] = round(time.perf_counter() - t0, 1)
    out["target_ratio"] = 0.8
    print(json.dumps(out, indent=2))


def _pipeline_numbers(result: dict, wall: float, images: int, forward: float) -> dict:
    return {
        "steady_images_per_s": round(result.images_per_s, 1),
        "end_to_end_images_per_s": round(images / wall, 1),
        "wall_s": round(wall, 2),
        "ratio_steady": round(result.images_per_s / forward, 3),
        "ratio_end_to_end": round(images / wall / forward, 3),
        "fallback_decoded": len(result.config["fallback_decoded"]),
    }


def _agreement(a: Path, b: Path) -> float:
    import pyarrow.parquet as pq

    def preds(run: Path) -> dict[str, int]:
        rows = {}
        for shard in sorted((run / "shards").glob("predictions-*.parquet")):
            t = pq.read_table(shard, columns=["image_id", "pred"])
            rows.update(zip(t["image_id"].to_pylist(), t["pred"].to_pylist(), strict=True))
        return rows

    pa_, pb = preds(a), preds(b)
    return round(sum(pa_[k] == pb[k] for k in pa_) / len(pa_), 4)


if __name__ == "__main__":
    main()
