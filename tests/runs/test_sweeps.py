"""A plan's runs go to executors as sweeps: one job process per dataset (and GPU share) runs
every model on it, so each image is decoded once per preprocessing group."""

from __future__ import annotations

import json
from pathlib import Path

from lottery_tui.probe.contract import JobSpec
from lottery_tui.runs import rundir
from lottery_tui.runs.executors.local import LocalExecutor
from lottery_tui.runs.launch import launch_plan, sweeps_for
from lottery_tui.runs.plan import load_plan
from lottery_tui.runs.status import read_status, scan_runs

from .helpers import FAKE_JOB, wait_for, write_fake_plan


def _spec(model: str, framework: str, dataset: str) -> JobSpec:
    return JobSpec(
        run_id=f"{model}--{dataset}",
        model=model,
        framework=framework,
        checkpoint=f"/c/{model}.pth",
        dataset=dataset,
        dataset_path=f"/d/{dataset}",
        cache_dir="/cache",
        head="linear",
        head_path="/h.pth",
    )


STUDY = [("dino", "dino"), ("swav", "swav"), ("moco", "moco-v2"), ("dino2", "dino")]


def _specs(datasets: list[str]) -> dict[Path, JobSpec]:
    return {Path(f"/r/{m}--{d}"): _spec(m, f, d) for m, f in STUDY for d in datasets}


def _names(sweeps: list[list[Path]]) -> list[list[str]]:
    return [[p.name.split("--")[0] for p in sweep] for sweep in sweeps]


def test_one_sweep_per_dataset_ordered_by_preprocessing_group():
    sweeps = sweeps_for(_specs(["imagenet", "imagenet-r"]), slots=1)
    assert len(sweeps) == 2
    for sweep in sweeps:
        assert len({p.name.split("--")[1] for p in sweep}) == 1  # one dataset per sweep
    # DINO's bicubic group together; SwAV and MoCo share bilinear pixels (their std differs).
    first = _names(sweeps)[0]
    assert {tuple(first[:2]), tuple(first[2:])} == {("dino", "dino2"), ("swav", "moco")}


def test_more_slots_than_datasets_split_sweeps_between_groups():
    sweeps = sweeps_for(_specs(["imagenet"]), slots=2)
    assert sorted(map(sorted, _names(sweeps))) == [["dino", "dino2"], ["moco", "swav"]]
    assert len(sweeps_for(_specs(["imagenet"]), slots=8)) == 4  # at most one model a share
    assert len(sweeps_for(_specs(["imagenet"]), slots=None)) == 1
    assert sweeps_for({}, slots=4) == []


def test_a_sweep_is_one_process_with_one_log_naming_each_run(tmp_path: Path, results_dir: Path):
    plan = load_plan(write_fake_plan(tmp_path, ["m1", "m2"], ["ds"], {"*": {"steps": 2}}))
    report = launch_plan(plan, LocalExecutor(results_dir, FAKE_JOB, gpus=[]), results_dir)
    assert wait_for(lambda: {r.state for r in scan_runs(results_dir)} == {"done"}, 30)
    first, second = report.sweeps[0]
    assert report.sweeps == [[first, second]]
    assert read_status(first).job_id == read_status(second).job_id
    assert (second / rundir.LOG).is_symlink()
    log = (second / rundir.LOG).read_text()
    assert "fake job m1 on ds" in log and "fake job m2 on ds" in log
    assert rundir.read_pid(first) == rundir.read_pid(second)
    launch = rundir.read_json(second / rundir.LAUNCH)
    assert launch["sweep"] == [first.name, second.name]


def test_cancelling_one_run_of_a_sweep_leaves_the_others_running(tmp_path: Path, results_dir: Path):
    import os

    from lottery_tui.runs.executors.base import cancel_run

    rules = {"*": {"steps": 400, "delay": 0.05}}
    plan = load_plan(write_fake_plan(tmp_path, ["m1", "m2"], ["ds"], rules))
    report = launch_plan(plan, LocalExecutor(results_dir, FAKE_JOB, gpus=[]), results_dir)
    first, second = report.sweeps[0]
    assert wait_for(lambda: read_status(first).state == "running", 30)
    _, pid = rundir.read_pid(first)
    what = cancel_run(read_status(first))
    assert "its sweep drops it at the next chunk" in what and "stopped" not in what
    os.kill(pid, 0)  # the sweep's process still runs (the probe engine drops the run itself)
    assert read_status(first).state == "cancelled" and read_status(second).state == "running"
    what = cancel_run(read_status(second))  # the last run going: the process is stopped
    assert f"stopped process group {pid}" in what
    assert wait_for(lambda: read_status(second).state == "cancelled", 10)


def test_a_run_relaunched_alone_writes_its_own_log_not_its_old_sweeps(tmp_path: Path):
    """m2 followed m1's log in a sweep; run again as the first of a sweep, it must not append to
    m1's log through its old link."""
    from lottery_tui.runs.executors.jobproc import run_one

    first, second = tmp_path / "m1--ds", tmp_path / "m2--ds"
    for run_dir, model in ((first, "m1"), (second, "m2")):
        run_dir.mkdir()
        (run_dir / "spec.json").write_text(
            json.dumps(
                {
                    "run_id": run_dir.name,
                    "model": model,
                    "dataset": "ds",
                    "dataset_path": str(tmp_path),
                    "cache_dir": str(tmp_path / "cache"),
                }
            )
        )
    (tmp_path / "fake.json").write_text(json.dumps({"*": {"steps": 1, "delay": 0.01}}))
    assert run_one([first, second], FAKE_JOB) == 0
    assert (second / rundir.LOG).is_symlink()
    assert all(rundir.heartbeat_age(p) is not None for p in (first, second))  # it beat for both
    before = (first / rundir.LOG).read_text()
    (second / rundir.RESULT).unlink()
    (tmp_path / "cache" / "m2-ds.steps").unlink()
    assert run_one([second], FAKE_JOB) == 0
    assert (first / rundir.LOG).read_text() == before
    assert not (second / rundir.LOG).is_symlink()
    assert "fake job m2 on ds" in (second / rundir.LOG).read_text()
