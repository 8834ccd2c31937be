"""Run engine: events, feature cache reuse, kill-and-resume, k-NN and trained heads."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import numpy as np
import pytest
import torch
import torch.nn.functional as F

from lottery_tui.probe import engine
from lottery_tui.probe.contract import JobSpec, write_spec
from tests.probe.conftest import Reference, read_predictions, val_names, write_image

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def r18_checkpoint(resnet18, tmp_path) -> Path:
    path = tmp_path / "r18.pth"
    torch.save(resnet18.state_dict(), path)
    return path


@pytest.fixture
def train_folder(tmp_path) -> Path:
    """Three classes with a distinct colour each, four images per class."""
    wnids = (REPO / "data" / "imagenet" / "imagenet_synsets.txt").read_text().split()
    rng = np.random.default_rng(9)
    for c, idx in enumerate((1, 5, 7)):
        for j in range(4):
            img = np.zeros((40, 40, 3), dtype=np.uint8)
            img[..., c] = 200
            img += rng.integers(0, 40, img.shape, dtype=np.uint8)
            path = tmp_path / "train" / wnids[idx] / f"{j}.JPEG"
            path.parent.mkdir(parents=True, exist_ok=True)
            from PIL import Image

            Image.fromarray(img).save(path, quality=95)
    return tmp_path / "train"


def events(run_dir: Path) -> list[dict]:
    return [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]


def test_events_result_and_shards_follow_the_contract(
    r18_checkpoint, val_folder, tmp_path, make_spec
):
    spec = make_spec(checkpoint=str(r18_checkpoint), dataset_path=str(val_folder))
    result = engine.run_job(spec, tmp_path / "run")
    log = events(tmp_path / "run")
    assert log[0]["event"] == "start" and log[-1]["event"] == "done"
    keys = {"t", "event", "dataset", "done", "total", "images_per_s", "eta_s", "message"}
    assert all(set(e) == keys for e in log)
    assert log[-1]["done"] == log[-1]["total"] == 12
    shards = sorted(p.name for p in (tmp_path / "run" / "shards").glob("predictions-*.parquet"))
    assert shards == [f"predictions-imagenet-{k:05d}.parquet" for k in range(3)]  # 12 / chunk 5
    assert [s.name for s in result.shards] == shards
    assert sum(s.rows for s in result.shards) == 12
    rows = read_predictions(tmp_path / "run")
    assert result.top1 == pytest.approx(100 * np.mean([r["correct"] for r in rows.values()]))
    assert result.top5 == pytest.approx(
        100 * np.mean([r["label"] in r["top5"] for r in rows.values()])
    )
    config = result.config
    assert config["preprocessing"]["interpolation"] == "bilinear"
    assert config["checkpoint_sha256"] and config["versions"]["torch"] == torch.__version__
    assert config["device"].startswith("cpu") and config["precision"] == "fp32"


def test_second_head_reuses_cached_features(
    r18_checkpoint, resnet18, val_folder, tmp_path, make_spec, monkeypatch
):
    engine.run_job(
        make_spec(checkpoint=str(r18_checkpoint), dataset_path=str(val_folder)), tmp_path / "a"
    )
    head = tmp_path / "head.pth"
    gen = torch.Generator().manual_seed(0)
    torch.save(
        {
            "state_dict": {
                "module.linear.weight": torch.randn(1000, 512, generator=gen),
                "module.linear.bias": torch.zeros(1000),
            }
        },
        head,
    )

    def no_forward(self, batch):
        raise AssertionError("features were recomputed")

    monkeypatch.setattr(engine.Extractor, "forward", no_forward)
    spec = make_spec(
        checkpoint=str(r18_checkpoint),
        dataset_path=str(val_folder),
        head="linear",
        head_path=str(head),
        run_id="second",
    )
    result = engine.run_job(spec, tmp_path / "b")
    assert result.n_images == 12


KILLER = textwrap.dedent(
    """
    import os, signal, sys
    from pathlib import Path
    from lottery_tui.probe import engine

    original = engine.Job._write_shard
    written = []

    def write_then_die(self, k, start, chunk):
        original(self, k, start, chunk)
        written.append(k)
        if len(written) == 2:
            os.kill(os.getpid(), signal.SIGKILL)

    engine.Job._write_shard = write_then_die
    sys.exit(engine.run_sweep_process([Path(sys.argv[1])]))
    """
)


def test_killed_run_resumes_where_it_stopped(r18_checkpoint, val_folder, tmp_path, make_spec):
    spec = make_spec(checkpoint=str(r18_checkpoint), dataset_path=str(val_folder))
    run_dir = tmp_path / "run"
    write_spec(run_dir, spec)
    killed = subprocess.run(
        [sys.executable, "-c", KILLER, str(run_dir)],
        cwd=REPO,
        capture_output=True,
        timeout=120,
        env={**os.environ, "OMP_NUM_THREADS": "1"},
    )
    assert killed.returncode == -9
    assert not (run_dir / "result.json").exists()
    assert len(list((run_dir / "shards").glob("predictions-*.parquet"))) == 2

    assert engine.run_sweep_process([run_dir]) == 0  # what `python -m lottery_tui.probe.job` runs
    log = events(run_dir)
    restart = [e for e in log if e["message"].endswith("already done")][-1]
    assert restart["done"] == 10  # two chunks of 5 survived the kill

    uninterrupted = make_spec(
        checkpoint=str(r18_checkpoint),
        dataset_path=str(val_folder),
        cache_dir=str(tmp_path / "other-cache"),
    )
    engine.run_job(uninterrupted, tmp_path / "clean")
    assert read_predictions(run_dir) == read_predictions(tmp_path / "clean")


def test_rerunning_a_finished_run_is_a_no_op(
    r18_checkpoint, val_folder, tmp_path, make_spec, monkeypatch
):
    spec = make_spec(checkpoint=str(r18_checkpoint), dataset_path=str(val_folder))
    first = engine.run_job(spec, tmp_path / "run")
    monkeypatch.setattr(engine.Job, "prepare", lambda self: pytest.fail("ran again"))
    assert engine.run_job(spec, tmp_path / "run") == first


def reference_features(model: torch.nn.Module, paths: list[Path]) -> torch.Tensor:
    body = torch.nn.Sequential(*list(model.children())[:-1])
    with torch.no_grad():
        return body(Reference().inputs(paths)).flatten(1)


def test_knn_head_matches_dino_weighted_vote(
    resnet18, r18_checkpoint, val_folder, train_folder, tmp_path, make_spec
):
    spec = make_spec(
        checkpoint=str(r18_checkpoint),
        dataset_path=str(val_folder),
        head="knn",
        head_path=str(train_folder),
    )
    result = engine.run_job(spec, tmp_path / "run")
    assert result.config["head"]["train_images"] == 12

    train_paths = sorted(train_folder.glob("*/*.JPEG"))
    wnids = (REPO / "data" / "imagenet" / "imagenet_synsets.txt").read_text().split()
    train_labels = torch.tensor([wnids.index(p.parent.name) for p in train_paths])
    bank = F.normalize(reference_features(resnet18, train_paths), dim=1)
    val_paths = sorted(val_folder.iterdir())
    query = F.normalize(reference_features(resnet18, val_paths), dim=1)
    sims = query @ bank.T  # k = 20 > 12 train images: every neighbour votes
    votes = torch.zeros(len(val_paths), 1000)
    for j in range(len(train_paths)):
        votes[:, train_labels[j]] += (sims[:, j] / 0.07).exp()
    expected = dict(zip([p.name for p in val_paths], votes.argmax(1).tolist(), strict=True))
    assert {k: r["pred"] for k, r in read_predictions(tmp_path / "run").items()} == expected


def test_trained_head_is_saved_and_reused(r18_checkpoint, train_folder, tmp_path, make_spec):
    rng = np.random.default_rng(4)
    for name in val_names(3):
        write_image(tmp_path / "val" / name, rng)
    spec = make_spec(
        checkpoint=str(r18_checkpoint),
        dataset_path=str(tmp_path / "val"),
        head="train",
        head_path=str(train_folder),
        head_epochs=40,
    )
    first = engine.run_job(spec, tmp_path / "a")
    head = first.config["head"]
    assert head["reused"] is False
    assert head["train_top1"] == 100.0  # three colour classes are linearly separable
    saved = torch.load(head["saved_head"], weights_only=True)
    assert saved["weight"].shape == (1000, 512)

    second = engine.run_job(JobSpec(**{**spec.__dict__, "run_id": "again"}), tmp_path / "b")
    assert second.config["head"]["reused"] is True
    assert second.config["head"]["sha256"] == head["sha256"]
    assert read_predictions(tmp_path / "a") == read_predictions(tmp_path / "b")
