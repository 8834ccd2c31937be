"""The run-directory contract of a probe job (one model x one dataset), torch-free.

The job (`python -m lottery_tui.probe.job RUN_DIR [RUN_DIR ...]`, several = one sweep) reads
`RUN_DIR/spec.json`, writes only inside `RUN_DIR` (and the shared feature cache) and never
touches the store; `lottery_tui.probe.ingest` does that afterwards. Files
(docs/architecture.md, "run-directory contract"):

- `spec.json`: a `JobSpec`, written by the launcher (`write_spec`). Fields:

  | field | meaning |
  |---|---|
  | `run_id` | unique id of the run (`lottery_tui.runs.launch.run_id_for`) |
  | `model` | the model's name in the store |
  | `framework` | SSL framework or layout (`lottery_tui.probe.checkpoints.FRAMEWORKS`) |
  | `checkpoint` | path of the backbone checkpoint |
  | `dataset`, `dataset_path` | canonical dataset id and its folder |
  | `head` | `builtin` (the checkpoint's own classifier), `linear` (a released or saved |
  |        | head file), `train` (a linear head trained on cached features of an ImageNet |
  |        | train folder) or `knn` (k = 20, cosine, T = 0.07 on that folder's features) |
  | `head_path` | the head file (`linear`) or the train folder (`train`, `knn`) |
  | `arch` | `resnet50`, `vit_small`, `vit_base`, ... or null to infer it from the checkpoint |
  | `device` | `cpu` or `cuda` |
  | `batch_size`, `num_workers` | data loading |
  | `precision` | `fp32` or `bf16` (autocast; recorded with the run) |
  | `image_size` | centre-crop size (224); the resize is `image_size / 0.875` |
  | `decoder` | `pil` (the reference pixels) or `nvjpeg` (batched `decode_jpeg` and resize on |
  |           | the device; slightly different pixels, recorded with the preprocessing) |
  | `allow_subset` | accept a dataset folder with fewer classes or images than the full set |
  | `cache_dir` | feature cache shared by runs (features are computed once per model x dataset) |
  | `chunk_size` | images per feature chunk and per Parquet shard (the resume unit) |
  | `head_epochs` | epochs of the `train` head's `adamw` solver |
  | `head_solver` | the `train` head: `lbfgs` (default: L2 logistic regression by L-BFGS, l2 |
  |               | chosen on a held-out split) or `adamw` (the earlier AdamW protocol) |

- `events.jsonl`: one JSON object a line, `{"t", "event", "dataset", "done", "total",
  "images_per_s", "eta_s", "message"}` with event `start`, `progress`, `done` or `failed`.
- `shards/predictions-<dataset>-<k>.parquet`: `image_id`, `label`, `pred`, `top5`, `correct`;
  an ImageNet val run also writes `shards/derived/predictions-imagenet-{r,a}-clean-<k>.parquet`.
- `result.json`: written last; its presence means done. Read and written as a
  `lottery_tui.probe.result.RunResult`: its `shards` (and `derived[dataset].shards`) list every
  shard's name relative to `shards/`, sha256 and row count.
- `error.txt`: on failure, the error on its first line, then the traceback.
- `cancelled`: written by whoever cancels the run; a running sweep drops the run at its next
  chunk and goes on with its other runs.

Running the same RUN_DIR again resumes: finished shards and cached feature chunks are kept.
Exit status: 0 done, 1 failed, 130 interrupted.

Launchers, ingest and the engine import this module; only the entry point (`job.py`) imports the
engine, so imports in the probe package go one way.
"""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, fields
from pathlib import Path
from typing import Any

from lottery_tui.errors import InputError

SPEC_FILE = "spec.json"
EVENTS_FILE = "events.jsonl"
SHARDS_DIR = "shards"
RESULT_FILE = "result.json"
ERROR_FILE = "error.txt"
CANCELLED_FILE = "cancelled"  # written by `lottery runs cancel`: a sweep drops the run

HEAD_KINDS = ("builtin", "linear", "train", "knn")
HEAD_SOLVERS = ("lbfgs", "adamw")  # a `train` head's solver (probe/heads.py: head_protocol)
# The spec fields that make a probed model what it is, whatever the dataset: one model name in
# the store stands for one such identity (`probe/identity.py`). `head_epochs` counts for a
# trained head only.
MODEL_FIELDS = (
    "framework",
    "checkpoint",
    "head",
    "head_path",
    "precision",
    "image_size",
    "decoder",
    "head_epochs",
    "head_solver",
)
DECODERS = ("pil", "nvjpeg")  # preprocess.DECODER_RECORDS says what each one is
# Data-loading defaults that depend on the device (the other defaults are JobSpec's own).
CPU_BATCH_SIZE = 64
GPU_BATCH_SIZE = 256
MAX_GPU_WORKERS = 16


def default_batch_size(device: str) -> int:
    return GPU_BATCH_SIZE if device.startswith("cuda") else CPU_BATCH_SIZE


def default_num_workers(device: str, cpus: int | None = None) -> int:
    """JPEG decoding bounds a GPU run, so every core but the main process's decodes (`cpus`: the
    job's cores, default this process's); on the CPU the forward takes every core and the main
    process decodes."""
    if not device.startswith("cuda"):
        return 0
    if cpus is None:
        cpus = len(os.sched_getaffinity(0)) if hasattr(os, "sched_getaffinity") else os.cpu_count()
    return max(1, min(MAX_GPU_WORKERS, (cpus or 2) - 1))


@dataclass
class JobSpec:
    """Everything a probe job needs; serialised as `spec.json`.

    Its field defaults are the one defaults table of a probe run: a plan's `[defaults]` and the
    foreground `lottery probe` options take theirs from here, and `runs.launch.build_spec` is
    the one place a spec is built from either."""

    run_id: str
    model: str
    framework: str
    checkpoint: str
    dataset: str
    dataset_path: str
    cache_dir: str
    head: str = "builtin"
    head_path: str | None = None
    arch: str | None = None
    device: str = "cpu"
    batch_size: int = CPU_BATCH_SIZE
    num_workers: int = 0
    precision: str = "fp32"
    image_size: int = 224
    allow_subset: bool = False
    chunk_size: int = 4096
    head_epochs: int = 100
    decoder: str = "pil"
    head_solver: str = "lbfgs"

    def __post_init__(self) -> None:
        if self.head not in HEAD_KINDS:
            raise InputError(
                f"unknown head {self.head!r} (expected one of {', '.join(HEAD_KINDS)})"
            )
        if self.head != "builtin" and not self.head_path:
            raise InputError(f"head {self.head!r} needs a path")
        if self.precision not in ("fp32", "bf16"):
            raise InputError(f"unknown precision {self.precision!r} (expected fp32 or bf16)")
        if self.head_solver not in HEAD_SOLVERS:
            raise InputError(
                f"unknown head solver {self.head_solver!r} (expected {' or '.join(HEAD_SOLVERS)})"
            )
        if self.decoder not in DECODERS:
            raise InputError(f"unknown decoder {self.decoder!r} (expected pil or nvjpeg)")
        if self.device not in ("cpu", "cuda") and not self.device.startswith("cuda:"):
            raise InputError(f"unknown device {self.device!r} (expected cpu or cuda)")
        for name in ("batch_size", "image_size", "chunk_size"):
            if int(getattr(self, name)) < 1:
                raise InputError(f"{name} must be positive, got {getattr(self, name)}")

    def model_identity(self) -> dict[str, Any]:
        """What the model name stands for (MODEL_FIELDS): recorded in result.json."""
        trained = ("head_epochs", "head_solver")
        return {
            k: getattr(self, k) for k in MODEL_FIELDS if k not in trained or self.head == "train"
        }

    def to_json(self) -> str:
        return json.dumps(asdict(self), indent=2, sort_keys=True) + "\n"

    @classmethod
    def from_json(cls, text: str, *, path: Path | str | None = None) -> JobSpec:
        data = parse_json(text, path)
        if not isinstance(data, dict):
            raise InputError("expected a JSON object", path)
        known = {f.name for f in fields(cls)}
        unknown = sorted(set(data) - known)
        if unknown:
            raise InputError(f"unknown spec fields: {', '.join(unknown)}", path)
        try:
            return cls(**data)
        except TypeError as exc:
            raise InputError(f"incomplete spec: {exc}", path) from exc

    @classmethod
    def read(cls, run_dir: Path | str) -> JobSpec:
        path = Path(run_dir) / SPEC_FILE
        try:
            text = path.read_text(encoding="utf-8")
        except OSError as exc:
            raise InputError(f"cannot read the job spec: {exc.strerror}", path) from exc
        return cls.from_json(text, path=path)


def write_spec(run_dir: Path | str, spec: JobSpec) -> Path:
    """Create `run_dir` and write its `spec.json` atomically (the launcher's one write)."""
    from lottery_tui.probe.files import write_text_atomic

    run_dir = Path(run_dir)
    run_dir.mkdir(parents=True, exist_ok=True)
    path = run_dir / SPEC_FILE
    write_text_atomic(path, spec.to_json())
    return path


def parse_json(text: str, path: Path | str | None) -> Any:
    """`text` parsed, or an error naming the file, line and column (run-directory files)."""
    try:
        return json.loads(text)
    except ValueError as exc:
        raise InputError(f"not valid JSON: {exc.msg}", path, exc.lineno, exc.colno) from exc
