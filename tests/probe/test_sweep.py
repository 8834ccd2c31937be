"""Sweeps: one process runs several models on one dataset, decoding each image once per
preprocessing group, and gives exactly the per-image predictions of single-model runs."""

from __future__ import annotations

import json
import shutil
import socket
import time
from pathlib import Path

import numpy as np
import pytest
import torch

from lottery_tui.probe import engine, extractor
from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.result import RunResult
from tests.probe.conftest import random_resnet, read_predictions, val_names, write_image

pytestmark = pytest.mark.torch

# (model, framework, seed): DINO resizes bicubically; SwAV bilinear with its own std; Barlow
# Twins bilinear with ImageNet's std (SwAV's group: same pixels, another normalisation); SimCLR
# crops then resizes bicubically and has no mean/std.
MODELS = (
    ("dino", "dino", 1),
    ("swav", "swav", 2),
    ("barlow", "barlow-twins", 3),
    ("simclr", "simclr", 4),
)
GROUPS = 3


def _checkpoint(framework: str, model: torch.nn.Module, root: Path) -> tuple[Path, Path | None]:
    """The checkpoint in the framework's official layout, and its released linear head (None:
    SimCLR's own supervised head)."""
    tv = model.state_dict()
    trunk = {k: v for k, v in tv.items() if not k.startswith("fc.")}
    if framework == "simclr":
        obj: object = {"state_dict": dict(tv)}
    elif framework == "swav":
        obj = {
            **{f"module.{k}": v for k, v in trunk.items()},
            "module.prototypes.weight": tv["fc.weight"][:30],
        }
    else:
        obj = trunk
    ckpt = root / f"{framework}.pth"
    torch.save(obj, ckpt)
    if framework == "simclr":
        return ckpt, None
    head = root / f"{framework}-head.pth"
    linear = {"module.linear.weight": tv["fc.weight"], "module.linear.bias": tv["fc.bias"]}
    torch.save({"state_dict": linear}, head)
    return ckpt, head


@pytest.fixture
def images(tmp_path: Path) -> Path:
    """Images of several sizes and aspect ratios (the pipelines crop and resize differently)."""
    rng = np.random.default_rng(12)
    root = tmp_path / "val"
    for i, name in enumerate(val_names(11)):
        write_image(root / name, rng, size=(40 + 7 * i, 60 - 3 * i), mode="L" if i == 5 else "RGB")
    return root


@pytest.fixture
def specs(tmp_path: Path, images: Path, make_spec) -> list[JobSpec]:
    out = []
    for name, framework, seed in MODELS:
        ckpt, head = _checkpoint(framework, random_resnet("resnet18", seed), tmp_path)
        out.append(
            make_spec(
                run_id=f"{name}--imagenet",
                model=name,
                framework=framework,
                checkpoint=str(ckpt),
                dataset_path=str(images),
                head="builtin" if head is None else "linear",
                head_path=None if head is None else str(head),
                chunk_size=4,
                batch_size=3,
            )
        )
    return out


def _train_folder(root: Path) -> Path:
    """9 train images, 3 classes of 3 (ImageNet's class folder names)."""
    from PIL import Image

    repo = Path(__file__).resolve().parents[2]
    wnids = (repo / "data" / "imagenet" / "imagenet_synsets.txt").read_text().split()
    rng = np.random.default_rng(4)
    for c in range(3):
        for j in range(3):
            img = np.zeros((36, 42, 3), dtype=np.uint8)
            img[..., c] = 180
            img += rng.integers(0, 50, img.shape, dtype=np.uint8)
            path = root / wnids[c * 10] / f"{j}.JPEG"
            path.parent.mkdir(parents=True, exist_ok=True)
            Image.fromarray(img).save(path, quality=95)
    return root


def _assert_as_alone(runs: list[tuple[JobSpec, Path]], tmp_path: Path) -> None:
    """Each run of a sweep gave the predictions it gives alone (its own fresh feature cache)."""
    for spec, run_dir in runs:
        alone = tmp_path / "alone" / spec.run_id
        engine.run_job(JobSpec(**{**spec.__dict__, "cache_dir": str(tmp_path / "c2")}), alone)
        assert read_predictions(run_dir) == read_predictions(alone), spec.model


def _count_decodes(monkeypatch) -> list[Path]:
    decoded: list[Path] = []
    original = extractor.decode_rgb

    def counting(path: Path):
        decoded.append(path)
        return original(path)

    monkeypatch.setattr(extractor, "decode_rgb", counting)
    return decoded


def test_sweep_equals_single_runs_and_decodes_once_per_group(
    specs, tmp_path, monkeypatch, make_spec
):
    decoded = _count_decodes(monkeypatch)
    outcomes = engine.run_sweep([(s, tmp_path / "sweep" / s.run_id) for s in specs])
    assert all(isinstance(o, RunResult) for o in outcomes.values()), outcomes
    assert len(decoded) == GROUPS * 11  # each image once per preprocessing group
    sweep_decodes = len(decoded)
    waiting = {  # a follower sees why a later group's runs have not started computing
        s.model
        for s in specs
        if "waiting for its turn in the sweep"
        in (tmp_path / "sweep" / s.run_id / "events.jsonl").read_text()
    }
    assert waiting == {"swav", "barlow", "simclr"}  # DINO's group went first

    for spec in specs:
        alone = JobSpec(**{**spec.__dict__, "cache_dir": str(tmp_path / f"cache-{spec.model}")})
        result = engine.run_job(alone, tmp_path / "single" / spec.run_id)
        swept = read_predictions(tmp_path / "sweep" / spec.run_id)
        assert swept == read_predictions(tmp_path / "single" / spec.run_id), spec.model
        assert result.top1 == outcomes[spec.run_id].top1
        assert outcomes[spec.run_id].sweep == [s.run_id for s in specs]
        assert result.sweep is None
    assert len(decoded) - sweep_decodes == len(MODELS) * 11  # single runs: once per model
    # Different pipelines really gave different inputs: SwAV and Barlow share pixels, not std.
    preds = {s.model: read_predictions(tmp_path / "sweep" / s.run_id) for s in specs}
    assert len({str(sorted(p.items())) for p in preds.values()}) == len(MODELS)


def test_sweep_resumes_per_model_and_isolates_a_failing_model(specs, tmp_path, monkeypatch):
    dino, swav, barlow, simclr = specs
    done = engine.run_job(dino, tmp_path / "sweep" / dino.run_id)
    # swav got two chunks' features into the cache before it was killed: a rerun computes the rest.
    (tmp_path / "sweep" / swav.run_id).mkdir(parents=True)
    cache = engine.Job(swav, tmp_path / "sweep" / swav.run_id, None)
    cache.prepare()
    cache.evaluation_todo()
    for k, chunk in cache.extractor.chunks(
        [i.path for i in cache.listing.items], [(0, 0, 4), (1, 4, 8)], lambda n: None
    ):
        cache.cache.save(k, chunk)
    broken = JobSpec(**{**barlow.__dict__, "checkpoint": str(tmp_path / "missing.pth")})

    forwards: dict[str, int] = {}
    original = extractor.Extractor.forward

    def counting(self, batch):
        forwards[id(self)] = forwards.get(id(self), 0) + batch.shape[0]
        return original(self, batch)

    monkeypatch.setattr(extractor.Extractor, "forward", counting)
    runs = [(s, tmp_path / "sweep" / s.run_id) for s in (dino, swav, broken, simclr)]
    outcomes = engine.run_sweep(runs)
    assert outcomes[dino.run_id] == done  # already done: not run again
    assert isinstance(outcomes[broken.run_id], Exception)
    error = (tmp_path / "sweep" / broken.run_id / "error.txt").read_text().splitlines()[0]
    assert "missing.pth" in error
    assert not (tmp_path / "sweep" / broken.run_id / "result.json").exists()
    for spec in (swav, simclr):
        assert outcomes[spec.run_id].n_images == 11
    assert sorted(forwards.values()) == [3, 11]  # swav: only its last chunk; simclr: all


def test_train_folder_features_go_through_the_sweep(tmp_path, images, make_spec, monkeypatch):
    """Two k-NN models of one group: the train folder, like the test set, is decoded once."""
    runs = _train_runs(tmp_path, images, make_spec, "knn")
    decoded = _count_decodes(monkeypatch)
    outcomes = engine.run_sweep(runs)
    assert all(o.n_images == 11 for o in outcomes.values())
    assert len(decoded) == 9 + 11  # 9 train images and 11 test images, each decoded once
    _assert_as_alone(runs, tmp_path)


def test_a_run_cancelled_mid_sweep_leaves_and_the_others_finish(specs, tmp_path, monkeypatch):
    dino, swav, barlow, _ = specs  # swav and barlow share a group: the cancel is mid-stream
    runs = [(s, tmp_path / "sweep" / s.run_id) for s in (dino, swav, barlow)]
    original = engine.Job.on_batch

    def cancel_swav_in_its_first_chunk(self, n: int) -> None:
        original(self, n)
        if self.spec.model == "swav" and self.computed >= 3:  # what `lottery runs cancel` writes
            (self.run_dir / "cancelled").write_text("now\n")

    monkeypatch.setattr(engine.Job, "on_batch", cancel_swav_in_its_first_chunk)
    outcomes = engine.run_sweep(runs)
    assert isinstance(outcomes[swav.run_id], engine.RunCancelled)
    assert not (tmp_path / "sweep" / swav.run_id / "result.json").exists()
    shards = list((tmp_path / "sweep" / swav.run_id / "shards").glob("predictions-*.parquet"))
    assert len(shards) == 1  # kept the chunk it finished: a relaunch resumes from there
    for spec in (dino, barlow):
        assert outcomes[spec.run_id].n_images == 11


def _forwards_by_model(monkeypatch) -> dict[str, int]:
    """Images each model forwarded (by model name), counted at the extractor's forward."""
    counts: dict[str, int] = {}
    prepare, forward = engine.Job.prepare, extractor.Extractor.forward

    def named(self) -> None:
        prepare(self)
        self.extractor.name = self.spec.model

    def counting(self, batch):
        counts[self.name] = counts.get(self.name, 0) + batch.shape[0]
        return forward(self, batch)

    monkeypatch.setattr(engine.Job, "prepare", named)
    monkeypatch.setattr(extractor.Extractor, "forward", counting)
    return counts


def _break(monkeypatch, model: str, method: str, fault) -> None:
    """Make `model`'s job (only) call `fault(original, *args)` instead of its `method`."""
    prepare = engine.Job.prepare

    def patched(self) -> None:
        prepare(self)
        if self.spec.model != model:
            return
        owner = self.extractor if method == "forward" else self
        original = getattr(owner, method)
        setattr(owner, method, lambda *args: fault(original, *args))

    monkeypatch.setattr(engine.Job, "prepare", patched)


def _first_error_line(run_dir: Path) -> str:
    return (run_dir / "error.txt").read_text().splitlines()[0]


def test_a_model_failing_at_run_time_fails_alone_and_a_resume_retries_only_it(
    specs, tmp_path, monkeypatch
):
    """A forward error in one model and a write error (full disk) in another, both sharing a
    decode with nobody else's failure: each fails with its own error, the others finish."""
    dino, swav, barlow, simclr = specs  # swav and barlow share a group
    runs = [(s, tmp_path / "sweep" / s.run_id) for s in specs]
    calls = {"forward": 0, "write": 0}

    def forward_fails_second_batch(original, batch):
        calls["forward"] += 1
        if calls["forward"] == 2:
            raise RuntimeError("CUDA error: an illegal memory access was encountered")
        return original(batch)

    def second_write_fails(original, k, start, chunk):
        calls["write"] += 1
        if calls["write"] == 2:
            raise OSError(28, "No space left on device")
        return original(k, start, chunk)

    with monkeypatch.context() as patches:
        _break(patches, "swav", "forward", forward_fails_second_batch)
        _break(patches, "barlow", "_write_shard", second_write_fails)
        outcomes = engine.run_sweep(runs)
    for spec in (dino, simclr):
        assert outcomes[spec.run_id].n_images == 11
    assert isinstance(outcomes[swav.run_id], RuntimeError)
    assert isinstance(outcomes[barlow.run_id], OSError)
    assert "illegal memory access" in _first_error_line(runs[1][1])
    assert "No space left" in _first_error_line(runs[2][1])
    assert not (runs[1][1] / "result.json").exists()
    assert not (runs[2][1] / "result.json").exists()
    kept = list((runs[2][1] / "shards").glob("predictions-*.parquet"))
    assert len(kept) == 1  # barlow's first chunk, written before the full disk

    forwards = _forwards_by_model(monkeypatch)
    again = engine.run_sweep(runs)
    assert set(forwards) == {"swav", "barlow"}  # the resume retries the failed models only
    assert forwards["swav"] == 11
    assert forwards["barlow"] <= 11 - 4  # its first chunk is not recomputed
    assert all(isinstance(o, RunResult) and o.n_images == 11 for o in again.values())
    assert again[dino.run_id] == outcomes[dino.run_id]


def test_a_cuda_oom_is_retried_once_at_half_the_batch(specs, tmp_path, monkeypatch):
    """swav runs out of memory on batches of 3: it finishes on batches of 2, and says so; barlow
    runs out of memory on any batch: it fails with the OOM after its one retry."""
    _, swav, barlow, _ = specs
    runs = [(s, tmp_path / "sweep" / s.run_id) for s in (swav, barlow)]
    seen: dict[str, list[int]] = {"swav": [], "barlow": []}

    def oom_above(limit: int, name: str):
        def fault(original, batch):
            seen[name].append(batch.shape[0])
            if batch.shape[0] > limit:
                raise torch.cuda.OutOfMemoryError("CUDA out of memory. Tried to allocate 2 GiB")
            return original(batch)

        return fault

    prepare = engine.Job.prepare

    def patched(self) -> None:
        prepare(self)
        original = self.extractor.forward
        limit = 2 if self.spec.model == "swav" else 0
        self.extractor.forward = lambda batch: oom_above(limit, self.spec.model)(original, batch)

    monkeypatch.setattr(engine.Job, "prepare", patched)
    outcomes = engine.run_sweep(runs)
    result = outcomes[swav.run_id]
    assert result.n_images == 11
    assert result.config["oom_halved_batch"] == 2
    assert seen["swav"][0] == 3 and max(seen["swav"][1:]) <= 2  # halved after the first OOM
    assert sum(seen["swav"][1:]) == 11
    assert isinstance(outcomes[barlow.run_id], torch.cuda.OutOfMemoryError)
    assert seen["barlow"] == [3, 2]  # one retry at half the batch, then it fails
    assert "out of memory" in _first_error_line(runs[1][1])


def _train_runs(tmp_path: Path, images: Path, make_spec, head: str) -> list[tuple[JobSpec, Path]]:
    """Two models of one group with a `head` (knn or train) head on the 9-image train folder."""
    train = _train_folder(tmp_path / "train")
    runs = []
    for seed, framework in enumerate(("barlow-twins", "vicreg")):
        ckpt, _ = _checkpoint(framework, random_resnet("resnet18", 20 + seed), tmp_path)
        spec = make_spec(
            run_id=framework,
            model=framework,
            framework=framework,
            checkpoint=str(ckpt),
            dataset_path=str(images),
            head=head,
            head_path=str(train),
            head_epochs=2,
        )
        runs.append((spec, tmp_path / "runs" / framework))
    return runs


def _cancel_when_train_features_reach(monkeypatch, model: str, count: int) -> None:
    """Write `model`'s cancel marker once `count` of its train images went through forwards."""
    original = engine.Job.train_progress

    def progress(self, todo):
        on_batch, seen = original(self, todo), [0]

        def counted(n: int) -> None:
            on_batch(n)
            seen[0] += n
            if self.spec.model == model and seen[0] >= count:
                (self.run_dir / "cancelled").write_text("now\n")

        return counted

    monkeypatch.setattr(engine.Job, "train_progress", progress)


def test_a_cancel_during_train_feature_extraction_stops_it(
    tmp_path, images, make_spec, monkeypatch
):
    """The costliest phase: the cancelled model leaves at its next train chunk; the other goes
    on."""
    runs = _train_runs(tmp_path, images, make_spec, "knn")
    _cancel_when_train_features_reach(monkeypatch, "barlow-twins", 1)
    forwards = _forwards_by_model(monkeypatch)
    outcomes = engine.run_sweep(runs)
    assert isinstance(outcomes["barlow-twins"], engine.RunCancelled)
    assert forwards["barlow-twins"] == 5  # its first train chunk (of 5 + 4 images), no more
    assert outcomes["vicreg"].n_images == 11
    assert forwards["vicreg"] == 9 + 11


def test_a_cancel_during_head_training_stops_it(tmp_path, images, make_spec, monkeypatch):
    """The marker appears while barlow's head trains (the first head trained): training stops at
    its next loss evaluation and saves nothing; vicreg's head trains to the end."""
    runs = _train_runs(tmp_path, images, make_spec, "train")
    calls: list[int] = []
    steps: list[int] = []  # which call asked `stop` before each step
    original = engine.heads_mod.train_lbfgs_head

    def counting(*args, stop, **kwargs):
        call = len(calls)
        calls.append(call)

        def asked() -> bool:
            steps.append(call)
            if call == 0:
                (runs[0][1] / "cancelled").write_text("now\n")
            return stop()

        return original(*args, stop=asked, **kwargs)

    monkeypatch.setattr(engine.heads_mod, "train_lbfgs_head", counting)
    outcomes = engine.run_sweep(runs)
    assert isinstance(outcomes["barlow-twins"], engine.RunCancelled)
    assert outcomes["vicreg"].n_images == 11
    saved = list((tmp_path / "cache" / "heads").glob("*.pt"))
    assert len(saved) == 1  # vicreg's head; barlow's training stopped at its first step
    assert outcomes["vicreg"].config["head"]["saved_head"] == str(saved[0])
    assert calls == [0, 1]
    assert steps[0] == 0 and set(steps[1:]) == {1}  # barlow stopped at its first loss


def test_one_backbone_pass_feeds_every_head_of_a_checkpoint(
    tmp_path, images, make_spec, monkeypatch
):
    """Three heads on one checkpoint (a released head, k-NN, a trained head) in one sweep: the
    train folder and the test set each go through the backbone once, and each run's predictions
    are those it gives alone."""
    train = _train_folder(tmp_path / "train")
    ckpt, released = _checkpoint("torchvision", random_resnet("resnet18", 30), tmp_path)
    heads = {"released": ("linear", released), "knn": ("knn", train), "lin": ("train", train)}
    runs = []
    for name, (head, path) in heads.items():
        spec = make_spec(
            run_id=name,
            model=name,
            checkpoint=str(ckpt),
            dataset_path=str(images),
            head=head,
            head_path=str(path),
            head_epochs=2,
        )
        runs.append((spec, tmp_path / "runs" / name))
    forwards = _forwards_by_model(monkeypatch)
    outcomes = engine.run_sweep(runs)
    assert all(o.n_images == 11 for o in outcomes.values()), outcomes
    assert sum(forwards.values()) == 9 + 11  # not 2 x 9 train + 3 x 11 test images
    _assert_as_alone(runs, tmp_path)


def test_a_sweep_waits_for_train_features_another_process_computes(
    tmp_path, images, make_spec, monkeypatch
):
    """Another live process holds the claim on the train features: the sweep waits, then reads
    what it saved (no train image forwarded here); a dead owner's claim is taken over."""
    import subprocess
    import threading

    from lottery_tui.probe import claims

    (spec, run_dir), _ = _train_runs(tmp_path, images, make_spec, "knn")
    other = engine.Job(spec, tmp_path / "other", None)
    (tmp_path / "other").mkdir()
    other.prepare()
    other.extractor.name = "the other process"
    entry = other.train_cache().dir
    entry.mkdir(parents=True)
    owner = subprocess.Popen(["sleep", "60"])
    try:
        claim = claims.claim_path(entry)
        claim.write_text(json.dumps({"host": socket.gethostname(), "pid": owner.pid}))
        monkeypatch.setattr(engine, "CLAIM_POLL_S", 0.05)

        errors: list[BaseException] = []

        def the_other_process_computes() -> None:
            events = run_dir / "events.jsonl"
            try:
                deadline = time.monotonic() + 30
                while "waiting for train-folder features" not in (
                    events.read_text() if events.exists() else ""
                ):
                    assert time.monotonic() < deadline, "the sweep never said it waits"
                    time.sleep(0.02)
                cache, todo = other.train_todo()
                paths = [i.path for i in other.train_listing.items]
                for k, chunk in other.extractor.chunks(paths, todo, lambda n: None):
                    chunk.features = chunk.features.half()
                    cache.save(k, chunk)
            except BaseException as exc:
                errors.append(exc)
            finally:
                claim.unlink()  # released: done (or failed, so the sweep never hangs)

        computing = threading.Thread(target=the_other_process_computes)
        computing.start()
        forwards = _forwards_by_model(monkeypatch)
        outcome = engine.run_sweep([(spec, run_dir)])[spec.run_id]
        computing.join(timeout=60)
    finally:
        owner.kill()
        owner.wait()  # reaped: its pid is gone
    assert not errors, errors
    assert outcome.n_images == 11
    assert forwards == {"the other process": 9, spec.model: 11}  # here: the test set only
    assert "pid" in (run_dir / "events.jsonl").read_text()

    # The owner died without finishing: its claim is stale, the next sweep takes it over.
    shutil.rmtree(entry)
    entry.mkdir(parents=True)
    claims.claim_path(entry).write_text(
        json.dumps({"host": socket.gethostname(), "pid": owner.pid})
    )
    shutil.rmtree(run_dir)
    forwards.clear()
    assert engine.run_sweep([(spec, run_dir)])[spec.run_id].n_images == 11
    assert forwards == {spec.model: 9}  # the train folder (its test features are cached)
    assert not claims.claim_path(entry).exists()  # released when done


def test_a_trained_heads_hyper_parameters_are_in_its_key_and_its_record(
    tmp_path, images, make_spec
):
    """The default L-BFGS head and the AdamW option: two saved heads, each run recording every
    hyper-parameter (and the l2 the held-out split chose)."""
    (spec, run_dir), _ = _train_runs(tmp_path, images, make_spec, "train")
    lbfgs = engine.run_job(spec, run_dir).config["head"]
    adamw_spec = JobSpec(**{**spec.__dict__, "head_solver": "adamw", "run_id": "adamw"})
    adamw = engine.run_job(adamw_spec, tmp_path / "adamw").config["head"]
    assert lbfgs["saved_head"] != adamw["saved_head"]
    assert lbfgs["solver"] == "lbfgs" and lbfgs["l2"] in lbfgs["l2_grid"]
    assert set(lbfgs["val_top1"]) == {f"{v:g}" for v in lbfgs["l2_grid"]}
    for key in ("val_fraction", "search_iter", "max_iter", "seed"):
        assert key in lbfgs
    assert adamw["solver"] == "adamw"
    for key in ("lr", "weight_decay", "batch_size", "epochs", "seed"):
        assert key in adamw
    from lottery_tui.probe.ingest import protocol_head
    from lottery_tui.store.pretraining import tags

    assert tags("m", "probe", "vicreg", protocol_head({"head": lbfgs})).protocol == (
        "linear-probe-lbfgs"
    )
    assert tags("m", "probe", "vicreg", protocol_head({"head": adamw})).protocol == (
        "linear-probe-adamw"
    )


def test_a_cancelled_run_does_not_fail_its_sweeps_exit_status(specs, tmp_path, capsys):
    from lottery_tui.probe.contract import write_spec

    dino, swav, _, _ = specs
    dirs = []
    for spec in (dino, swav):
        dirs.append(tmp_path / "sweep" / spec.run_id)
        write_spec(dirs[-1], spec)
    (dirs[1] / "cancelled").write_text("now\n")
    assert engine.run_sweep_process(dirs) == 0  # dino done, swav cancelled: nothing failed
    err = capsys.readouterr().err
    assert err.count(swav.run_id) == 1  # named once, not "<id>: <id>: cancelled"
    assert f"{swav.run_id}: cancelled" in err


def test_k_nn_banks_over_the_budget_are_streamed_with_the_same_predictions(
    tmp_path, images, make_spec, monkeypatch
):
    runs = _train_runs(tmp_path, images, make_spec, "knn")
    one_bank = engine.knn_memory.bank_bytes(9, 512, "cpu")
    monkeypatch.setattr(engine.knn_memory, "KNN_DEVICE_BUDGET", one_bank)
    monkeypatch.setattr(engine.heads_mod, "KNN_BANK_BLOCK", 4)
    outcomes = engine.run_sweep(runs)
    banks = [outcomes[spec.run_id].config["head"]["bank"] for spec, _ in runs]
    assert banks == ["device", "host, streamed in blocks of 4 rows"]
    note = "k-NN memory plan: 1 of 2 bank(s) on cpu"
    assert all(note in (run_dir / "events.jsonl").read_text() for _, run_dir in runs)
    monkeypatch.undo()
    _assert_as_alone(runs, tmp_path)
