"""By-hand check of the local executor on a GPU machine (not in CI): the real probe job, launched
from a plan with `device = "auto"`, runs on the GPU that its lane was given.

Builds two random-weight ResNet-50 checkpoints (torchvision layout, builtin head) and a flat
ImageNet-val folder of N random JPEGs, validates the plan (checkpoint layouts, dataset folder),
launches it through `LocalExecutor` (GPUs found with nvidia-smi, no torch in this process until
the checks), waits, and prints per job: the device the spec and result record, the lane's
CUDA_VISIBLE_DEVICES, images/s, and wall time from launch to done. Needs no store (no duckdb).

Usage: python bench/runs_gpu_check.py [--images N] [--keep DIR]
"""

from __future__ import annotations

import argparse
import json
import tempfile
import time
from pathlib import Path

import numpy as np

from lottery_tui.probe.model_checks import check_model_files
from lottery_tui.probe.result import RunResult
from lottery_tui.runs import rundir
from lottery_tui.runs.executors.local import LocalExecutor, visible_gpus
from lottery_tui.runs.launch import launch_plan
from lottery_tui.runs.plan import load_plan
from lottery_tui.runs.plan_checks import check_plan
from lottery_tui.runs.status import scan_runs


def write_plan(root: Path, n_images: int) -> Path:
    import torch
    import torchvision
    from PIL import Image

    val = root / "val"
    val.mkdir(parents=True)
    rng = np.random.default_rng(0)
    for i in range(1, n_images + 1):
        small = rng.integers(0, 256, (40, 50, 3), dtype=np.uint8)
        img = Image.fromarray(small).resize((500, 375), Image.Resampling.BILINEAR)
        img.save(val / f"ILSVRC2012_val_{i:08d}.JPEG", quality=90)
    lines = [
        "[defaults]",
        'device = "auto"',
        "batch_size = 128",
        "num_workers = 8",
        "chunk_size = 1024",
        "allow_subset = true",
        "",
    ]
    for seed, name in enumerate(("gpu-r50-a", "gpu-r50-b")):
        torch.manual_seed(seed)
        torch.save(torchvision.models.resnet50(weights=None).state_dict(), root / f"{name}.pth")
        lines += [
            "[[models]]",
            f'name = "{name}"',
            'framework = "torchvision"',
            f'checkpoint = "{name}.pth"',
            'head = "builtin"',
            "",
        ]
    lines += ["[[datasets]]", 'id = "imagenet"', 'path = "val"', ""]
    (root / "plan.toml").write_text("\n".join(lines))
    return root / "plan.toml"


def main() -> None:
    parser = argparse.ArgumentParser()
    parser.add_argument("--images", type=int, default=2000)
    parser.add_argument("--keep", type=Path, default=None)
    args = parser.parse_args()
    root = args.keep or Path(tempfile.mkdtemp(prefix="runs-gpu-"))
    gpus = visible_gpus()
    print(f"visible GPUs (nvidia-smi / CUDA_VISIBLE_DEVICES): {gpus}")
    plan = load_plan(write_plan(root, args.images))
    results = root / "results"
    executor = LocalExecutor(results)
    problems = check_plan(plan, "local", results, gpus=executor.gpus, file_checks=check_model_files)
    assert not problems, problems
    started = time.time()
    report = launch_plan(plan, executor, results)
    print(f"launched {len(report.launched)} runs: {report.handles[0]}")
    while {r.state for r in scan_runs(results)} - {"done", "failed"}:
        time.sleep(0.5)
    for run in scan_runs(results):
        spec = json.loads((run.run_dir / rundir.SPEC).read_text())
        events = [json.loads(x) for x in (run.run_dir / rundir.EVENTS).read_text().splitlines()]
        t0 = events[0]["t"]
        if run.state != "done":
            print(f"{run.model}: {run.state}: {run.message}")
            print("\n".join(rundir.tail(run.run_dir / rundir.LOG, 30)))
            continue
        result = RunResult.read(run.run_dir)
        assert result is not None, run.run_dir
        config = result.config
        print(
            f"{run.model}: spec device {spec['device']}, result device {config.get('device')}, "
            f"{result.n_images} images, {result.images_per_s or 0:.0f} img/s, "
            f"job {events[-1]['t'] - t0:.1f} s, launch->done {events[-1]['t'] - started:.1f} s"
        )


if __name__ == "__main__":
    main()
