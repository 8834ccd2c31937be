"""A simulated study on CPU: counts decodes and forwards, and asserts the minimum.

12 tiny random-weight ResNet-18 checkpoints in the study's 3 preprocessing groups (DINO's bicubic
resize; the bilinear frameworks; SimCLR's crop-then-resize), two of them heads on one checkpoint
(k-NN and a released head), 4 k-NN models reading a train folder, one model that runs out of
CUDA memory on every batch (simulated), and 2 test sets run as two executors' sweeps in two
processes at once, sharing one feature cache. Asserted:
- each test image decoded once per preprocessing group of its sweep;
- each test image forwarded once per checkpoint (two heads on one checkpoint share the pass);
- each train image forwarded once per k-NN checkpoint across both processes (the claim);
- every model done but the failing one, which fails alone in each sweep with the OOM.
Prints one JSON object with the counts and the wall time (keep it under a minute here).

    .venv/bin/python bench/bench_study_cpu.py [--images 24] [--train-per-class 4]
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import numpy as np

SIZE = 32  # centre crop: tiny, so 12 models x 2 sets stay well under a minute on 2 cores
# (model, framework, head, checkpoint it shares): the study's 3 preprocessing groups.
MODELS = (
    ("dino-a", "dino", "knn", None),
    ("dino-a-linear", "dino", "linear", "dino-a"),  # a second head on dino-a's checkpoint
    ("dino-c", "dino", "knn", None),
    ("barlow-a", "barlow-twins", "knn", None),
    ("barlow-b", "barlow-twins", "linear", None),
    ("vicreg-a", "vicreg", "knn", None),
    ("vicreg-b", "vicreg", "linear", None),
    ("tv-a", "torchvision", "builtin", None),
    ("tv-oom", "torchvision", "builtin", None),  # out of memory on every batch
    ("simclr-a", "simclr", "builtin", None),
    ("simclr-b", "simclr", "builtin", None),
    ("simclr-c", "simclr", "builtin", None),
)
GROUPS = 3
FAILING = "tv-oom"
DATASETS = ("imagenet", "imagenetv2-matched-frequency")


def _write_jpeg(path: Path, rng: np.random.Generator, colour: int | None = None) -> None:
    from PIL import Image

    path.parent.mkdir(parents=True, exist_ok=True)
    small = rng.integers(0, 256, (10, 12, 3), dtype=np.uint8)
    if colour is not None:
        small[..., colour] = 220
    Image.fromarray(small).resize(
        (44 + int(rng.integers(0, 20)), 38), Image.Resampling.BILINEAR
    ).save(path, quality=90)


def build(root: Path, n_images: int, per_class: int) -> tuple[list[list[Path]], dict[str, str]]:
    """Checkpoints, heads, images and the run directories of the two sweeps (specs written)."""
    import torch
    import torchvision

    from lottery_tui.probe.contract import JobSpec, write_spec
    from lottery_tui.probe.datasets import val_labels

    rng = np.random.default_rng(0)
    val = sorted(val_labels())[:n_images]
    for name in val:
        _write_jpeg(root / "val" / name, rng)
    for i in range(n_images):
        _write_jpeg(root / "v2" / str(i % 4) / f"{i}.jpeg", rng)
    wnids = (Path(__file__).resolve().parents[1] / "data/imagenet/imagenet_synsets.txt").read_text()
    for c, wnid in enumerate(wnids.split()[:3]):
        for j in range(per_class):
            _write_jpeg(root / "train" / wnid / f"{j}.JPEG", rng, colour=c)
    checkpoint_of: dict[str, str] = {}
    files: dict[str, tuple[Path, Path]] = {}
    for seed, (name, framework, _, shares) in enumerate(MODELS):
        if shares is not None:
            checkpoint_of[name] = shares
            continue
        checkpoint_of[name] = name
        torch.manual_seed(seed)
        tv = torchvision.models.resnet18(weights=None).state_dict()
        trunk = {k: v for k, v in tv.items() if not k.startswith("fc.")}
        obj = (
            {"state_dict": tv}
            if framework == "simclr"
            else tv
            if framework == "torchvision"
            else trunk
        )
        ckpt = root / "checkpoints" / f"{name}.pth"
        ckpt.parent.mkdir(exist_ok=True)
        torch.save(obj, ckpt)
        head = root / "checkpoints" / f"{name}-head.pth"
        linear = {"module.linear.weight": tv["fc.weight"], "module.linear.bias": tv["fc.bias"]}
        torch.save({"state_dict": linear}, head)
        files[name] = (ckpt, head)
    sweeps = []
    for dataset, folder in zip(DATASETS, ("val", "v2"), strict=True):
        sweep = []
        for name, framework, head, _ in MODELS:
            ckpt, head_file = files[checkpoint_of[name]]
            head_path = {"knn": root / "train", "linear": head_file}.get(head)
            run_dir = root / "runs" / f"{name}--{dataset}"
            spec = JobSpec(
                run_id=run_dir.name,
                model=name,
                framework=framework,
                checkpoint=str(ckpt),
                dataset=dataset,
                dataset_path=str(root / folder),
                cache_dir=str(root / "cache"),
                head=head,
                head_path=None if head_path is None else str(head_path),
                image_size=SIZE,
                allow_subset=True,
                chunk_size=8,
                batch_size=4,
            )
            write_spec(run_dir, spec)
            sweep.append(run_dir)
        sweeps.append(sweep)
    return sweeps, checkpoint_of


def child(run_dirs: list[Path], out: Path) -> None:
    """One executor's sweep, with decodes and forwards counted (by folder and checkpoint)."""
    import torch

    from lottery_tui.probe import engine, extractor
    from lottery_tui.probe.contract import JobSpec

    torch.set_num_threads(1)
    decodes: Counter[str] = Counter()
    forwards: Counter[str] = Counter()
    phase = ["test"]
    decode, forward, prepare = extractor.decode_rgb, extractor.Extractor.forward, engine.Job.prepare
    train_features = engine.Sweep._train_features

    def counted_decode(path: Path):
        decodes[Path(path).relative_to(run_dirs[0].parents[1]).parts[0]] += 1
        return decode(path)

    def counted_forward(self, batch):
        forwards[f"{self.name}/{phase[0]}"] += batch.shape[0]
        if self.oom:
            raise torch.cuda.OutOfMemoryError("CUDA out of memory (simulated)")
        return forward(self, batch)

    def named_prepare(self) -> None:
        prepare(self)
        self.extractor.name = Path(self.spec.checkpoint).stem
        self.extractor.oom = self.spec.model == FAILING

    def train_phase(self) -> None:
        phase[0] = "train"
        try:
            train_features(self)
        finally:
            phase[0] = "test"

    extractor.decode_rgb = counted_decode
    extractor.Extractor.forward = counted_forward
    engine.Job.prepare = named_prepare
    engine.Sweep._train_features = train_phase
    engine.CLAIM_POLL_S = 0.05
    outcomes = engine.run_sweep([(JobSpec.read(d), d) for d in run_dirs])
    done = sorted(k for k, v in outcomes.items() if not isinstance(v, BaseException))
    failed = {
        k: f"{type(v).__name__}: {v}" for k, v in outcomes.items() if isinstance(v, BaseException)
    }
    out.write_text(
        json.dumps({"decodes": decodes, "forwards": forwards, "done": done, "failed": failed})
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--images", type=int, default=24)
    parser.add_argument("--train-per-class", type=int, default=4)
    parser.add_argument("--child", nargs="*", help=argparse.SUPPRESS)
    parser.add_argument("--out", help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.child is not None:
        child([Path(p) for p in args.child], Path(args.out))
        return
    with tempfile.TemporaryDirectory() as tmp:
        root = Path(tmp)
        sweeps, checkpoint_of = build(root, args.images, args.train_per_class)
        start = time.perf_counter()
        procs = [
            subprocess.Popen(
                [sys.executable, __file__, "--out", str(root / f"counts-{i}.json"), "--child"]
                + [str(d) for d in sweep]
            )
            for i, sweep in enumerate(sweeps)
        ]
        codes = [p.wait(timeout=600) for p in procs]
        wall = time.perf_counter() - start
        counts = [json.loads((root / f"counts-{i}.json").read_text()) for i in range(len(sweeps))]
    n_train = 3 * args.train_per_class
    forwards: Counter[str] = Counter()
    for c in counts:
        forwards.update(c["forwards"])
    checkpoints = sorted(set(checkpoint_of.values()) - {FAILING})
    knn = sorted({checkpoint_of[name] for name, _, head, _ in MODELS if head == "knn"})
    report = {
        "wall_s": round(wall, 2),
        "exit_codes": codes,
        "test_decodes": {
            d: c["decodes"].get(f, 0)
            for d, f, c in zip(DATASETS, ("val", "v2"), counts, strict=True)
        },
        "test_decodes_minimum": args.images * GROUPS,
        "train_forwards": {ck: forwards.get(f"{ck}/train", 0) for ck in knn},
        "train_forwards_minimum": n_train,
        "test_forwards_per_checkpoint": {ck: forwards.get(f"{ck}/test", 0) for ck in checkpoints},
        "test_forwards_minimum": args.images * len(DATASETS),
        "done": sum(len(c["done"]) for c in counts),
        "failed": {k: v for c in counts for k, v in c["failed"].items()},
    }
    print(json.dumps(report, indent=2))
    assert all(v == args.images * GROUPS for v in report["test_decodes"].values()), report
    assert all(v == n_train for v in report["train_forwards"].values()), report
    assert all(
        v == args.images * len(DATASETS) for v in report["test_forwards_per_checkpoint"].values()
    ), report
    assert report["done"] == len(DATASETS) * (len(MODELS) - 1), report
    assert sorted(report["failed"]) == sorted(f"{FAILING}--{d}" for d in DATASETS), report
    assert all("out of memory" in v for v in report["failed"].values()), report


if __name__ == "__main__":
    main()
