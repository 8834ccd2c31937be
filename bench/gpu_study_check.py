"""GPU check of the study path: 12 ResNet-50s of 2 preprocessing groups, decoded once per group.

Self-contained (random weights; JPEGs generated on the machine itself, in a temporary folder, with
an ImageNet-like spread of sizes and aspect ratios, not one size). On one GPU it measures, in fp32
and bf16, with each decoder (`pil`, `nvjpeg`):
- the input side alone (workers and, for nvjpeg, the device decode; no forward) per group;
- one model's bare forward and the 12 models' bare forwards back to back (images/s counted once
  per image that went through all 12);
- one-model runs (`run_job`, each model decoding for itself) and the sweep (`run_sweep`, every image
  decoded once per group), images/s from the first computed batch to the last result;
- the sweep / 12-forwards ratio (target >= 0.8 in bf16), and the study time extrapolated to
  12 models x 167,500 test images (ImageNet val + ReaL, V2 x 3, Sketch, R, A) and to the
  1.28 M train images of trained heads / k-NN (time to features; the head training is extra).
Prints one JSON object. The default sizes are meant to finish in under 8 minutes on an H100/H200.
`--tiny` runs the same code on the CPU with small images and ResNet-18s (a dry run); `--device cpu`
with other sizes measures the decode saving on a CPU.

    python bench/gpu_study_check.py [--images 4096] [--workers N] [--tiny]
    python bench/gpu_study_check.py --device cpu --arch resnet18 --image-size 64 --images 256 \
        --models 4 --workers 1 --batch-size 32 --chunk-size 256 --decoders pil --precisions fp32
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import tempfile
import time
from concurrent.futures import ProcessPoolExecutor
from pathlib import Path

import numpy as np
import torch
import torchvision
from PIL import Image

from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.engine import run_job, run_sweep
from lottery_tui.probe.extractor import Extractor
from lottery_tui.probe.pipelines import preprocessing_for
from lottery_tui.probe.preprocess import decode_rgb, normalise, to_uint8_tensor

STUDY_TEST_IMAGES = 167_500  # val 50,000 (ReaL from the same run), V2 3 x 10,000, Sketch 50,889,
# R 30,000, A 7,500
TRAIN_IMAGES = 1_281_167
GROUPS = {"bilinear": "torchvision", "bicubic": "dino"}  # framework per preprocessing group


def _write_images(args: tuple[Path, int, int, int]) -> None:
    """ImageNet-like sizes: short side mostly 300-500 (median ~375), aspect 3:4 to 16:9, both
    orientations; smooth content so the JPEGs compress like photos."""
    root, start, stop, scale = args
    rng = np.random.default_rng(start)
    for i in range(start, stop):
        short = int(np.clip(rng.lognormal(np.log(375), 0.25), 80, 1200)) // scale
        ratio = rng.choice([1.0, 4 / 3, 4 / 3, 4 / 3, 3 / 2, 16 / 9])
        long = int(short * ratio)
        w, h = (long, short) if rng.random() < 0.75 else (short, long)
        small = rng.integers(0, 256, (max(2, h // 8), max(2, w // 8), 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((max(8, w), max(8, h)), Image.Resampling.BILINEAR)
        img.save(root / f"ILSVRC2012_val_{i + 1:08d}.JPEG", quality=90)


def make_images(root: Path, n: int, workers: int, scale: int) -> None:
    root.mkdir(parents=True)
    step = max(1, n // (4 * workers))
    jobs = [(root, s, min(s + step, n), scale) for s in range(0, n, step)]
    with ProcessPoolExecutor(workers) as pool:
        list(pool.map(_write_images, jobs))


def make_models(tmp: Path, arch: str, n: int) -> list[tuple[str, str, Path, Path | None]]:
    """(name, framework, checkpoint, head file): half torchvision (builtin fc, bilinear), half
    DINO layout (no fc; a released-style linear head, bicubic)."""
    out = []
    for i in range(n):
        group = list(GROUPS)[i % 2]
        framework = GROUPS[group]
        torch.manual_seed(i)
        state = getattr(torchvision.models, arch)().state_dict()
        ckpt, head = tmp / f"m{i}.pth", None
        if framework == "dino":
            head = tmp / f"m{i}-head.pth"
            linear = {
                "module.linear.weight": state["fc.weight"],
                "module.linear.bias": state["fc.bias"],
            }
            torch.save({"state_dict": linear}, head)
            state = {k: v for k, v in state.items() if not k.startswith("fc.")}
        torch.save(state, ckpt)
        out.append((f"{group}-{i}", framework, ckpt, head))
    return out


def spec_for(tmp: Path, model: tuple, tag: str, args: argparse.Namespace, **fields) -> JobSpec:
    name, framework, ckpt, head = model
    return JobSpec(
        run_id=f"{name}-{tag}",
        model=name,
        framework=framework,
        checkpoint=str(ckpt),
        dataset="imagenet",
        dataset_path=str(tmp / "val"),
        cache_dir=str(tmp / f"cache-{tag}"),  # a cache per configuration: nothing is reused
        head="builtin" if head is None else "linear",
        head_path=None if head is None else str(head),
        device=args.device,
        batch_size=args.batch_size,
        num_workers=args.workers,
        image_size=args.image_size,
        allow_subset=True,
        chunk_size=args.chunk_size,
        **fields,
    )


class Clock:
    """From the first `progress` event after set-up to the last `done`: the compute span."""

    def __init__(self) -> None:
        self.start: float | None = None
        self.end: float | None = None

    def __call__(self, event: dict) -> None:
        if event["event"] == "progress" and event["message"].endswith("already done"):
            self.start = event["t"] if self.start is None else min(self.start, event["t"])
        if event["event"] == "done":
            self.end = event["t"] if self.end is None else max(self.end, event["t"])


def timed(fn, *args, **kwargs) -> tuple[float, float]:
    """(wall s, compute s) of a run or sweep."""
    clock = Clock()
    started = time.perf_counter()
    fn(*args, on_event=clock, **kwargs)
    wall = time.perf_counter() - started
    return wall, (clock.end - clock.start) if clock.start and clock.end else wall


def bare_forwards(models: list[torch.nn.Module], batch: torch.Tensor, bf16: bool, steps: int):
    """Images/s of one model, and of all models back to back (each image counted once)."""
    prep = preprocessing_for("torchvision", batch.shape[-1])
    device = batch.device
    x = normalise(batch, prep, torch.float32)
    cuda = device.type == "cuda"
    if cuda:
        x = x.contiguous(memory_format=torch.channels_last)

    def run(ms: list[torch.nn.Module]) -> float:
        with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
            for m in ms:
                m(x)
            if cuda:
                torch.cuda.synchronize()
            start = time.perf_counter()
            for _ in range(steps):
                for m in ms:
                    m(x)
            if cuda:
                torch.cuda.synchronize()
        return steps * len(x) / (time.perf_counter() - start)

    return run(models[:1]), run(models)


def input_only(tmp: Path, framework: str, decoder: str, args: argparse.Namespace) -> float:
    paths = sorted((tmp / "val").iterdir())
    prep = preprocessing_for(framework, args.image_size, decoder)
    device = torch.device(args.device)
    ex = Extractor(torch.nn.Identity(), prep, device, "fp32", False, args.batch_size, args.workers)
    batches = [
        list(range(s, min(s + args.batch_size, len(paths))))
        for s in range(0, len(paths), args.batch_size)
    ]
    start = time.perf_counter()
    for _ in ex.decoded(paths, batches):
        pass
    if device.type == "cuda":
        torch.cuda.synchronize()
    return len(paths) / (time.perf_counter() - start)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=4096)
    parser.add_argument("--models", type=int, default=12)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--chunk-size", type=int, default=4096)
    parser.add_argument("--workers", type=int, default=max(1, min(16, (os.cpu_count() or 2) - 1)))
    parser.add_argument("--forward-steps", type=int, default=10)
    parser.add_argument("--decoders", default="pil,nvjpeg")
    parser.add_argument("--precisions", default="fp32,bf16")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--arch", default="resnet50")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--shrink", type=int, default=1, help="divide the JPEG sizes by this")
    parser.add_argument("--tiny", action="store_true", help="CPU dry run: small images, ResNet-18s")
    args = parser.parse_args()
    if args.tiny:
        args.arch, args.image_size, args.shrink, args.device = "resnet18", 32, 8, "cpu"
        args.images, args.models, args.batch_size = min(args.images, 48), min(args.models, 4), 16
        args.chunk_size, args.workers, args.forward_steps = 32, 0, 1
    if args.device == "cuda" and not torch.cuda.is_available():
        print(json.dumps({"error": "no CUDA GPU visible (use --tiny for a CPU dry run)"}))
        return
    if args.device == "cuda":
        torch.backends.cudnn.benchmark = True
    device_name = torch.cuda.get_device_name() if args.device == "cuda" else "cpu"
    out: dict[str, object] = {
        "device": device_name,
        "torch": torch.__version__,
        "arch": args.arch,
        "models": args.models,
        "images": args.images,
        "batch_size": args.batch_size,
        "workers": args.workers,
    }
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        make_images(tmp / "val", args.images, max(1, args.workers), args.shrink)
        sizes = [Image.open(p).size for p in sorted((tmp / "val").iterdir())[:2000]]
        out["image_sizes"] = {
            "distinct": len(set(sizes)),
            "median_short_side": int(np.median([min(s) for s in sizes])),
        }
        models = make_models(tmp, args.arch, args.models)
        out["generate_s"] = round(time.perf_counter() - t0, 1)

        # Bare forwards on decoded, normalised batches already on the device.
        prep = preprocessing_for("torchvision", args.image_size)
        paths = sorted((tmp / "val").iterdir())[: args.batch_size]
        batch = torch.stack([to_uint8_tensor(decode_rgb(p)[0], prep) for p in paths])
        nets = []
        for i in range(args.models):
            torch.manual_seed(i)
            net = getattr(torchvision.models, args.arch)()
            net.fc = torch.nn.Identity()
            net = net.eval().to(args.device)
            nets.append(net.to(memory_format=torch.channels_last) if args.device == "cuda" else net)
        forward = {}
        for precision in args.precisions.split(","):
            if args.device == "cuda":
                torch.backends.cudnn.allow_tf32 = precision != "fp32"
                torch.backends.cuda.matmul.allow_tf32 = precision != "fp32"
            one, all_ = bare_forwards(
                nets, batch.to(args.device), precision == "bf16", args.forward_steps
            )
            forward[precision] = {"one_model": round(one, 1), "all_models": round(all_, 1)}
        out["forward_images_per_s"] = forward
        del nets
        if args.device == "cuda":
            torch.cuda.empty_cache()

        decoders = args.decoders.split(",")
        out["input_only_images_per_s"] = {
            d: {g: round(input_only(tmp, f, d, args), 1) for g, f in GROUPS.items()}
            for d in decoders
        }

        runs: dict[str, dict] = {}
        for precision in args.precisions.split(","):
            for decoder in decoders:
                tag = f"{precision}-{decoder}"
                fields = {"precision": precision, "decoder": decoder}
                # One-model runs: the first model of each group alone.
                single = {}
                for model in models[:2]:
                    spec = spec_for(tmp, model, f"single-{tag}", args, **fields)
                    wall, compute = timed(run_job, spec, tmp / "runs" / spec.run_id)
                    single[model[0].split("-")[0]] = round(args.images / compute, 1)
                specs = [spec_for(tmp, m, f"sweep-{tag}", args, **fields) for m in models]
                wall, compute = timed(run_sweep, [(s, tmp / "runs" / s.run_id) for s in specs])
                sweep = args.images / compute
                alone = float(np.mean(list(single.values())))
                all_fwd = forward[precision]["all_models"]
                runs[tag] = {
                    "one_model_run_images_per_s": single,
                    "one_model_vs_forward": round(alone / forward[precision]["one_model"], 3),
                    "sweep_images_per_s": round(sweep, 1),
                    "sweep_model_images_per_s": round(sweep * args.models, 1),
                    "sweep_wall_s": round(wall, 1),
                    "sweep_vs_all_forwards": round(sweep / all_fwd, 3),
                    "sweep_speed_up_vs_one_model_runs": round(sweep * args.models / alone, 2),
                    "study_test_sets_min": round(STUDY_TEST_IMAGES / sweep / 60, 1),
                    "study_test_sets_one_model_runs_min": round(
                        args.models * STUDY_TEST_IMAGES / alone / 60, 1
                    ),
                    "study_train_features_min": round(TRAIN_IMAGES / sweep / 60, 1),
                }
                for spec in specs:  # free the disk for the next configuration
                    shutil.rmtree(spec.cache_dir, ignore_errors=True)
        out["runs"] = runs
    out["targets"] = {
        "sweep_vs_all_forwards_bf16": 0.8,
        "study_test_sets_min": 5,
        "study_with_train_features_min": 30,
    }
    out["note"] = (
        "extrapolations scale the compute span (first batch to last result) of this run; model "
        "loading, folder listing and head training are extra"
    )
    out["total_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=2))


if __name__ == "__main__":
    main()
