"""The run engine: one model x one dataset -> Parquet shards of per-image predictions.

Order of work: validate everything (device, dataset folder, checkpoint, head) before decoding a
single image; then, chunk by chunk, take the chunk's features from the cache or compute them, apply
the head, and write the chunk's shard atomically. A rerun skips finished shards and cached chunks,
so a killed run resumes where it stopped. `result.json` is written last.

Runs are executed as sweeps (`Sweep`, `run_sweep`): several runs of one dataset in one process,
each image decoded once per preprocessing group and fed to every model of the group; each run keeps
its own directory, cache, events and result, and fails or is cancelled alone. A single run is a
sweep of one (`run_job`).

A run (`Job`) is its prepared model (`prepared.py`), its head (`head_builder.py`) and its shards
(`shard_writer.py`); feature extraction is `extractor.py`; progress events are `events.py`.
"""

from __future__ import annotations

import contextlib
import functools
import platform
import sys
import time
import traceback
from collections.abc import Callable
from pathlib import Path
from typing import Any, TextIO

import torch

from lottery_tui.errors import LotteryError
from lottery_tui.probe import claims, knn_memory
from lottery_tui.probe import heads as heads_mod
from lottery_tui.probe.background import BackgroundWriter
from lottery_tui.probe.cache import TRAIN_STORE, Chunk, FeatureCache
from lottery_tui.probe.contract import (
    CANCELLED_FILE,
    ERROR_FILE,
    EVENTS_FILE,
    JobSpec,
)
from lottery_tui.probe.datasets import DatasetListing, list_dataset, list_train_folder
from lottery_tui.probe.events import EventCallback, EventLog
from lottery_tui.probe.extractor import Extractor, sweep_chunks
from lottery_tui.probe.files import write_text_atomic
from lottery_tui.probe.head_builder import HeadBuilder
from lottery_tui.probe.prepared import device_name, prepare_model, resolve_device
from lottery_tui.probe.result import RunResult
from lottery_tui.probe.shard_writer import ShardWriter

CLAIM_POLL_S = 2.0  # how often a sweep waiting for another process's train features looks


class RunCancelled(LotteryError):
    """The run was cancelled while its sweep ran (the others of the sweep went on)."""


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


class Job:
    """One run of a sweep: its prepared model (`prepared.py`), head (`head_builder.py`) and
    shards (`shard_writer.py`), tied to its directory, events and feature-cache entries."""

    def __init__(self, spec: JobSpec, run_dir: Path, on_event: EventCallback | None) -> None:
        self.spec = spec
        self.run_dir = run_dir
        self.events = EventLog(run_dir / EVENTS_FILE, spec.dataset, on_event)
        self.sweep: list[str] | None = None  # the run ids of its sweep, when run with others

    # -- set-up: everything that can fail does so before the first image is decoded --------

    def prepare(self) -> None:
        spec = self.spec
        device = resolve_device(spec)
        self.listing = list_dataset(spec.dataset, spec.dataset_path, allow_subset=spec.allow_subset)
        self.train_listing: DatasetListing | None = None
        if spec.head in ("train", "knn"):
            self.train_listing = list_train_folder(spec.head_path, allow_subset=spec.allow_subset)
        self.model = prepare_model(spec, device)
        train_cache = None
        if self.train_listing is not None:
            train_cache = self.model.feature_cache(self.train_listing, TRAIN_STORE)
        self.heads = HeadBuilder(self.model, train_cache)
        self.heads.build_fixed()
        self.shards = ShardWriter(self.run_dir, spec, self.listing)

    @property
    def extractor(self) -> Extractor:
        return self.model.extractor

    def cancelled(self) -> bool:
        """`lottery runs cancel` wrote the run's `cancelled` marker."""
        return (self.run_dir / CANCELLED_FILE).exists()

    def _chunk_bounds(self, n: int) -> list[tuple[int, int, int]]:
        size = self.spec.chunk_size
        return [(k, s, min(s + size, n)) for k, s in enumerate(range(0, n, size))]

    # -- heads that need the train folder's features ---------------------------------------

    def needs_train_features(self) -> bool:
        return self.heads.needs_train_features()

    def train_cache(self) -> FeatureCache:
        """The train folder's feature-cache entry (shared by every head of the checkpoint)."""
        assert self.heads.train_cache is not None
        return self.heads.train_cache

    def train_todo(self) -> tuple[FeatureCache, list[tuple[int, int, int]]]:
        """The train folder's feature cache and the chunks it still lacks."""
        cache = self.train_cache()
        bounds = self._chunk_bounds(len(self.train_listing.items))
        return cache, [b for b in bounds if not cache.has(b[0])]

    def train_progress(self, todo: list[tuple[int, int, int]]) -> Callable[[int], None]:
        """A per-batch progress callback for computing the train folder's missing chunks."""
        total = len(self.train_listing.items)
        done = total - sum(stop - start for _, start, stop in todo)
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

        return on_batch

    def _train_features(self) -> tuple[torch.Tensor, torch.Tensor]:
        """The train folder's cached features and labels (computed by the sweep before)."""
        assert self.train_listing is not None
        items = self.train_listing.items
        cache, todo = self.train_todo()
        stream = self.extractor.chunks([i.path for i in items], todo, self.train_progress(todo))
        with contextlib.closing(stream):
            for k, chunk in stream:
                chunk.features = chunk.features.half()
                cache.save(k, chunk)
        feats, labels = [], []
        for k, start, _ in self._chunk_bounds(len(items)):
            chunk = cache.load(k)
            if chunk is None:
                raise LotteryError(f"feature cache chunk {k} vanished while in use ({cache.dir})")
            feats.append(chunk.features)
            labels.extend(items[start + p].label for p in chunk.kept)
        return torch.cat(feats), torch.tensor(labels)

    def prepare_trained_head(self) -> None:
        def training() -> None:
            message = "training the linear head on cached features"
            self.events.emit("progress", 0, len(self.listing.items), message=message)

        try:
            self.heads.build_trained(self._train_features, self.cancelled, training)
        except heads_mod.TrainingStopped:
            raise RunCancelled("cancelled") from None

    # -- evaluation ------------------------------------------------------------------------

    def _write_shard(self, k: int, start: int, chunk: Chunk) -> None:
        self.shards.write(k, start, chunk, self.heads.head, self.model.device)

    def evaluation_todo(self) -> list[tuple[int, int, int]]:
        """Write the shards of cached chunks; the chunks whose features must be computed."""
        items = self.listing.items
        total = len(items)
        self.cache = self.model.feature_cache(self.listing, "float32")
        self.shards.dir.mkdir(exist_ok=True)
        done = 0
        to_compute = []
        for k, start, stop in self._chunk_bounds(total):
            if self.shards.path(k).is_file():
                done += stop - start
                continue
            chunk = self.cache.load(k)
            if chunk is not None:
                self._write_shard(k, start, chunk)
                done += stop - start
            else:
                to_compute.append((k, start, stop))
        self.resumed = done
        self.events.emit("progress", done, total, message=f"{done} images already done")
        self.started = time.monotonic()
        self.computed = 0
        self.rate: float | None = None
        return to_compute

    def on_batch(self, n: int) -> None:
        self.computed += n
        self.rate = self.computed / max(time.monotonic() - self.started, 1e-9)
        total = len(self.listing.items)
        self.events.emit(
            "progress", self.resumed + self.computed, total, rate=self.rate, force=False
        )

    def fail(self, exc: BaseException) -> None:
        """error.txt and a `failed` event for this run (the disk may be full: best effort)."""
        message = "interrupted; rerun to resume" if isinstance(exc, KeyboardInterrupt) else str(exc)
        trace = "".join(traceback.format_exception(exc))
        try:
            write_text_atomic(self.run_dir / ERROR_FILE, f"{message}\n\n{trace}")
            self.events.emit("failed", 0, 0, message=message)
        except OSError:
            pass  # disk full: the original error is the one to report

    def finish(self) -> RunResult:
        chunks = [k for k, _, _ in self._chunk_bounds(len(self.listing.items))]
        scored, derived = self.shards.score(chunks, self.heads.head)
        if scored.n_images == 0:
            first = scored.skipped[0]["reason"] if scored.skipped else "none"
            raise LotteryError(
                f"{self.spec.dataset_path}: no image could be decoded (first: {first})"
            )
        spec, model = self.spec, self.model
        config = {
            "model_identity": spec.model_identity(),
            "framework": spec.framework,
            "arch": model.arch,
            "layout": model.backbone.layout,
            "checkpoint": str(Path(spec.checkpoint).resolve()),
            "checkpoint_sha256": model.checkpoint_sha256,
            "dropped_keys": len(model.backbone.dropped),
            "feature": model.kind,
            "preprocessing": model.prep.describe(),
            "head": self.heads.info,
            "dataset_path": str(Path(spec.dataset_path).resolve()),
            "dataset_layout": self.listing.layout,
            "class_subset": spec.dataset if self.listing.classes else None,
            "device": device_name(model.device),
            "precision": spec.precision,
            "channels_last": self.extractor.channels_last,
            "tf32": self.extractor.tf32,
            "batch_size": spec.batch_size,
            "oom_halved_batch": self.extractor.halved_batch,
            "num_workers": spec.num_workers,
            "image_size": spec.image_size,
            "decoder": spec.decoder,
            "allow_subset": spec.allow_subset,
            "feature_cache": str(self.cache.dir),
            "versions": _versions(),
            "skipped": scored.skipped,
            "fallback_decoded": scored.fallback_decoded,
        }
        result = RunResult(
            run_id=spec.run_id,
            model=spec.model,
            dataset=spec.dataset,
            n_images=scored.n_images,
            n_skipped=len(scored.skipped),
            top1=scored.top1,
            top5=scored.top5,
            images_per_s=self.rate,
            config=config,
            shards=scored.shards,
            sweep=self.sweep,
            derived=derived,
        )
        result.write(self.run_dir)
        return RunResult.read(self.run_dir)  # exactly what a reader of result.json sees


def _lead_first(jobs: list[Job]) -> list[Job]:
    """The job with the smallest batch size first: its batch size runs the shared input side."""
    return sorted(jobs, key=lambda j: j.spec.batch_size)


def _groups(jobs: list[Job], listing_of: Callable[[Job], DatasetListing]) -> list[list[Job]]:
    """Jobs that can share one decode: same images, same pipeline geometry, same device."""
    groups: dict[tuple, list[Job]] = {}
    for job in jobs:
        listing = listing_of(job)
        key = (listing.fingerprint(), job.model.prep.geometry, str(job.model.device))
        groups.setdefault(key, []).append(job)
    return [_lead_first(group) for group in groups.values()]


class _Backbones:
    """The runs of one decode grouped by the features they read (`feature_dir`): runs of one
    checkpoint with another head read the same features, so one forward (the first run's
    extractor) feeds them all; each backbone computes the union of its runs' missing chunks."""

    def __init__(
        self,
        jobs: list[Job],
        todos: list[list[tuple[int, int, int]]],
        feature_dir: Callable[[Job], Path],
    ) -> None:
        self.runs: list[list[Job]] = []
        self.wants: list[list[set[int]]] = []  # per backbone, per run: the chunks it needs
        index: dict[Path, int] = {}
        chunks: list[set[tuple[int, int, int]]] = []
        for job, todo in zip(jobs, todos, strict=True):
            m = index.setdefault(feature_dir(job), len(self.runs))
            if m == len(self.runs):
                self.runs.append([])
                self.wants.append([])
                chunks.append(set())
            self.runs[m].append(job)
            self.wants[m].append({k for k, _, _ in todo})
            chunks[m].update(todo)
        self.todos = [sorted(c) for c in chunks]

    def of(self, m: int) -> list[Job]:
        return self.runs[m]

    def extractors(self) -> list[Extractor]:
        return [runs[0].extractor for runs in self.runs]

    def needing(self, m: int, k: int) -> list[Job]:
        """Backbone m's runs that need chunk k."""
        return [job for job, want in zip(self.runs[m], self.wants[m], strict=True) if k in want]

    def on_batch(
        self, m: int, callback: Callable[[Job], Callable[[int], None]]
    ) -> Callable[[int], None]:
        """Progress for every run of backbone m."""
        callbacks = [callback(job) for job in self.runs[m]]

        def each(n: int) -> None:
            for call in callbacks:
                call(n)

        return each


class Sweep:
    """Several runs in one process: each image decoded once per preprocessing group for every
    model that needs it; each run keeps its own directory, cache, events and result."""

    def __init__(self, runs: list[tuple[JobSpec, Path]], on_event: EventCallback | None) -> None:
        self.runs = runs
        self.on_event = on_event
        self.outcomes: dict[str, RunResult | BaseException] = {}
        self.live: list[Job] = []

    def _named(self, model: str) -> EventCallback | None:
        """The callback, given each event with its run's model name (one process, many runs)."""
        if self.on_event is None:
            return None
        forward = self.on_event
        return lambda event: forward({**event, "model": model})

    def _failed(self, job: Job, exc: BaseException) -> None:
        job.fail(exc)
        self.outcomes[job.spec.run_id] = exc
        self.live = [j for j in self.live if j is not job]

    def run(self) -> dict[str, RunResult | BaseException]:
        """Run id -> its result, or the exception that failed that run."""
        try:
            self._prepare()
            self._train_features()
            self._place_banks()
            for job in list(self.live):
                if self._still_wanted(job):
                    self._guarded(job, job.prepare_trained_head)
            self._evaluate()
            for job in list(self.live):
                self._guarded(job, lambda job=job: self._finish(job))
        except BaseException as exc:  # interrupted, or a shared step failed: every live run
            for job in list(self.live):
                self._failed(job, exc)
            raise
        return self.outcomes

    def _place_banks(self) -> None:
        """The sweep's k-NN banks on the device while within the budget, the rest streamed from
        the host (`knn_memory.plan_banks`, the plan `lottery runs plan` prints; each run's
        `config.head.bank` says which)."""
        knn = [job for job in self.live if job.spec.head == "knn"]
        if not knn:
            return
        plan = knn_memory.plan_banks(
            [(job.spec.model, len(job.train_listing.items), job.model.dim) for job in knn],
            knn[0].model.device.type,
        )
        for job, bank in zip(knn, plan.banks, strict=True):
            job.heads.bank_on_device = bank.on_device
            job.events.emit("progress", 0, len(job.listing.items), message=plan.describe())

    def _guarded(self, job: Job, step: Callable[[], Any]) -> None:
        try:
            step()
        except RunCancelled:
            self._cancel(job)
        except Exception as exc:  # this run fails; the sweep goes on with the others
            self._failed(job, exc)

    def _cancel(self, job: Job) -> None:
        """The run leaves the sweep, keeping its finished shards and cached chunks."""
        self.outcomes[job.spec.run_id] = RunCancelled("cancelled")
        self.live.remove(job)
        job.events.emit("failed", 0, 0, message="cancelled")

    def _prepare(self) -> None:
        names = [spec.run_id for spec, _ in self.runs]
        for spec, run_dir in self.runs:
            try:
                existing = RunResult.read(run_dir)
            except LotteryError as exc:  # a malformed result.json: left for the user to see
                self.outcomes[spec.run_id] = exc
                continue
            if existing is not None:
                self.outcomes[spec.run_id] = existing
                continue
            run_dir.mkdir(parents=True, exist_ok=True)
            (run_dir / ERROR_FILE).unlink(missing_ok=True)
            job = Job(spec, run_dir, self._named(spec.model))
            job.sweep = names if len(names) > 1 else None
            self.live.append(job)
            job.events.emit("start", 0, 0, message=f"{spec.model} on {spec.dataset}")
            self._guarded(job, job.prepare)

    def _train_features(self) -> None:
        """Train-folder features once per (checkpoint, preprocessing, precision): one backbone
        pass per feature-cache entry in this sweep, and a claim on the entry, so a sweep in
        another process that needs it waits for it and reads it (`claims.py`)."""
        pending = [job for job in self.live if job.needs_train_features()]
        while pending:
            pending = self._wait_for_claims(self._compute_train_features(pending))

    def _compute_train_features(self, jobs: list[Job]) -> list[Job]:
        """Compute the missing chunks of the entries this process can claim; returns the jobs
        whose entry another live process holds."""
        todos = {job: job.train_todo()[1] for job in jobs if job in self.live}
        held: dict[Path, claims.Claim | None] = {}
        for job in [job for job in jobs if todos.get(job)]:
            entry = job.train_cache().dir
            if entry not in held:
                held[entry] = claims.try_claim(entry)
        mine = [job for job in todos if todos[job] and held[job.train_cache().dir] is not None]
        try:
            for group in _groups(mine, lambda job: job.train_listing):
                self._train_group(group, [todos[job] for job in group], held)
        finally:
            for claim in held.values():
                if claim is not None:
                    claim.release()
        return [job for job in todos if todos[job] and held[job.train_cache().dir] is None]

    def _train_group(
        self,
        group: list[Job],
        todos: list[list[tuple[int, int, int]]],
        held: dict[Path, claims.Claim | None],
    ) -> None:
        shared = _Backbones(group, todos, lambda job: job.train_cache().dir)
        progress = [
            shared.on_batch(
                m, lambda job: self._if_live(job, job.train_progress(todos[group.index(job)]))
            )
            for m in range(len(shared.todos))
        ]
        stream = sweep_chunks(
            shared.extractors(),
            [item.path for item in group[0].train_listing.items],
            shared.todos,
            progress,
            lambda m: any([self._still_wanted(job) for job in shared.of(m)]),
            lambda m, exc: [self._failed(job, exc) for job in shared.of(m) if job in self.live],
        )
        with contextlib.closing(stream):
            for m, k, chunk in stream:
                chunk.features = chunk.features.half()
                jobs = [job for job in shared.of(m) if job in self.live]
                cache = jobs[0].train_cache()
                self._guarded(jobs[0], functools.partial(cache.save, k, chunk))
                held[cache.dir].heartbeat()

    def _wait_for_claims(self, jobs: list[Job]) -> list[Job]:
        """Wait while other processes hold the entries of `jobs` (cancel still honoured); the
        jobs to try again once one of them is released or its owner died."""
        if not jobs:
            return []
        for job in jobs:
            path = claims.claim_path(job.train_cache().dir)
            note = f"waiting for train-folder features ({claims.describe(path)} computes them)"
            job.events.emit("progress", 0, len(job.train_listing.items), message=note)
        while True:
            jobs = [job for job in jobs if self._still_wanted(job)]
            paths = [claims.claim_path(job.train_cache().dir) for job in jobs]
            if not jobs or any(claims.is_stale(path) for path in paths):
                return jobs
            time.sleep(CLAIM_POLL_S)

    def _if_live(self, job: Job, callback: Callable[[int], None]) -> Callable[[int], None]:
        """`callback`, only while the job is part of the sweep (no progress after `failed`)."""
        return lambda n: callback(n) if job in self.live else None

    def _evaluate(self) -> None:
        groups = _groups(self.live, lambda job: job.listing)
        for number, group in enumerate(groups[1:], start=2):  # what a follower sees meanwhile
            for job in group:
                note = f"waiting for its turn in the sweep (group {number} of {len(groups)})"
                job.events.emit("progress", 0, len(job.listing.items), message=note)
        for group in groups:
            todos = []
            for job in group:
                todo: list[tuple[int, int, int]] = []
                self._guarded(job, lambda job=job, todo=todo: todo.extend(job.evaluation_todo()))
                todos.append(todo)
            group_live = [job for job in group if job in self.live]
            todos = [t for job, t in zip(group, todos, strict=True) if job in self.live]
            if not group_live:
                continue
            self._evaluate_group(group_live, todos)

    def _evaluate_group(self, group: list[Job], todos: list[list[tuple[int, int, int]]]) -> None:
        """One decode of the group's images for all its models, one forward per backbone (heads
        on one checkpoint share it); each run's chunk writes on the background writer, a run
        whose write fails dropped from the sweep at its next chunk."""
        shared = _Backbones(group, todos, lambda job: job.cache.dir)
        writer = BackgroundWriter(depth=2 * len(group))

        def write_failed(job: Job) -> bool:
            error = writer.failed(job.spec.run_id)
            if error is not None and job in self.live:
                self._failed(job, error)
            return error is not None

        def wanted(m: int) -> bool:
            states = [not write_failed(job) and self._still_wanted(job) for job in shared.of(m)]
            return any(states)

        stream = sweep_chunks(
            shared.extractors(),
            [item.path for item in group[0].listing.items],
            shared.todos,
            [
                shared.on_batch(m, lambda job: self._if_live(job, job.on_batch))
                for m in range(len(shared.todos))
            ],
            wanted,
            lambda m, exc: [self._failed(job, exc) for job in shared.of(m) if job in self.live],
        )
        with writer, contextlib.closing(stream):
            for m, k, chunk in stream:
                jobs = [job for job in shared.needing(m, k) if job in self.live]
                if not jobs:
                    continue
                # The cache entry first, then each run's shards (resume trusts a shard, and
                # finds its features).
                writer.submit(jobs[0].spec.run_id, functools.partial(jobs[0].cache.save, k, chunk))
                for job in jobs:
                    write = functools.partial(job._write_shard, k, k * job.spec.chunk_size, chunk)
                    writer.submit(job.spec.run_id, write)
        for job in group:  # a write that failed after the last chunk's check
            write_failed(job)

    def _still_wanted(self, job: Job) -> bool:
        """False once the run was cancelled (the `cancelled` marker): it leaves the sweep, keeping
        its finished shards and cached chunks; the sweep's other runs go on."""
        if job not in self.live:
            return False
        if job.cancelled():
            self._cancel(job)
            return False
        return True

    def _finish(self, job: Job) -> None:
        result = job.finish()
        self.outcomes[job.spec.run_id] = result
        self.live.remove(job)
        job.events.emit(
            "done",
            result.n_images,
            result.n_images,
            rate=result.images_per_s,
            message=f"top-1 {result.top1:.2f} %",
        )


def run_sweep(
    runs: list[tuple[JobSpec, Path]], on_event: EventCallback | None = None
) -> dict[str, RunResult | BaseException]:
    """Run (or resume) several runs as one sweep; run id -> result, or the error that failed it.

    A run that fails writes `error.txt` and a `failed` event; the others go on. An interruption
    (or a failure of the shared decoding) fails every unfinished run and is re-raised.
    """
    return Sweep([(spec, Path(run_dir)) for spec, run_dir in runs], on_event).run()


def run_job(spec: JobSpec, run_dir: Path | str, on_event: EventCallback | None = None) -> RunResult:
    """Run (or resume) one job in this process (a sweep of one); returns its `result.json`.

    A failure writes `error.txt` and a `failed` event, then re-raises.
    """
    outcome = run_sweep([(spec, Path(run_dir))], on_event)[spec.run_id]
    if isinstance(outcome, BaseException):
        raise outcome
    return outcome


class LogLines:
    """A job's own lines for `job.log` (stdout of a launched job, which the executors send
    there): start, done, failed, and progress at most every `interval_s` per run."""

    def __init__(self, out: TextIO | None = None, interval_s: float = 30.0) -> None:
        self.out = out
        self.interval_s = interval_s
        self.last: dict[tuple[str, str], float] = {}

    def __call__(self, event: dict[str, Any]) -> None:
        key = (event["model"], event["dataset"])
        now = time.monotonic()
        if event["event"] == "progress" and now - self.last.get(key, -1e9) < self.interval_s:
            return
        self.last[key] = now
        rate = f", {event['images_per_s']:.0f} img/s" if event["images_per_s"] else ""
        count = f" {event['done']}/{event['total']}" if event["total"] else ""
        note = f": {event['message']}" if event["message"] else ""
        stamp = time.strftime("%H:%M:%S")
        run = f"{event['model']} on {event['dataset']}"
        line = f"{stamp} {run}: {event['event']}{count}{rate}{note}"
        print(line, file=self.out or sys.stdout, flush=True)


def run_sweep_process(run_dirs: list[Path]) -> int:
    """Entry point of `python -m lottery_tui.probe.job RUN_DIR [RUN_DIR ...]`: exit status 0 when
    every run is done, 1 when any failed, 130 when interrupted; errors on stderr."""
    runs = []
    for run_dir in run_dirs:
        try:
            runs.append((JobSpec.read(run_dir), run_dir))
        except LotteryError as exc:
            write_text_atomic(run_dir / ERROR_FILE, f"{exc}\n\n{traceback.format_exc()}")
            print(f"lottery probe job: error: {exc}", file=sys.stderr)
    try:
        outcomes = run_sweep(runs, LogLines())
    except KeyboardInterrupt:
        print("lottery probe job: interrupted", file=sys.stderr)
        return 130
    except Exception:
        traceback.print_exc()
        return 1
    # A cancelled run is not a failure of its sweep: the exit status says whether the others did.
    failed = [
        (k, v)
        for k, v in outcomes.items()
        if isinstance(v, BaseException) and not isinstance(v, RunCancelled)
    ]
    for run_id in [k for k, v in outcomes.items() if isinstance(v, RunCancelled)]:
        print(f"lottery probe job: {run_id}: cancelled", file=sys.stderr)
    for run_id, exc in failed:
        if isinstance(exc, LotteryError):
            print(f"lottery probe job: error: {run_id}: {exc}", file=sys.stderr)
        else:
            print(f"lottery probe job: {run_id} failed:", file=sys.stderr)
            traceback.print_exception(exc)
    return 1 if failed or len(runs) < len(run_dirs) else 0
