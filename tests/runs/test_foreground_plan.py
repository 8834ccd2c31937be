"""A foreground `lottery probe` is a one-model plan: the same spec (one builder, one defaults
table), the same run id, launch record and result.json as the plan with that model."""

from __future__ import annotations

import json
from dataclasses import asdict
from pathlib import Path

import pytest

from lottery_tui.cli.main import build_parser, main
from lottery_tui.cli.probe import one_model_plan
from lottery_tui.probe.contract import (
    JobSpec,
    default_batch_size,
    default_num_workers,
)
from lottery_tui.runs import rundir
from lottery_tui.runs.launch import build_spec
from lottery_tui.runs.plan import parse_plan

from .tiny_probe import write_tiny_probe_plan


def _cli_spec(argv: list[str], results: Path, device: str) -> JobSpec:
    plan = one_model_plan(build_parser().parse_args(["probe", *argv]))
    return build_spec(plan, plan.models[0], plan.datasets[0], results, device)


def _plan_spec(
    root: Path, head: str, results: Path, device: str, extra: str = "", model: str = ""
) -> JobSpec:
    text = (
        f'[defaults]\n{extra}\n[[models]]\n{model}name = "m"\nframework = "dino"\n'
        f'checkpoint = "c.pth"\nhead = "{head}"\n\n[[datasets]]\nid = "imagenet-r"\npath = "r"\n'
    )
    plan = parse_plan(text, root / "plan.toml")
    return build_spec(plan, plan.models[0], plan.datasets[0], results, device)


@pytest.mark.parametrize("device", ["cpu", "cuda"])
@pytest.mark.parametrize(
    ("options", "head"),
    [
        ([], "builtin"),
        (["--knn", "train"], "knn:train"),
        (["--train-head", "train"], "train:train"),
    ],
)
def test_the_cli_and_a_plan_build_the_same_spec(
    tmp_path: Path, monkeypatch, device: str, options: list[str], head: str
) -> None:
    """Nothing set: the CLI and a plan took different defaults before (batch 64 vs 256, workers
    0 vs 4 on a CPU); now one table decides, whichever the device."""
    monkeypatch.chdir(tmp_path)
    results = tmp_path / "results"
    argv = ["--model", "m", "--framework", "dino", "--checkpoint", "c.pth"]
    argv += ["--dataset", "imagenet-r=r", "--results-dir", str(results), *options]
    cli = _cli_spec(argv, results, device)
    plan = _plan_spec(tmp_path, head, results, device)
    assert asdict(cli) == asdict(plan)
    assert cli.batch_size == default_batch_size(device)
    assert cli.num_workers == default_num_workers(device)
    assert (cli.precision, cli.image_size, cli.chunk_size, cli.decoder, cli.head_solver) == (
        JobSpec.precision,
        JobSpec.image_size,
        JobSpec.chunk_size,
        JobSpec.decoder,
        JobSpec.head_solver,
    )


def test_every_cli_setting_matches_its_plan_key(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.chdir(tmp_path)
    results = tmp_path / "results"
    argv = ["--model", "m", "--framework", "dino", "--checkpoint", "c.pth"]
    argv += ["--dataset", "imagenet-r=r", "--results-dir", str(results), "--train-head", "t"]
    argv += ["--batch-size", "8", "--workers", "3", "--precision", "bf16", "--image-size", "96"]
    argv += ["--chunk-size", "16", "--head-epochs", "7", "--head-solver", "adamw"]
    argv += ["--decoder", "nvjpeg", "--allow-subset", "--arch", "resnet50"]
    keys = (
        'batch_size = 8\nnum_workers = 3\nprecision = "bf16"\nimage_size = 96\n'
        'chunk_size = 16\nhead_epochs = 7\nhead_solver = "adamw"\ndecoder = "nvjpeg"\n'
        "allow_subset = true\n"
    )
    plan = _plan_spec(tmp_path, "train:t", results, "cpu", keys, 'arch = "resnet50"\n')
    assert asdict(_cli_spec(argv, results, "cpu")) == asdict(plan)


def _tiny_foreground(root: Path, store: Path, *extra: str) -> list[str]:
    """`lottery probe` of the tiny plan's model, with the plan's settings."""
    return [
        *("probe", "--model", "tiny-r18", "--framework", "torchvision", "--device", "cpu"),
        *("--checkpoint", str(root / "tiny-r18.pth"), "--dataset", f"imagenet={root / 'val'}"),
        *("--image-size", "32", "--allow-subset", "--results-dir", str(root / "results")),
        *("--db", str(store), *extra),
    ]


@pytest.mark.torch
def test_a_foreground_run_is_the_one_model_plan_run(tmp_path: Path, store: Path, capsys) -> None:
    """Same spec.json and run id as the plan's, a launch record of the same shape (executor
    foreground, its sweep), result.json written: launching the plan afterwards finds it done."""
    from lottery_tui.runs.executors.local import LocalExecutor
    from lottery_tui.runs.launch import launch_plan
    from lottery_tui.runs.plan import load_plan

    plan = load_plan(write_tiny_probe_plan(tmp_path, n_images=3, models=("tiny-r18",)))
    results = tmp_path / "results"
    argv = _tiny_foreground(tmp_path, store, "--batch-size", "4", "--workers", "0")
    argv += ["--chunk-size", "4"]
    assert main(argv) == 0
    assert "ingested" in capsys.readouterr().out
    spec = build_spec(plan, plan.models[0], plan.datasets[0], results, "cpu")
    run_dir = results / spec.run_id
    assert (run_dir / "spec.json").read_text() == spec.to_json()
    launch = json.loads((run_dir / rundir.LAUNCH).read_text())
    assert launch["executor"] == "foreground" and launch["plan"] is None
    assert launch["sweep"] == [spec.run_id] and launch["run_id"] == spec.run_id
    assert json.loads((run_dir / "result.json").read_text())["run_id"] == spec.run_id
    assert rundir.read_exit(run_dir) == 0
    report = launch_plan(plan, LocalExecutor(results, gpus=[]), results)
    assert report.launched == [] and report.skipped == [(run_dir, "already done")]


@pytest.mark.torch
def test_a_failed_foreground_run_stays_listed_as_failed(
    tmp_path: Path, store: Path, capsys, monkeypatch
) -> None:
    """The error is printed once, the exit status is the error's, and the run keeps its launch
    record (shown failed, its error in error.txt), as a plan's failed run does."""
    from lottery_tui.probe import engine, prepared
    from lottery_tui.runs.status import read_status

    write_tiny_probe_plan(tmp_path, n_images=3, models=("tiny-r18",))
    real = engine.Job.prepare

    def broken(self):
        real(self)
        raise prepared.DeviceError("simulated: the card went away")

    monkeypatch.setattr(engine.Job, "prepare", broken)
    results = tmp_path / "results"
    argv = _tiny_foreground(tmp_path, store)
    assert main(argv) == prepared.DeviceError.exit_code
    err = capsys.readouterr().err
    assert err.count("simulated: the card went away") == 1
    (run_dir,) = [p for p in results.iterdir() if p.name.startswith("tiny-r18--")]
    status = read_status(run_dir)
    assert status.state == "failed" and status.executor == "foreground"
    assert "simulated" in (run_dir / "error.txt").read_text()


def test_a_launch_stopped_midway_keeps_only_the_started_runs(tmp_path: Path) -> None:
    """An executor that starts runs itself (the foreground) and stops on the second: the first
    keeps its launch record (listed failed), the one never started loses it (never 'queued'
    forever)."""
    import os

    from lottery_tui.runs.executors.base import Executor
    from lottery_tui.runs.launch import launch_plan

    class StopsOnTheSecond(Executor):
        name = "foreground"

        def launch(self, sweeps):
            first = sweeps[0][0]
            rundir.record_pid(first, os.getpid())
            rundir.record_exit(first, 1)
            raise KeyboardInterrupt

    for folder in ("val", "r"):
        (tmp_path / folder).mkdir()
    text = (
        '[[models]]\nname = "m"\nframework = "dino"\ncheckpoint = "c.pth"\nhead = "builtin"\n'
        '[[datasets]]\nid = "imagenet"\npath = "val"\n[[datasets]]\nid = "imagenet-r"\npath = "r"\n'
    )
    plan = parse_plan(text, tmp_path / "plan.toml")
    with pytest.raises(KeyboardInterrupt):
        launch_plan(plan, StopsOnTheSecond(()), tmp_path / "results")
    started, never = [
        tmp_path
        / "results"
        / build_spec(plan, plan.models[0], d, tmp_path / "results", "cpu").run_id
        for d in plan.datasets
    ]
    assert (started / rundir.LAUNCH).exists() and not (never / rundir.LAUNCH).exists()


def test_the_progress_line_is_escaped(capsys) -> None:
    from lottery_tui.cli.foreground import ProgressBar

    event = {"event": "done", "dataset": "imagenet", "done": 4, "total": 4}
    event |= {"images_per_s": 2.0, "eta_s": None, "message": "read evil\x1b]0;x\x07.jpeg"}
    ProgressBar()(event)
    err = capsys.readouterr().err
    assert "\x1b" not in err and "\\x1b]0;x\\x07.jpeg" in err and "4/4" in err
