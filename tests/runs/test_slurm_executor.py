"""The slurm executor's submitit path, run through submitit's LocalExecutor (real processes):
a job array over the plan, and a preempted task that requeues and resumes."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from lottery_tui.runs import rundir
from lottery_tui.runs.executors.slurm import REQUEUED, SlurmExecutor
from lottery_tui.runs.launch import launch_plan
from lottery_tui.runs.plan import load_plan
from lottery_tui.runs.status import read_status

from .helpers import FAKE_JOB, wait_for, write_fake_plan


def _parent_pid(pid: int) -> int:
    stat = Path(f"/proc/{pid}/stat").read_text()
    return int(stat.rsplit(")", 1)[1].split()[1])


def _starts(run_dir: Path) -> list[dict]:
    events = [json.loads(x) for x in (run_dir / rundir.EVENTS).read_text().splitlines()]
    return [json.loads(e["message"]) for e in events if e["event"] == "start"]


def test_job_array_runs_every_pair(tmp_path: Path, results_dir: Path) -> None:
    plan = load_plan(
        write_fake_plan(
            tmp_path, ["m1", "m2"], ["ds"], {"*": {"steps": 3}}, extra="", device="auto"
        )
    )
    executor = SlurmExecutor(results_dir, plan.slurm, FAKE_JOB, cluster="local")
    report = launch_plan(plan, executor, results_dir)
    assert len(report.handles) == 2 and all(report.handles)
    assert wait_for(lambda: all(read_status(p).state == "done" for p in report.launched), 60)
    for run_dir, handle in zip(report.launched, report.handles, strict=True):
        status = read_status(run_dir)
        assert status.executor == "slurm" and status.job_id == handle
        # gpus_per_job defaults to 1, so the job was told to use cuda.
        assert json.loads((run_dir / rundir.SPEC).read_text())["device"] == "cuda"


def test_a_preempted_task_requeues_and_resumes_from_its_cache(tmp_path: Path, results_dir: Path):
    plan = load_plan(write_fake_plan(tmp_path, ["m"], ["ds"], {"*": {"steps": 40, "delay": 0.05}}))
    executor = SlurmExecutor(results_dir, plan.slurm, FAKE_JOB, cluster="local")
    (run_dir,) = launch_plan(plan, executor, results_dir).launched
    assert wait_for(lambda: (read_status(run_dir).progress.done or 0) >= 5, 60)
    _, job_pid = rundir.read_pid(run_dir)
    task_pid = _parent_pid(job_pid)  # the submitit process running ProbeTask
    os.kill(task_pid, signal.SIGUSR2)  # what Slurm sends before preempting or timing out
    assert wait_for(lambda: read_status(run_dir).state == "done", 60)
    starts = _starts(run_dir)
    assert len(starts) == 2 and starts[1]["resumed_from"] >= 5
    assert (run_dir / REQUEUED).exists()
    assert wait_for(lambda: rundir.read_exit(run_dir) == 0, 10)
