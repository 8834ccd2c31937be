"""GPU check of the real study's shape: 12 frameworks in their 3 preprocessing groups, one sweep.

Self-contained (random weights; JPEGs generated on the machine itself, in a temporary folder).
What it runs is what the study runs, scaled down in images only:
- the study's 12 frameworks (`STUDY`), each checkpoint in a layout its framework reads, forming
  the 3 preprocessing groups (DINO's bicubic resize; the bilinear resize of SwAV, MoCo,
  DeepCluster, Barlow Twins, VICReg, SimSiam and the supervised model; the crop-then-resize of
  SimCLR and BYOL); ResNet-50s and one ViT-S/16 (DINO);
- JPEGs with ImageNet's spread of sizes (short side ~375 px, aspect 1 to 16:9, both
  orientations) and of file sizes (mean ~120 KB; ImageNet val's is ~128 KB), >= 16k test images
  in several chunks, and a train folder (wnid folders) for the 2 k-NN models and the trained
  (L-BFGS) head;
- one `run_sweep` over all 12 runs: the train-feature phase, the heads (k-NN banks, the L-BFGS
  head), the test set; each phase timed from the job's events, with its peak GPU memory.
The rates are bounded by bare forwards measured in the same process (each image through the
12 models back to back, on the device, no decode): a phase faster than its bare forwards is
impossible and is printed as a flag, never as a figure. Extrapolations: the study's 167,500 test
images and its 1.28 M train images; the k-NN memory plan of the study's banks.

Prints one JSON object. The defaults are meant to finish in under 8 minutes on an H100.
`--cpu-smoke` runs the same code on the CPU at tiny sizes (ResNet-18s, 32 px; tests run it so the
script is known to work end to end); its figures are no measurement.

    python bench/gpu_study_check.py [--images 16384] [--train-images 4096] [--precision bf16]
    python bench/gpu_study_check.py --cpu-smoke
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

from lottery_tui.probe import knn_memory
from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.datasets import val_labels, wnids
from lottery_tui.probe.engine import run_sweep
from lottery_tui.probe.models import build_backbone, feature_dim, feature_kind
from lottery_tui.probe.pipelines import preprocessing_for
from lottery_tui.probe.result import RunResult

STUDY_TEST_IMAGES = 167_500  # val 50,000 (ReaL from the same run), V2 3 x 10,000, Sketch 50,889,
# R 30,000, A 7,500
TRAIN_IMAGES = 1_281_167
VIT = "vit_small_patch16"
# (name, framework, ViT or not, head): the study's 12 frameworks and their heads.
STUDY = (
    ("dino-r50", "dino", False, "linear"),
    ("dino-vits16", "dino", True, "knn"),
    ("swav", "swav", False, "linear"),
    ("deepcluster-v2", "deepcluster-v2", False, "linear"),
    ("moco-v2", "moco-v2", False, "linear"),
    ("moco-v3", "moco-v3", False, "linear"),
    ("barlow-twins", "barlow-twins", False, "knn"),
    ("vicreg", "vicreg", False, "train"),
    ("simsiam", "simsiam", False, "linear"),
    ("supervised", "torchvision", False, "builtin"),
    ("simclr-v2", "simclr", False, "linear"),
    ("byol", "byol", False, "linear"),
)
JPEG_QUALITY, JPEG_GRID, JPEG_GRAIN = 90, 4, 12  # mean ~120 KB at ImageNet's pixel sizes
JPEG_MEAN_KB = (110.0, 130.0)  # ImageNet's mean JPEG size, about
TOLERANCE = 1.05  # a rate above its bound by more than timing noise is impossible
GIB = 2**30


def _write_jpegs(job: tuple[list[Path], int]) -> list[int]:
    """ImageNet-like pictures: short side mostly 300-500 px, aspect 1 to 16:9 (3/4 landscape),
    smooth structure with grain so they compress like photos; returns the file sizes."""
    paths, seed = job
    rng = np.random.default_rng(seed)
    sizes = []
    for path in paths:
        short = int(np.clip(rng.lognormal(np.log(375), 0.25), 80, 1200))
        long = int(short * rng.choice([1.0, 4 / 3, 4 / 3, 4 / 3, 3 / 2, 16 / 9]))
        w, h = (long, short) if rng.random() < 0.75 else (short, long)
        grid = rng.integers(0, 256, (max(2, h // JPEG_GRID), max(2, w // JPEG_GRID), 3), np.uint8)
        pixels = np.asarray(
            Image.fromarray(grid).resize((w, h), Image.Resampling.BICUBIC), np.int16
        )
        pixels += rng.integers(-JPEG_GRAIN, JPEG_GRAIN + 1, pixels.shape, dtype=np.int16)
        path.parent.mkdir(parents=True, exist_ok=True)
        Image.fromarray(np.clip(pixels, 0, 255).astype(np.uint8)).save(path, quality=JPEG_QUALITY)
        sizes.append(path.stat().st_size)
    return sizes


def make_images(paths: list[Path], workers: int, seed: int) -> list[int]:
    """Write the JPEGs in `workers` processes, one seeded stream per share."""
    n = 4 * max(1, workers)
    shares = [(paths[i::n], seed * 1000 + i) for i in range(n)]
    if workers <= 1:
        return [s for share in shares for s in _write_jpegs(share)]
    with ProcessPoolExecutor(workers) as pool:
        return [s for sizes in pool.map(_write_jpegs, shares) for s in sizes]


def _checkpoint(framework: str, arch: str, seed: int) -> tuple[object, dict | None]:
    """A random checkpoint in a layout `framework` reads, and a released-style linear head."""
    torch.manual_seed(seed)
    if arch.startswith("vit"):
        state = _random_net(arch, feature_kind(arch, "knn"), "cpu").state_dict()
        fc = None
    else:
        full = getattr(torchvision.models, arch)(weights=None).state_dict()
        fc = {"module.linear.weight": full["fc.weight"], "module.linear.bias": full["fc.bias"]}
        state = {k: v for k, v in full.items() if not k.startswith("fc.")}
        if framework == "torchvision":
            return full, None
    if framework == "dino":  # the flat layout of DINO's released backbones
        return state, fc
    # mmselfsup's layout, which every SSL framework here also reads
    return {"state_dict": {f"backbone.{k}": v for k, v in state.items()}}, fc


def make_runs(tmp: Path, args: argparse.Namespace) -> list[tuple[JobSpec, Path]]:
    runs = []
    for seed, (name, framework, vit, head) in enumerate(STUDY):
        arch = VIT if vit else args.arch
        obj, fc = _checkpoint(framework, arch, seed)
        ckpt = tmp / "checkpoints" / f"{name}.pth"
        ckpt.parent.mkdir(exist_ok=True)
        torch.save(obj, ckpt)
        head_path = None
        if head == "linear":
            head_path = tmp / "checkpoints" / f"{name}-head.pth"
            torch.save({"state_dict": fc}, head_path)
        elif head in ("knn", "train"):
            head_path = tmp / "train"
        spec = JobSpec(
            run_id=name,
            model=name,
            framework=framework,
            checkpoint=str(ckpt),
            dataset="imagenet",
            dataset_path=str(tmp / "val"),
            cache_dir=str(tmp / "cache"),
            head=head,
            head_path=None if head_path is None else str(head_path),
            device=args.device,
            batch_size=args.batch_size,
            num_workers=args.workers,
            precision=args.precision,
            image_size=args.image_size,
            allow_subset=True,
            chunk_size=args.chunk_size,
            decoder=args.decoder,
        )
        runs.append((spec, tmp / "runs" / name))
    return runs


class Phases:
    """Phase spans of a sweep from its events (train-folder features, heads, test set), with
    each phase's peak GPU memory (the peak is reset at each phase change)."""

    def __init__(self, cuda: bool) -> None:
        self.cuda = cuda
        self.current: str | None = "set_up"  # loading models: its peak only
        self.spans: dict[str, list[float]] = {}
        self.peak_gib: dict[str, float | None] = {}

    def __call__(self, event: dict) -> None:
        message = str(event.get("message") or "")
        if message == "train-folder features":
            phase = "train_features"
        elif message.startswith("k-NN memory plan") or message.startswith("training the linear"):
            phase = "heads"
        elif event["event"] == "done" or (event["event"] == "progress" and event.get("done")):
            phase = "test"  # the test set's progress has no message
        else:
            return
        if phase != self.current:
            self._close()
            self.current = phase
            self.spans.setdefault(phase, [event["t"], event["t"]])
        self.spans[phase][1] = event["t"]

    def _close(self) -> None:
        if self.current is not None and self.cuda:
            peak = torch.cuda.max_memory_allocated() / GIB
            self.peak_gib[self.current] = round(max(peak, self.peak_gib.get(self.current) or 0), 2)
            torch.cuda.reset_peak_memory_stats()

    def finish(self) -> None:
        self._close()
        self.current = None

    def seconds(self, phase: str) -> float | None:
        span = self.spans.get(phase)
        return None if span is None or span[1] <= span[0] else span[1] - span[0]


def _random_net(arch: str, kind: str, device: torch.device | str) -> torch.nn.Module:
    """The engine's backbone module (built on the meta device) with its layers' own random
    initialisation (small uniform weights would make CPU forwards crawl through denormals)."""
    net = build_backbone(arch, kind).to_empty(device=device).eval()
    with torch.no_grad():
        for param in net.parameters():  # tokens and embeddings without an initialiser
            param.normal_(0, 0.02)
        for module in net.modules():
            if hasattr(module, "reset_parameters"):
                module.reset_parameters()
    return net


def bare_forwards(names: list[str], args: argparse.Namespace) -> float:
    """Images/s through these models back to back, on device-resident random batches (no
    decode, no copy): the most a sweep of them can do."""
    device = torch.device(args.device)
    cuda = device.type == "cuda"
    nets = []
    for name, _, vit, head in STUDY:
        if name in names:
            arch = VIT if vit else args.arch
            net = _random_net(arch, feature_kind(arch, head), device)
            nets.append(net.to(memory_format=torch.channels_last) if cuda else net)
    x = torch.rand(args.batch_size, 3, args.image_size, args.image_size, device=device)
    if cuda:
        x = x.contiguous(memory_format=torch.channels_last)
    bf16 = args.precision == "bf16"
    with torch.inference_mode(), torch.autocast(device.type, torch.bfloat16, enabled=bf16):
        for net in nets:  # warm-up (cudnn picks its kernels)
            net(x)
        if cuda:
            torch.cuda.synchronize()
        start = time.perf_counter()
        for _ in range(args.forward_steps):
            for net in nets:
                net(x)
        if cuda:
            torch.cuda.synchronize()
        rate = args.forward_steps * len(x) / (time.perf_counter() - start)
    del nets
    if cuda:
        torch.cuda.empty_cache()
    return rate


def bounded(what: str, rate: float | None, bound: float) -> float | dict | None:
    """`rate` rounded, or a flag when it beats its bare forwards (the timing is wrong)."""
    if rate is None:
        return None
    if rate > TOLERANCE * bound:
        return {
            "impossible": f"{what}: {rate:.1f} img/s measured, above its bare forwards' "
            f"{bound:.1f} img/s; the timing is wrong, not the code fast"
        }
    return round(rate, 1)


def study_bank_plan(arch: str) -> knn_memory.BankPlan:
    """Where the study's k-NN banks of the 1.28 M train images would live on one GPU."""
    banks = []
    for name, _, vit, head in STUDY:
        if head == "knn":
            model_arch = VIT if vit else arch
            banks.append(
                (name, TRAIN_IMAGES, feature_dim(model_arch, feature_kind(model_arch, "knn")))
            )
    return knn_memory.plan_banks(banks, "cuda")


def _ratio(rate: float | dict | None, bound: float) -> float | None:
    """How close a phase comes to its bare forwards (target >= 0.8 in bf16 for the test set)."""
    return round(rate / bound, 3) if isinstance(rate, float) else None


def _minutes(images: int, rate: float | dict | None) -> float | None:
    return round(images / rate / 60, 1) if isinstance(rate, float) and rate > 0 else None


def main(argv: list[str] | None = None) -> dict:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=16384, help="test images (>= 16k)")
    parser.add_argument("--train-images", type=int, default=4096)
    parser.add_argument("--train-classes", type=int, default=64)
    parser.add_argument("--batch-size", type=int, default=256)
    parser.add_argument("--chunk-size", type=int, default=4096)
    parser.add_argument("--workers", type=int, default=max(1, min(15, (os.cpu_count() or 2) - 1)))
    parser.add_argument("--forward-steps", type=int, default=8)
    parser.add_argument("--precision", choices=("fp32", "bf16"), default="bf16")
    parser.add_argument("--decoder", choices=("pil", "nvjpeg"), default="pil")
    parser.add_argument("--device", choices=("cuda", "cpu"), default="cuda")
    parser.add_argument("--arch", default="resnet50")
    parser.add_argument("--image-size", type=int, default=224)
    parser.add_argument("--cpu-smoke", action="store_true", help="tiny CPU run: no measurement")
    args = parser.parse_args(argv)
    if args.cpu_smoke:
        args.device, args.arch, args.image_size, args.precision, args.decoder = (
            "cpu",
            "resnet18",
            32,
            "fp32",
            "pil",
        )
        args.images, args.train_images, args.train_classes = 32, 12, 3
        args.batch_size, args.chunk_size, args.workers, args.forward_steps = 16, 16, 0, 1
    if args.device == "cuda" and not torch.cuda.is_available():
        out = {"error": "no CUDA GPU visible (--cpu-smoke runs the script on the CPU)"}
        print(json.dumps(out))
        return out
    cuda = args.device == "cuda"
    if cuda:
        torch.backends.cudnn.benchmark = True
    out: dict = {
        "device": torch.cuda.get_device_name() if cuda else "cpu",
        "cpu_smoke": args.cpu_smoke,
        "torch": torch.__version__,
        "precision": args.precision,
        "decoder": args.decoder,
        "batch_size": args.batch_size,
        "workers": args.workers,
        "models": [name for name, *_ in STUDY],
        "preprocessing_groups": len(
            {preprocessing_for(f, args.image_size).geometry for _, f, _, _ in STUDY}
        ),
    }
    t0 = time.perf_counter()
    with tempfile.TemporaryDirectory() as tmp_name:
        tmp = Path(tmp_name)
        names = sorted(val_labels())[: args.images]
        test_sizes = make_images([tmp / "val" / n for n in names], args.workers, seed=1)
        per_class = max(1, args.train_images // args.train_classes)
        train = [
            tmp / "train" / wnid / f"{wnid}_{i}.JPEG"
            for wnid in wnids()[: args.train_classes]
            for i in range(per_class)
        ]
        train_sizes = make_images(train, args.workers, seed=2)
        mean_kb = float(np.mean(test_sizes + train_sizes)) / 1000
        out["jpegs"] = {
            "test_images": len(test_sizes),
            "train_images": len(train_sizes),
            "chunks": -(-len(test_sizes) // args.chunk_size),
            "mean_kb": round(mean_kb, 1),
            "sd_kb": round(float(np.std(test_sizes + train_sizes)) / 1000, 1),
            "mean_within_imagenet_range": JPEG_MEAN_KB[0] <= mean_kb <= JPEG_MEAN_KB[1],
        }
        runs = make_runs(tmp, args)
        out["generate_s"] = round(time.perf_counter() - t0, 1)

        trained = [name for name, _, _, head in STUDY if head in ("knn", "train")]
        forwards = {
            "all_12_models": bare_forwards([name for name, *_ in STUDY], args),
            "train_feature_models": bare_forwards(trained, args),
        }
        out["bare_forwards_images_per_s"] = {k: round(v, 1) for k, v in forwards.items()}

        phases = Phases(cuda)
        if cuda:
            torch.cuda.reset_peak_memory_stats()
        started = time.perf_counter()
        outcomes = run_sweep(runs, on_event=phases)
        phases.finish()
        wall = time.perf_counter() - started
        done = {k: v for k, v in outcomes.items() if isinstance(v, RunResult)}
        failed = {k: str(v) for k, v in outcomes.items() if k not in done}
        short = {k: v.n_images for k, v in done.items() if v.n_images != len(names)}
        test_s, train_s = phases.seconds("test"), phases.seconds("train_features")
        test_rate = bounded(
            "test sweep", None if test_s is None else len(names) / test_s, forwards["all_12_models"]
        )
        train_rate = bounded(
            "train-feature phase",
            None if train_s is None else len(train) / train_s,
            forwards["train_feature_models"],
        )
        out["sweep"] = {
            "wall_s": round(wall, 1),
            "phase_s": {p: round(s, 1) for p in phases.spans if (s := phases.seconds(p))},
            "peak_gpu_memory_gib": phases.peak_gib if cuda else None,
            "test_images_per_s": test_rate,
            "test_vs_bare_forwards": _ratio(test_rate, forwards["all_12_models"]),
            "train_images_per_s": train_rate,
            "train_vs_bare_forwards": _ratio(train_rate, forwards["train_feature_models"]),
            "failed_runs": failed,
            "runs_with_missing_images": short,
            "k_nn_bank": {
                k: v.config["head"].get("bank")
                for k, v in done.items()
                if v.config["head"].get("kind") == "knn"
            },
        }
        out["study"] = {
            "test_sets_min": _minutes(STUDY_TEST_IMAGES, test_rate),
            "train_features_min": _minutes(TRAIN_IMAGES, train_rate),
            "k_nn_memory_plan": study_bank_plan(args.arch).describe(),
        }
    out["targets"] = {"test_vs_bare_forwards_bf16": 0.8, "study_test_sets_min": 5}
    out["note"] = (
        "phase spans come from the job's events (0.5 s granularity); extrapolations scale them; "
        "model loading and folder listing are extra"
        + ("; --cpu-smoke: no measurement, only a run of the code" if args.cpu_smoke else "")
    )
    out["total_s"] = round(time.perf_counter() - t0, 1)
    print(json.dumps(out, indent=2))
    return out


if __name__ == "__main__":
    main()
