"""The k-NN memory plan: one function places the banks; `lottery runs plan` prints what the
probe engine then does (tiny train folder, real tiny checkpoints)."""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pytest

from lottery_tui.probe import knn_memory
from lottery_tui.probe.knn_memory import GIB, bank_bytes, bank_placement, plan_banks

IMAGENET_TRAIN = 1_281_167


def test_banks_go_on_the_device_while_within_the_budget():
    assert bank_placement([5, 5, 5, 2], budget=12) == [True, True, False, True]
    assert bank_placement([], budget=1) == []


def test_twelve_resnet50_banks_of_imagenet_train_on_an_h100():
    banks = [(f"m{i}", IMAGENET_TRAIN, 2048) for i in range(12)]
    plan = plan_banks(banks, "cuda")
    one = IMAGENET_TRAIN * 2048 * 2  # fp16 on a GPU
    assert bank_bytes(IMAGENET_TRAIN, 2048, "cuda") == one
    assert bank_bytes(IMAGENET_TRAIN, 2048, "cpu") == 2 * one  # fp32 on a CPU
    assert [b.on_device for b in plan.banks] == [True] * 4 + [False] * 8
    assert plan.device_bytes == 4 * one <= knn_memory.KNN_DEVICE_BUDGET
    assert plan.host_bytes == 8 * one
    assert plan.describe() == (
        f"k-NN memory plan: 4 of 12 bank(s) on cuda ({4 * one / GIB:.1f} GiB of a 24 GiB "
        f"budget), 8 streamed from host memory ({8 * one / GIB:.1f} GiB) in blocks of 65536 rows"
    )
    assert plan.details()[0] == f"m0: {IMAGENET_TRAIN} x 2048 x 2 B = {one / GIB:.2f} GiB, on cuda"
    assert plan.details()[-1].endswith("host (streamed)")


def _train_folder(root: Path, per_class: int = 3) -> Path:
    from PIL import Image

    rng = np.random.default_rng(3)
    for wnid in ("n01440764", "n01443537"):
        (root / wnid).mkdir(parents=True)
        for i in range(per_class):
            img = Image.fromarray(rng.integers(0, 256, (36, 40, 3), dtype=np.uint8))
            img.save(root / wnid / f"{wnid}_{i}.JPEG", format="JPEG", quality=90)
    return root


@pytest.fixture
def knn_plan(tmp_path: Path) -> Path:
    """Two k-NN models (ResNet-18: 512-d features) and a builtin one on a 6-image train folder."""
    from .tiny_probe import write_tiny_probe_plan

    plan = write_tiny_probe_plan(tmp_path / "p", n_images=4, models=("a", "b", "c"))
    _train_folder(tmp_path / "p" / "train")
    text = plan.read_text().split("[[models]]")
    text = [text[0]] + [
        part.replace('head = "builtin"', 'head = "knn:train"') if i < 2 else part
        for i, part in enumerate(text[1:])
    ]
    plan.write_text("[[models]]".join(text))
    return plan


def _cli(args: list[str], capsys) -> str:
    from lottery_tui.cli.main import main

    assert main(args) == 0
    return capsys.readouterr().out


@pytest.mark.torch
def test_runs_plan_prints_each_sweeps_banks(knn_plan, tmp_path, capsys, monkeypatch):
    monkeypatch.setattr(knn_memory, "KNN_DEVICE_BUDGET", bank_bytes(6, 512, "cpu"))
    out = _cli(["runs", "plan", str(knn_plan), "--results-dir", str(tmp_path / "r")], capsys)
    one = 6 * 512 * 4
    assert "1 sweep(s) of 3 run(s), local executor, cpu:" in out
    assert "sweep imagenet (3 run(s)): k-NN memory plan: 1 of 2 bank(s) on cpu" in out
    assert f"  a: 6 x 512 x 4 B = {one / GIB:.2f} GiB, on cpu" in out
    assert f"  b: 6 x 512 x 4 B = {one / GIB:.2f} GiB, host (streamed)" in out
    assert not (tmp_path / "r").exists() or not any((tmp_path / "r").iterdir())  # no launch


@pytest.mark.torch
def test_runs_plan_with_a_missing_train_folder_is_a_one_line_error(knn_plan, tmp_path, capsys):
    import shutil

    from lottery_tui.cli.main import main

    shutil.rmtree(knn_plan.parent / "train")
    code = main(["runs", "plan", str(knn_plan), "--results-dir", str(tmp_path / "r")])
    err = capsys.readouterr().err
    assert code == 2
    assert err == f"lottery: error: {knn_plan.parent / 'train'}: train folder not found\n"


@pytest.mark.torch
def test_the_engine_follows_the_printed_plan(knn_plan, tmp_path, capsys, monkeypatch):
    """The line `lottery runs plan` prints is the one each k-NN run's job logs, and the banks
    sit where it says."""
    from lottery_tui.probe import engine
    from lottery_tui.probe.contract import JobSpec
    from lottery_tui.runs.launch import build_spec
    from lottery_tui.runs.plan import load_plan

    monkeypatch.setattr(knn_memory, "KNN_DEVICE_BUDGET", bank_bytes(6, 512, "cpu"))
    results = tmp_path / "r"
    out = _cli(["runs", "plan", str(knn_plan), "--results-dir", str(results)], capsys)
    plan = load_plan(knn_plan)
    runs: list[tuple[JobSpec, Path]] = []
    for model, dataset in plan.pairs():
        spec = build_spec(plan, model, dataset, results, "cpu")
        runs.append((spec, results / spec.run_id))
    outcomes = engine.run_sweep(runs)
    printed = next(line for line in out.splitlines() if "k-NN memory plan" in line)
    for _spec, run_dir in runs[:2]:
        events = [json.loads(line) for line in (run_dir / "events.jsonl").read_text().splitlines()]
        assert printed.endswith(
            next(e["message"] for e in events if "k-NN" in e.get("message", ""))
        )
    banks = [outcomes[spec.run_id].config["head"]["bank"] for spec, _ in runs[:2]]
    assert banks == ["device", "host, streamed in blocks of 65536 rows"]


@pytest.mark.torch
def test_launch_prints_the_memory_plan(knn_plan, tmp_path, capsys, monkeypatch):
    import argparse

    from lottery_tui.probe.model_checks import check_model_files, knn_feature_dim
    from lottery_tui.runs import plan_command
    from lottery_tui.runs.executors.local import LocalExecutor
    from lottery_tui.runs.status import scan_runs

    from .helpers import FAKE_JOB, wait_for

    (knn_plan.parent / "val" / "fake.json").write_text("{}")  # the stand-in job: 3 quick steps
    results = tmp_path / "r"
    monkeypatch.setattr(
        plan_command, "make_executor", lambda *a, **k: LocalExecutor(results, FAKE_JOB, gpus=[])
    )
    args = argparse.Namespace(
        plan=str(knn_plan),
        results_dir=str(results),
        db=str(tmp_path / "s.duckdb"),
        no_register=True,
    )
    assert plan_command.run_plan_command(args, check_model_files, knn_feature_dim) == 0
    assert wait_for(lambda: {r.state for r in scan_runs(results)} == {"done"})
    out = capsys.readouterr().out
    assert "launched 3 run(s) with the local executor" in out
    assert "sweep imagenet (3 run(s)): k-NN memory plan: 2 of 2 bank(s) on cpu" in out
    assert f"  b: 6 x 512 x 4 B = {6 * 512 * 4 / GIB:.2f} GiB, on cpu" in out
