"""One probed model name, one model: a name the store already has for another checkpoint, head
or configuration is refused at plan time and in the foreground, naming the earlier run; the same
configuration again is fine."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from lottery_tui.cli.main import main
from lottery_tui.runs.plan import load_plan
from lottery_tui.runs.plan_checks import check_store_names

from .tiny_probe import write_tiny_probe_plan

pytestmark = pytest.mark.torch


def _foreground(store: Path, root: Path, checkpoint: Path, *extra: str) -> list[str]:
    return [
        "probe",
        "--db",
        str(store),
        "--model",
        "tiny-a",
        "--framework",
        "torchvision",
        "--checkpoint",
        str(checkpoint),
        "--dataset",
        f"imagenet={root / 'val'}",
        "--results-dir",
        str(root / "results"),
        "--image-size",
        "32",
        "--allow-subset",
        "--chunk-size",
        "4",
        "--batch-size",
        "4",
        "--device",
        "cpu",
        *extra,
    ]


@pytest.fixture
def probed(tmp_path: Path, store: Path, capsys) -> Path:
    """`tiny-a` probed in the foreground with the tiny plan's checkpoint (the plan's settings)."""
    root = tmp_path / "plan"
    write_tiny_probe_plan(root, n_images=6, models=("tiny-a",))
    assert main(_foreground(store, root, root / "tiny-a.pth")) == 0
    capsys.readouterr()
    return root


def _earlier_run(root: Path) -> str:
    (run,) = [p.name for p in (root / "results").iterdir() if p.name.startswith("tiny-a--")]
    return run


def test_a_name_reused_for_another_checkpoint_is_refused_in_the_foreground(
    probed: Path, store: Path, capsys, monkeypatch
) -> None:
    earlier = _earlier_run(probed)
    other = probed / "other.pth"
    shutil.copy(probed / "tiny-a.pth", other)  # same bytes, but another checkpoint file
    from lottery_tui.probe import engine  # torch: imported where the test runs, not collected

    monkeypatch.setattr(engine, "run_job", lambda *a, **k: pytest.fail("ran before checking"))
    assert main(_foreground(store, probed, other)) != 0
    err = capsys.readouterr().err
    assert f"'tiny-a' is already in the store from run {earlier}" in err
    assert "checkpoint" in err and "other.pth" in err
    assert len(err.strip().splitlines()) == 1
    assert main(_foreground(store, probed, probed / "tiny-a.pth", "--knn", str(probed))) != 0
    assert "head 'builtin' there, 'knn' here" in capsys.readouterr().err


def test_the_same_configuration_stays_idempotent(probed: Path, store: Path, capsys) -> None:
    assert main(_foreground(store, probed, probed / "tiny-a.pth")) == 0
    assert "already in store" in capsys.readouterr().out
    # another batch size or device is the same model
    assert main(_foreground(store, probed, probed / "tiny-a.pth", "--batch-size", "2")) == 0


def test_a_plan_reusing_a_name_for_another_configuration_is_refused(
    probed: Path, store: Path, tmp_path: Path
) -> None:
    earlier = _earlier_run(probed)
    plan = load_plan(probed / "plan.toml")
    assert check_store_names(plan, store, probed / "results") == []  # the same model: fine
    text = (
        (probed / "plan.toml")
        .read_text()
        .replace('device = "cpu"', 'device = "cpu"\nprecision = "bf16"')
    )
    (probed / "bf16.toml").write_text(text)
    problems = check_store_names(load_plan(probed / "bf16.toml"), store, probed / "results")
    assert len(problems) == 1
    assert f"from run {earlier}" in problems[0].message
    assert "precision 'fp32' there, 'bf16' here" in problems[0].message
    assert problems[0].line is not None  # the model's `name` line of the plan


def test_a_foreground_rerun_leaves_a_done_runs_launch_record_and_refuses_a_running_one(
    probed: Path, store: Path, capsys
) -> None:
    import subprocess

    from lottery_tui.runs import rundir

    run_dir = probed / "results" / _earlier_run(probed)
    record = (run_dir / rundir.LAUNCH).read_text()
    assert main(_foreground(store, probed, probed / "tiny-a.pth")) == 0
    assert (run_dir / rundir.LAUNCH).read_text() == record  # done: not launched again
    capsys.readouterr()

    # Another job (a plan's lane) is computing it: the foreground must not compute it too.
    (run_dir / rundir.RESULT).unlink()
    (run_dir / rundir.EXIT).unlink()
    job = subprocess.Popen(["sleep", "60"])
    try:
        rundir.record_pid(run_dir, job.pid)
        assert main(_foreground(store, probed, probed / "tiny-a.pth")) != 0
    finally:
        job.kill()
        job.wait()
    err = capsys.readouterr().err
    assert f"run {run_dir.name} is already running" in err
    assert (run_dir / rundir.LAUNCH).read_text() == record
