"""The probe's input side (DataLoader workers decoding JPEGs, no forward) with the forward batch
decoded as 32-image worker parts vs as one task per worker, side by side in one run.

The shape that matters on a GPU machine is few forward batches per worker: 8,192 images in
batches of 256 over 15 workers is 32 tasks for 15 workers. Here the same ratio is kept on this
machine's cores: `--batches-per-worker` forward batches of 256 per worker (default 1.5, so the
last round of whole-batch tasks leaves half the workers idle). Prints images/s of each and the
ratio; the time to the first forward batch is printed too (the GPU idles until it arrives).

    python bench/bench_input_side.py [--workers N] [--batches-per-worker 1.5] [--repeat 3]
"""

from __future__ import annotations

import argparse
import os
import statistics
import tempfile
import time
from pathlib import Path

import numpy as np
import torch
from PIL import Image

from lottery_tui.probe.extractor import WORKER_BATCH, Extractor
from lottery_tui.probe.preprocess import preprocessing_for

BATCH = 256


def make_images(root: Path, n: int) -> list[Path]:
    rng = np.random.default_rng(0)
    paths = []
    for i in range(n):
        small = rng.integers(0, 256, (48, 64, 3), dtype=np.uint8)
        path = root / f"ILSVRC2012_val_{i + 1:08d}.JPEG"
        Image.fromarray(small).resize((500, 375), Image.Resampling.BILINEAR).save(path, quality=90)
        paths.append(path)
    return paths


def timed(paths: list[Path], workers: int, part: int) -> tuple[float, float]:
    """(images/s, seconds to the first forward batch) with workers decoding `part` images a task."""
    prep = preprocessing_for("torchvision", 224)
    extractor = Extractor(
        torch.nn.Identity(), prep, torch.device("cpu"), "fp32", False, BATCH, workers, part
    )
    batches = [list(range(s, min(s + BATCH, len(paths)))) for s in range(0, len(paths), BATCH)]
    start = time.perf_counter()
    first = None
    for _ in extractor.decoded(paths, batches):
        first = first or time.perf_counter() - start
    return len(paths) / (time.perf_counter() - start), first or 0.0


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--workers", type=int, default=os.cpu_count() or 2)
    parser.add_argument("--batches-per-worker", type=float, default=1.5)
    parser.add_argument("--repeat", type=int, default=3)
    args = parser.parse_args()
    torch.set_num_threads(1)
    n = int(args.workers * args.batches_per_worker * BATCH)
    default_part = WORKER_BATCH
    with tempfile.TemporaryDirectory() as tmp:
        paths = make_images(Path(tmp), n)
        runs: dict[str, list[tuple[float, float]]] = {"whole batch": [], "parts": []}
        for _ in range(args.repeat):  # interleaved: load from other processes hits both alike
            runs["whole batch"].append(timed(paths, args.workers, BATCH))
            runs["parts"].append(timed(paths, args.workers, default_part))
    print(f"{n} images, forward batch {BATCH}, {args.workers} workers, median of {args.repeat}")
    rates = {}
    for name, values in runs.items():
        rates[name] = statistics.median(rate for rate, _ in values)
        first = statistics.median(first for _, first in values)
        label = f"{name} ({BATCH if name == 'whole batch' else default_part} images a task)"
        print(f"  {label:<32} {rates[name]:8.1f} images/s   first batch after {first:5.2f} s")
    print(f"  parts / whole batch: {rates['parts'] / rates['whole batch']:.2f}x")


if __name__ == "__main__":
    main()
