"""The local executor with real detached processes (the stand-in job): parallel lanes, kill and
resume, failures kept with their log, cancel."""

from __future__ import annotations

import json
import os
import signal
from pathlib import Path

from lottery_tui.runs import rundir
from lottery_tui.runs.executors.base import cancel_run
from lottery_tui.runs.executors.local import LocalExecutor, visible_gpus
from lottery_tui.runs.launch import launch_plan
from lottery_tui.runs.plan import load_plan
from lottery_tui.runs.status import read_status, scan_runs

from .helpers import FAKE_JOB, wait_for, write_fake_plan


def _start_info(run_dir: Path) -> dict:
    events = [json.loads(line) for line in (run_dir / rundir.EVENTS).read_text().splitlines()]
    starts = [e for e in events if e["event"] == "start"]
    return {**json.loads(starts[-1]["message"]), "t": starts[-1]["t"], "starts": len(starts)}


def _finished_at(run_dir: Path) -> float:
    return json.loads((run_dir / rundir.RESULT).read_text())["config"]["finished"]


def test_visible_gpus_follow_cuda_visible_devices(monkeypatch) -> None:
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "2,5")
    assert visible_gpus() == ["2", "5"]
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "")
    assert visible_gpus() == []
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "-1")
    assert visible_gpus() == []


def test_two_gpus_run_two_jobs_at_once_each_on_its_own_gpu(tmp_path: Path, results_dir: Path):
    plan = load_plan(
        write_fake_plan(
            tmp_path, ["m1", "m2"], ["ds"], {"*": {"steps": 8, "delay": 0.1}}, device="auto"
        )
    )
    executor = LocalExecutor(results_dir, FAKE_JOB, gpus=["0", "1"])
    assert executor.device == "cuda"
    report = launch_plan(plan, executor, results_dir)
    assert len(report.launched) == 2
    assert wait_for(lambda: all(r.state == "done" for r in scan_runs(results_dir)), 30)
    a, b = report.launched
    info_a, info_b = _start_info(a), _start_info(b)
    assert {info_a["gpu"], info_b["gpu"]} == {"0", "1"}
    # Each started before the other finished: they ran at the same time.
    assert info_a["t"] < _finished_at(b) and info_b["t"] < _finished_at(a)
    spec = json.loads((a / rundir.SPEC).read_text())
    assert spec["device"] == "cuda" and spec["run_id"] == a.name


def test_cpu_lane_runs_jobs_one_after_another(tmp_path: Path, results_dir: Path):
    plan = load_plan(write_fake_plan(tmp_path, ["m1"], ["d1", "d2"], {"*": {"steps": 3}}))
    executor = LocalExecutor(results_dir, FAKE_JOB, gpus=[])
    report = launch_plan(plan, executor, results_dir)
    assert wait_for(lambda: all(r.state == "done" for r in scan_runs(results_dir)), 30)
    first, second = sorted(report.launched, key=lambda p: _start_info(p)["t"])
    assert _finished_at(first) <= _start_info(second)["t"]
    assert json.loads((first / rundir.SPEC).read_text())["device"] == "cpu"


def test_a_killed_job_is_failed_then_resumes_when_the_plan_is_launched_again(
    tmp_path: Path, results_dir: Path
):
    plan = load_plan(write_fake_plan(tmp_path, ["m"], ["ds"], {"*": {"steps": 40, "delay": 0.05}}))
    executor = LocalExecutor(results_dir, FAKE_JOB, gpus=[])
    (run_dir,) = launch_plan(plan, executor, results_dir).launched
    assert wait_for(lambda: (read_status(run_dir).progress.done or 0) >= 5, 30)
    _, pid = rundir.read_pid(run_dir)
    os.killpg(pid, signal.SIGKILL)
    # Failed as soon as the process is gone; the reason once the lane has recorded its status.
    assert wait_for(lambda: read_status(run_dir).state == "failed", 10)
    assert wait_for(lambda: "killed by SIGKILL" in read_status(run_dir).message, 10)

    again = launch_plan(plan, executor, results_dir)
    assert again.launched == [run_dir]  # same directory: resumes in place
    assert wait_for(lambda: read_status(run_dir).state == "done", 30)
    info = _start_info(run_dir)
    assert info["starts"] == 2 and info["resumed_from"] >= 5

    third = launch_plan(plan, executor, results_dir)
    assert third.launched == [] and third.skipped == [(run_dir, "already done")]


def test_a_failing_job_is_reported_with_the_tail_of_its_log(tmp_path: Path, results_dir: Path):
    rules = {"bad": {"steps": 5, "fail": True, "fail_at": 2}, "good": {"steps": 2}}
    plan = load_plan(write_fake_plan(tmp_path, ["bad", "good"], ["ds"], rules))
    launch_plan(plan, LocalExecutor(results_dir, FAKE_JOB, gpus=[]), results_dir)
    assert wait_for(lambda: {r.state for r in scan_runs(results_dir)} == {"failed", "done"}, 30)
    bad = next(r for r in scan_runs(results_dir) if r.model == "bad")
    assert bad.state == "failed" and bad.message == "RuntimeError: fake failure"
    assert "something broke in the data loader" in "\n".join(rundir.tail(bad.run_dir / rundir.LOG))
    assert wait_for(lambda: rundir.read_exit(bad.run_dir) == 1, 10)
    assert not (bad.run_dir / rundir.RESULT).exists()


def test_cancel_stops_a_running_job_and_keeps_queued_ones_from_starting(
    tmp_path: Path, results_dir: Path
):
    plan = load_plan(
        write_fake_plan(tmp_path, ["m"], ["d1", "d2"], {"*": {"steps": 200, "delay": 0.05}})
    )
    report = launch_plan(plan, LocalExecutor(results_dir, FAKE_JOB, gpus=[]), results_dir)
    assert wait_for(lambda: any(read_status(p).state == "running" for p in report.launched), 30)
    running = next(read_status(p) for p in report.launched if read_status(p).state == "running")
    queued = next(read_status(p) for p in report.launched if p != running.run_dir)
    assert queued.state == "queued"
    cancel_run(queued)
    what = cancel_run(running)
    assert "stopped process group" in what
    assert wait_for(lambda: all(read_status(p).state == "cancelled" for p in report.launched), 15)
    _, pid = rundir.read_pid(running.run_dir)
    assert wait_for(lambda: not _alive(pid), 10)
    assert not (queued.run_dir / rundir.LOG).exists()  # never started


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_jobs_survive_the_hangup_of_the_session_that_launched_them(
    tmp_path: Path, results_dir: Path
):
    """An SSH drop hangs up the login shell's whole process group; the lanes are elsewhere, so
    the running job finishes and the lane goes on to start the queued one."""
    import subprocess
    import sys

    plan_path = write_fake_plan(tmp_path, ["m1", "m2"], ["ds"], {"*": {"steps": 30, "delay": 0.05}})
    launcher = (
        "import sys, time; from pathlib import Path\n"
        "from lottery_tui.runs.executors.local import LocalExecutor\n"
        "from lottery_tui.runs.launch import launch_plan\n"
        "from lottery_tui.runs.plan import load_plan\n"
        f"results = Path({str(results_dir)!r})\n"
        f"launch_plan(load_plan({str(plan_path)!r}), LocalExecutor(results, {FAKE_JOB!r}, gpus=[]),"
        " results)\n"
        "print('launched', flush=True); time.sleep(60)\n"
    )
    session = subprocess.Popen(
        [sys.executable, "-c", launcher], stdout=subprocess.PIPE, start_new_session=True
    )
    assert session.stdout.readline() == b"launched\n"
    assert wait_for(lambda: "running" in {r.state for r in scan_runs(results_dir)}, 30)
    os.killpg(session.pid, signal.SIGHUP)  # the terminal's session goes away
    session.wait(timeout=10)
    assert wait_for(lambda: [r.state for r in scan_runs(results_dir)] == ["done", "done"], 30)
