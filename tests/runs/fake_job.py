"""A stand-in probe job for executor tests: the run-directory contract without torch.

`python tests/runs/fake_job.py RUN_DIR [RUN_DIR ...]` (a sweep: the runs one after another) reads
each spec.json and behaves as `<dataset_path>/fake.json`
says for its model (or "*"): `steps` units of work of `delay` seconds each, then done, or `fail`.
Finished steps are counted in the feature-cache folder, so a killed or preempted job resumes where
it stopped, as the real probe job resumes from its cache.
"""

from __future__ import annotations

import json
import os
import sys
import time
from pathlib import Path


def _event(run_dir: Path, **fields) -> None:
    with open(run_dir / "events.jsonl", "a") as f:
        f.write(json.dumps({"t": time.time(), **fields}) + "\n")


def _write_atomic(path: Path, text: str) -> None:
    """Via a temporary file and a rename: a requeued task never reads a half-written counter."""
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def main() -> int:
    codes = [run(Path(arg)) for arg in sys.argv[1:]]
    return max(codes, default=2)


def run(run_dir: Path) -> int:
    spec = json.loads((run_dir / "spec.json").read_text())
    rules = json.loads((Path(spec["dataset_path"]) / "fake.json").read_text())
    rule = rules.get(spec["model"], rules.get("*", {}))
    steps, delay = int(rule.get("steps", 3)), float(rule.get("delay", 0.05))
    cache = Path(spec["cache_dir"]) / f"{spec['model']}-{spec['dataset']}.steps"
    cache.parent.mkdir(parents=True, exist_ok=True)
    done = int(cache.read_text()) if cache.exists() else 0
    gpu = os.environ.get("CUDA_VISIBLE_DEVICES", "")
    _event(
        run_dir,
        event="start",
        dataset=spec["dataset"],
        done=done,
        total=steps,
        message=json.dumps({"resumed_from": done, "gpu": gpu, "pid": os.getpid()}),
    )
    print(f"fake job {spec['model']} on {spec['dataset']}: starting at {done}/{steps}", flush=True)
    while done < steps:
        time.sleep(delay)
        done += 1
        _write_atomic(cache, str(done))
        _event(
            run_dir,
            event="progress",
            dataset=spec["dataset"],
            done=done,
            total=steps,
            images_per_s=1 / delay,
            eta_s=(steps - done) * delay,
        )
        if rule.get("fail") and done >= int(rule.get("fail_at", 1)):
            print("fake job: something broke in the data loader", flush=True)
            (run_dir / "error.txt").write_text("RuntimeError: fake failure\nTraceback ...\n")
            _event(run_dir, event="failed", dataset=spec["dataset"], message="fake failure")
            return 1
    result = {  # the shape of a RunResult (lottery_tui/probe/result.py), no shards behind it
        "run_id": spec["run_id"],
        "model": spec["model"],
        "dataset": spec["dataset"],
        "n_images": steps,
        "n_skipped": 0,
        "top1": 50.0,
        "top5": None,
        "images_per_s": None,
        "config": {"finished": time.time()},
        "shards": [],
    }
    _write_atomic(run_dir / "result.json", json.dumps(result))
    _event(run_dir, event="done", dataset=spec["dataset"], done=steps, total=steps)
    print("fake job: done", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
