"""The run engine: one model x one dataset -> Parquet shards of per-image predictions.

Order of work: validate everything (device, dataset folder, checkpoint, head) before decoding a
single image; then, chunk by chunk, take the chunk's features from the cache or compute them, apply
the head, and write the chunk's shard atomically. A rerun skips finished shards and cached chunks,
so a killed run resumes where it stopped. `result.json` is written last.

Feature extraction is `extractor.py`; progress events are `events.py`.
"""

from __future__ import annotations

import functools
import json
import platform
import sys
import time
import traceback
from pathlib import Path
from typing import Any

import torch

from lottery_tui.errors import LotteryError
from lottery_tui.probe import heads as heads_mod
from lottery_tui.probe.background import BackgroundWriter
from lottery_tui.probe.cache import Chunk, FeatureCache, cache_key
from lottery_tui.probe.checkpoints import Backbone, adapt_checkpoint, load_strictly, read_checkpoint
from lottery_tui.probe.datasets import (
    CLEAN_SUBSETS,
    DatasetListing,
    ImageItem,
    list_dataset,
    list_train_folder,
    subset_indices,
)
from lottery_tui.probe.events import EventCallback, EventLog
from lottery_tui.probe.extractor import Extractor
from lottery_tui.probe.files import sha256_file, write_atomic, write_text_atomic
from lottery_tui.probe.job import (
    ERROR_FILE,
    EVENTS_FILE,
    RESULT_FILE,
    SHARDS_DIR,
    JobSpec,
    read_result,
)
from lottery_tui.probe.models import build_backbone, feature_dim, feature_kind
from lottery_tui.probe.preprocess import preprocessing_for


class DeviceError(LotteryError):
    """The requested device is not available."""


def _versions() -> dict[str, str]:
    from importlib.metadata import PackageNotFoundError, version

    import numpy
    import PIL
    import torchvision

    try:
        ours = version("lottery-tui")
    except PackageNotFoundError:  # running from a source tree that was never installed
        ours = "source"
    return {
        "python": platform.python_version(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
        "pillow": PIL.__version__,
        "numpy": numpy.__version__,
        "lottery_tui": ours,
    }


def resolve_device(spec: JobSpec) -> torch.device:
    if spec.device.startswith("cuda"):
        if not torch.cuda.is_available():
            raise DeviceError(
                "--device cuda asked for, but PyTorch sees no CUDA GPU here "
                "(use --device cpu, or run on a GPU machine)"
            )
        return torch.device(spec.device)
    return torch.device("cpu")


def _device_name(device: torch.device) -> str:
    if device.type == "cuda":
        return torch.cuda.get_device_name(device)
    return f"cpu ({platform.processor() or platform.machine()}, {torch.get_num_threads()} threads)"


class Job:
    """State shared by the steps of one job."""

    def __init__(self, spec: JobSpec, run_dir: Path, on_event: EventCallback | None) -> None:
        self.spec = spec
        self.run_dir = run_dir
        self.events = EventLog(run_dir / EVENTS_FILE, spec.dataset, on_event)

    # -- set-up: everything that can fail does so before the first image is decoded --------

    def prepare(self) -> None:
        spec = self.spec
        self.device = resolve_device(spec)
        self.listing = list_dataset(spec.dataset, spec.dataset_path, allow_subset=spec.allow_subset)
        self.train_listing: DatasetListing | None = None
        if spec.head in ("train", "knn"):
            self.train_listing = list_train_folder(spec.head_path, allow_subset=spec.allow_subset)
        obj = read_checkpoint(spec.checkpoint)
        self.backbone: Backbone = adapt_checkpoint(obj, spec.framework, path=spec.checkpoint)
        del obj
        if spec.arch and spec.arch != self.backbone.arch:
            raise LotteryError(
                f"{spec.checkpoint}: wrong architecture: the checkpoint holds a "
                f"{self.backbone.arch}, the run asks for {spec.arch}"
            )
        self.arch = self.backbone.arch
        self.kind = feature_kind(self.arch, spec.head)
        self.dim = feature_dim(self.arch, self.kind)
        model = build_backbone(self.arch, self.kind)
        load_strictly(model, self.backbone, path=spec.checkpoint)
        self.checkpoint_sha256 = sha256_file(spec.checkpoint)
        self.prep = preprocessing_for(spec.framework, spec.image_size, spec.decoder)
        channels_last = self.device.type == "cuda"
        if self.device.type == "cuda":
            # fp32 means fp32: TF32 convolutions would change some per-image predictions.
            torch.backends.cudnn.allow_tf32 = spec.precision != "fp32"
            torch.backends.cuda.matmul.allow_tf32 = spec.precision != "fp32"
            torch.backends.cudnn.benchmark = True  # fixed input size: pick the fastest kernels
        model = model.eval().to(self.device)
        if channels_last:
            model = model.to(memory_format=torch.channels_last)
        self.extractor = Extractor(
            model,
            self.prep,
            self.device,
            spec.precision,
            channels_last,
            spec.batch_size,
            spec.num_workers,
        )
        self.head_info: dict[str, Any] = {"kind": spec.head, "path": spec.head_path}
        if spec.head == "builtin":
            if self.backbone.builtin_head is None:
                raise LotteryError(
                    f"{spec.checkpoint}: a {spec.framework} checkpoint has no ImageNet classifier "
                    "of its own: give --head FILE, --train-head DIR or --knn DIR"
                )
            weight, bias = self.backbone.builtin_head
            heads_mod.check_head(weight, bias, self.dim, spec.checkpoint)
            self.head = heads_mod.LinearHead(weight, bias, {"builtin": self.backbone.layout})
        elif spec.head == "linear":
            self.head = heads_mod.read_head_file(spec.head_path, self.dim)
            self.head_info["sha256"] = sha256_file(spec.head_path)

    def _feature_cache(self, listing: DatasetListing, store: str) -> FeatureCache:
        parts = {
            "checkpoint_sha256": self.checkpoint_sha256,
            "arch": self.arch,
            "feature": self.kind,
            "preprocessing": self.prep.describe(),
            "precision": self.spec.precision,
            "images": listing.fingerprint(),
            "chunk_size": self.spec.chunk_size,
            "store": store,
        }
        return FeatureCache(self.spec.cache_dir, parts)

    def _chunk_bounds(self, n: int) -> list[tuple[int, int, int]]:
        size = self.spec.chunk_size
        return [(k, s, min(s + size, n)) for k, s in enumerate(range(0, n, size))]

    # -- heads that need the train folder's features ---------------------------------------

    def _train_features(self) -> tuple[torch.Tensor, torch.Tensor]:
        assert self.train_listing is not None
        items = self.train_listing.items
        cache = self._feature_cache(self.train_listing, "float16")
        bounds = self._chunk_bounds(len(items))
        todo = [b for b in bounds if not cache.has(b[0])]
        done = len(items) - sum(stop - start for _, start, stop in todo)
        total = len(items)
        started = time.monotonic()
        computed = 0

        def on_batch(n: int) -> None:
            nonlocal computed, done
            computed += n
            done += n
            rate = computed / max(time.monotonic() - started, 1e-9)
            self.events.emit(
                "progress", done, total, rate=rate, force=False, message="train-folder features"
            )

        for k, chunk in self.extractor.chunks([i.path for i in items], todo, on_batch):
            chunk.features = chunk.features.half()
            cache.save(k, chunk)
        feats, labels = [], []
        for k, start, _ in bounds:
            chunk = cache.load(k)
            if chunk is None:
                raise LotteryError(f"feature cache chunk {k} vanished while in use ({cache.dir})")
            feats.append(chunk.features)
            labels.extend(items[start + p].label for p in chunk.kept)
        return torch.cat(feats), torch.tensor(labels)

    def prepare_trained_head(self) -> None:
        spec = self.spec
        if spec.head == "knn":
            feats, labels = self._train_features()
            self.head = heads_mod.knn_head(feats, labels, self.device)
            self.head_info.update(self.head.meta)
        elif spec.head == "train":
            key = cache_key(
                {
                    "train": self._feature_cache(self.train_listing, "float16").parts,
                    "epochs": spec.head_epochs,
                    "protocol": heads_mod.HEAD_FORMAT,
                }
            )
            path = Path(spec.cache_dir) / "heads" / f"{key}.pt"
            if path.is_file():
                self.head = heads_mod.read_head_file(path, self.dim)
                self.head_info["reused"] = True
            else:
                feats, labels = self._train_features()
                self.events.emit(
                    "progress",
                    0,
                    len(self.listing.items),
                    message="training the linear head on cached features",
                )
                self.head = heads_mod.train_linear_head(
                    feats, labels, epochs=spec.head_epochs, device=self.device
                )
                path.parent.mkdir(parents=True, exist_ok=True)
                heads_mod.save_head(path, self.head)
                self.head_info["reused"] = False
            self.head_info.update(self.head.meta, saved_head=str(path), sha256=sha256_file(path))

    # -- evaluation ------------------------------------------------------------------------

    def _shard_path(self, k: int, derived: str | None = None) -> Path:
        """`shards/predictions-<dataset>-<k>.parquet`; derived datasets' shards in
        `shards/derived/`, out of the way of a glob for the run's own."""
        if derived is None:
            return self.run_dir / SHARDS_DIR / f"predictions-{self.spec.dataset}-{k:05d}.parquet"
        return self.run_dir / SHARDS_DIR / "derived" / f"predictions-{derived}-{k:05d}.parquet"

    def _derived(self) -> dict[str, list[int]]:
        """Datasets scored from this run's logits too: ImageNet val on the R / A classes."""
        if self.spec.dataset != "imagenet":
            return {}
        return {clean: list(subset_indices(subset)) for clean, subset in CLEAN_SUBSETS.items()}

    @staticmethod
    def _top5(logits: torch.Tensor, classes: list[int] | None) -> torch.Tensor:
        if classes is not None:
            mask = torch.full((logits.shape[1],), float("-inf"), device=logits.device)
            mask[torch.tensor(classes, device=logits.device)] = 0.0
            logits = logits + mask
        return logits.topk(5, dim=1).indices.cpu()

    def _write_table(
        self, path: Path, items: list[ImageItem], top5: torch.Tensor, meta: dict[str, str]
    ) -> None:
        import pyarrow as pa
        import pyarrow.parquet as pq

        labels = [item.label for item in items]
        preds = top5[:, 0].tolist()
        table = pa.table(
            {
                "image_id": pa.array([item.image_id for item in items], pa.string()),
                "label": pa.array(labels, pa.int16()),
                "pred": pa.array(preds, pa.int16()),
                "top5": pa.array(top5.tolist(), pa.list_(pa.int16())),
                "correct": pa.array(
                    [p == y for p, y in zip(preds, labels, strict=True)], pa.bool_()
                ),
            }
        )
        # Run id and shard name make every shard distinct bytes (its sha256 is the ingest key).
        meta = {"run_id": self.spec.run_id, "model": self.spec.model, "shard": path.name, **meta}
        table = table.replace_schema_metadata(meta)
        write_atomic(path, lambda tmp: pq.write_table(table, tmp))

    def _write_shard(self, k: int, start: int, chunk: Chunk) -> None:
        """The chunk's shard, after those of the datasets derived from it (so resume can test
        the main shard alone)."""
        items = [self.listing.items[start + p] for p in chunk.kept]
        logits = self.head.logits(chunk.features.to(self.device))
        for dataset, classes in self._derived().items():
            allowed = set(classes)
            rows = [j for j, item in enumerate(items) if item.label in allowed]
            if rows:
                self._shard_path(k, dataset).parent.mkdir(exist_ok=True)
                top5 = self._top5(logits[torch.tensor(rows, device=logits.device)], classes)
                self._write_table(self._shard_path(k, dataset), [items[j] for j in rows], top5, {})

        def named(pairs: list[tuple[int, str]]) -> str:
            return json.dumps(
                [
                    {"image_id": self.listing.items[start + p].image_id, "reason": r}
                    for p, r in pairs
                ]
            )

        meta = {"skipped": named(chunk.skipped), "fallback_decoded": named(chunk.notes)}
        top5 = self._top5(logits, self.listing.classes)
        self._write_table(self._shard_path(k), items, top5, meta)

    def _save_chunk(self, cache: FeatureCache, k: int, start: int, chunk: Chunk) -> None:
        """The cache entry, then the shards (resume trusts a shard, and finds its features)."""
        cache.save(k, chunk)
        self._write_shard(k, start, chunk)

    def evaluate(self) -> None:
        items = self.listing.items
        total = len(items)
        bounds = self._chunk_bounds(total)
        cache = self._feature_cache(self.listing, "float32")
        (self.run_dir / SHARDS_DIR).mkdir(exist_ok=True)
        done = 0
        to_compute = []
        for k, start, stop in bounds:
            if self._shard_path(k).is_file():
                done += stop - start
                continue
            chunk = cache.load(k)
            if chunk is not None:
                self._write_shard(k, start, chunk)
                done += stop - start
            else:
                to_compute.append((k, start, stop))
        resumed = done
        self.events.emit("progress", done, total, message=f"{resumed} images already done")
        started = time.monotonic()
        computed = 0

        def on_batch(n: int) -> None:
            nonlocal computed
            computed += n
            rate = computed / max(time.monotonic() - started, 1e-9)
            self.events.emit("progress", resumed + computed, total, rate=rate, force=False)

        starts = {k: start for k, start, _ in bounds}
        with BackgroundWriter() as writer:
            for k, chunk in self.extractor.chunks([i.path for i in items], to_compute, on_batch):
                writer.submit(functools.partial(self._save_chunk, cache, k, starts[k], chunk))
        self.feature_cache_dir = cache.dir
        self.rate = computed / (time.monotonic() - started) if computed else None

    def finish(self) -> dict[str, Any]:

        bounds = self._chunk_bounds(len(self.listing.items))
        shards_dir = self.run_dir / SHARDS_DIR
        scored = _score(shards_dir, [self._shard_path(k) for k, _, _ in bounds])
        n, skipped, fallback = scored["n_images"], scored["skipped"], scored["fallback_decoded"]
        if n == 0:
            raise LotteryError(
                f"{self.spec.dataset_path}: no image could be decoded "
                f"(first: {skipped[0]['reason'] if skipped else 'none'})"
            )
        derived = {}
        for dataset in self._derived():
            paths = [self._shard_path(k, dataset) for k, _, _ in bounds]
            part = _score(shards_dir, [p for p in paths if p.is_file()])
            if part["n_images"]:
                derived[dataset] = {
                    key: part[key] for key in ("n_images", "top1", "top5", "shards")
                }
        spec = self.spec
        config = {
            "framework": spec.framework,
            "arch": self.arch,
            "layout": self.backbone.layout,
            "checkpoint": str(Path(spec.checkpoint).resolve()),
            "checkpoint_sha256": self.checkpoint_sha256,
            "dropped_keys": len(self.backbone.dropped),
            "feature": self.kind,
            "preprocessing": self.prep.describe(),
            "head": self.head_info,
            "dataset_path": str(Path(spec.dataset_path).resolve()),
            "dataset_layout": self.listing.layout,
            "class_subset": spec.dataset if self.listing.classes else None,
            "device": _device_name(self.device),
            "precision": spec.precision,
            "channels_last": self.extractor.channels_last,
            "tf32": self.device.type == "cuda" and spec.precision != "fp32",
            "batch_size": spec.batch_size,
            "num_workers": spec.num_workers,
            "image_size": spec.image_size,
            "decoder": spec.decoder,
            "allow_subset": spec.allow_subset,
            "feature_cache": str(self.feature_cache_dir),
            "versions": _versions(),
            "skipped": skipped,
            "fallback_decoded": fallback,
        }
        result = {
            "run_id": spec.run_id,
            "model": spec.model,
            "dataset": spec.dataset,
            "n_images": n,
            "n_skipped": len(skipped),
            "top1": scored["top1"],
            "top5": scored["top5"],
            "images_per_s": self.rate,
            "config": config,
            "shards": scored["shards"],
            "derived": derived,
        }
        text = json.dumps(result, indent=2) + "\n"
        write_text_atomic(self.run_dir / RESULT_FILE, text)
        return json.loads(text)  # exactly what a reader of result.json sees


def _score(shards_dir: Path, paths: list[Path]) -> dict[str, Any]:
    """Accuracy, shard checksums and image notes over a list of prediction shards."""
    import pyarrow.parquet as pq

    shards, skipped, fallback = [], [], []
    n = correct1 = correct5 = 0
    for path in paths:
        table = pq.read_table(path)
        meta = table.schema.metadata or {}
        skipped.extend(json.loads(meta.get(b"skipped", b"[]")))
        fallback.extend(json.loads(meta.get(b"fallback_decoded", b"[]")))
        rows = table.select(["label", "top5", "correct"]).to_pylist()
        n += len(rows)
        correct1 += sum(r["correct"] for r in rows)
        correct5 += sum(r["label"] in r["top5"] for r in rows)
        name = path.relative_to(shards_dir).as_posix()
        shards.append({"name": name, "sha256": sha256_file(path), "rows": len(rows)})
    return {
        "n_images": n,
        "top1": 100.0 * correct1 / n if n else None,
        "top5": 100.0 * correct5 / n if n else None,
        "shards": shards,
        "skipped": skipped,
        "fallback_decoded": fallback,
    }


def run_job(
    spec: JobSpec, run_dir: Path | str, on_event: EventCallback | None = None
) -> dict[str, Any]:
    """Run (or resume) one job in this process; returns the `result.json` content.

    A failure writes `error.txt` and a `failed` event, then re-raises.
    """
    run_dir = Path(run_dir)
    existing = read_result(run_dir)
    if existing is not None:
        return existing
    run_dir.mkdir(parents=True, exist_ok=True)
    (run_dir / ERROR_FILE).unlink(missing_ok=True)
    job = Job(spec, run_dir, on_event)
    try:
        job.events.emit("start", 0, 0, message=f"{spec.model} on {spec.dataset}")
        job.prepare()
        job.prepare_trained_head()
        job.evaluate()
        result = job.finish()
    except BaseException as exc:
        message = "interrupted; rerun to resume" if isinstance(exc, KeyboardInterrupt) else str(exc)
        text = f"{message}\n\n{traceback.format_exc()}"
        try:
            write_text_atomic(run_dir / ERROR_FILE, text)
            job.events.emit("failed", 0, 0, message=message)
        except OSError:
            pass  # disk full: the original error is the one to report
        raise
    job.events.emit(
        "done",
        result["n_images"],
        result["n_images"],
        rate=result["images_per_s"],
        message=f"top-1 {result['top1']:.2f} %",
    )
    return result


def run_job_process(run_dir: Path) -> int:
    """Entry point of `python -m lottery_tui.probe.job RUN_DIR`: exit status, errors on stderr."""
    try:
        try:
            spec = JobSpec.read(run_dir)
        except LotteryError as exc:
            write_text_atomic(run_dir / ERROR_FILE, f"{exc}\n\n{traceback.format_exc()}")
            raise
        run_job(spec, run_dir)
    except KeyboardInterrupt:
        print("lottery probe job: interrupted", file=sys.stderr)
        return 130
    except LotteryError as exc:
        print(f"lottery probe job: error: {exc}", file=sys.stderr)
        return 1
    except Exception:
        traceback.print_exc()
        return 1
    return 0
