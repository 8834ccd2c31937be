"""A run's state read from its directory alone, and finding a run by a prefix of its id."""

from __future__ import annotations

import json
import os
import subprocess
import sys
import time
from pathlib import Path

from lottery_tui.runs import rundir
from lottery_tui.runs.status import find_run, read_status


def _run(root: Path, name: str, **files: str) -> Path:
    run_dir = root / name
    run_dir.mkdir(parents=True)
    rundir.write_json(run_dir / rundir.LAUNCH, {"model": "m", "dataset": "d", "launched_at": 1.0})
    for file_name, text in files.items():
        (run_dir / file_name.replace("_", ".")).write_text(text)
    return run_dir


def _dead_pid() -> int:
    proc = subprocess.Popen([sys.executable, "-c", "pass"])
    proc.wait()
    return proc.pid


def test_states_follow_the_files(tmp_path: Path) -> None:
    progress = [
        {"t": 1, "event": "start", "done": 0, "total": 0},
        {"t": 2, "event": "progress", "done": 30, "total": 120, "images_per_s": 15.0, "eta_s": 6},
    ]
    events = "\n".join(json.dumps(e) for e in progress) + '\n{"t": 3, "event": "prog'
    assert read_status(_run(tmp_path, "q")).state == "queued"

    running = read_status(
        _run(tmp_path, "r", events_jsonl=events, job_pid=f"{rundir.hostname()} {os.getpid()}")
    )
    assert running.state == "running" and running.fraction == 0.25
    assert running.summary() == "30/120 images, 15 img/s, ETA 0:06"  # half line ignored

    vanished = read_status(_run(tmp_path, "v", job_pid=f"{rundir.hostname()} {_dead_pid()}"))
    assert vanished.state == "failed" and "gone without a result" in vanished.message
    elsewhere = read_status(_run(tmp_path, "e", job_pid=f"other-node {_dead_pid()}"))
    assert elsewhere.state == "running"  # another node's process cannot be checked from here

    failed = read_status(_run(tmp_path, "f", error_txt="CUDA out of memory\n\nTraceback"))
    assert failed.state == "failed" and failed.message == "CUDA out of memory"
    killed = _run(tmp_path, "k")
    rundir.record_exit(killed, -9)
    assert read_status(killed).message == "killed by SIGKILL without a result"

    result = {"run_id": "d", "model": "m", "dataset": "d", "n_images": 4, "n_skipped": 0}
    result |= {"top1": 71.25, "top5": None, "images_per_s": None, "config": {}, "shards": []}
    done = read_status(_run(tmp_path, "d", result_json=json.dumps(result), error_txt="old"))
    assert done.state == "done" and done.summary() == "top-1 71.25%" and done.fraction == 1.0
    assert read_status(_run(tmp_path, "c", cancelled="1", events_jsonl=events)).state == "cancelled"
    requeued = read_status(_run(tmp_path, "p", requeued="0\n1\n", events_jsonl=events))
    assert requeued.state == "queued" and requeued.message.endswith("(2x)")  # waits for Slurm


def test_find_run_by_prefix(tmp_path: Path) -> None:
    for name in (
        "dino--imagenet--aaaa1111",
        "dino--imagenet-sketch--bbbb2222",
        "swav--imagenet--c",
    ):
        _run(tmp_path, name)
    assert find_run(tmp_path, "dino--imagenet").run_id == "dino--imagenet--aaaa1111"
    assert find_run(tmp_path, "dino--imagenet-s").run_id == "dino--imagenet-sketch--bbbb2222"
    assert find_run(tmp_path, "dino") is None  # ambiguous
    assert find_run(tmp_path, "nothing") is None


def test_long_event_logs_give_the_first_start_and_the_latest_progress(tmp_path: Path) -> None:
    lines = [{"t": 100.0, "event": "start", "done": 0, "total": 0, "message": "x" * 300}]
    lines += [
        {"t": 100.0 + k, "event": "progress", "done": k, "total": 5000, "images_per_s": 9.0}
        for k in range(1, 5000)
    ]
    text = "\n".join(json.dumps(e) for e in lines) + "\n"
    run = read_status(_run(tmp_path, "long", events_jsonl=text))
    assert len(text) > 100_000  # longer than what is read
    assert run.progress.started_at == 100.0
    assert (run.progress.done, run.progress.total) == (4999, 5000)
    assert run.state == "running"


def test_a_run_waiting_for_its_group_says_so(tmp_path: Path) -> None:
    """A later group's run of a sweep: "0/64 images" alone looked stuck."""
    note = "waiting for its turn in the sweep (group 2 of 3)"
    events = [
        {"t": 1, "event": "start", "done": 0, "total": 0},
        {"t": 2, "event": "progress", "done": 0, "total": 64, "message": note},
    ]
    text = "\n".join(json.dumps(e) for e in events) + "\n"
    run = read_status(
        _run(tmp_path, "w", events_jsonl=text, job_pid=f"{rundir.hostname()} {os.getpid()}")
    )
    assert run.summary() == f"0/64 images, {note}"


def test_a_preempted_or_timed_out_slurm_task_is_not_ended_while_submitit_requeues_it(
    tmp_path: Path, monkeypatch
) -> None:
    """sacct says PREEMPTED/TIMEOUT between the stop and the requeue: the run stays queued; only
    with no sign of a restart for REQUEUE_GRACE_S is it failed (NODE_FAIL is failed at once)."""
    from lottery_tui.runs import slurm_jobs

    runs = {}
    for name, job in (("pre", "7_0"), ("tim", "7_1"), ("old", "7_2"), ("dead", "7_3")):
        run_dir = _run(tmp_path, name, events_jsonl='{"t": 1, "event": "start"}\n')
        rundir.write_json(
            run_dir / rundir.LAUNCH,
            {"model": "m", "dataset": "d", "executor": "slurm", "job_id": job, "launched_at": 1.0},
        )
        (run_dir / rundir.PID).write_text(f"node-7 {os.getpid()}\n")  # on a compute node
        runs[name] = run_dir
    old = 1.0e9  # a long time ago
    for name in (rundir.EVENTS, rundir.LAUNCH):
        os.utime(runs["old"] / name, (old, old))
    states = {"7_0": "PREEMPTED", "7_1": "TIMEOUT", "7_2": "TIMEOUT", "7_3": "NODE_FAIL"}
    monkeypatch.setattr(slurm_jobs, "slurm_states", lambda ids: states)
    after = {
        r.run_dir.name: r for r in slurm_jobs.reconcile([read_status(p) for p in runs.values()])
    }
    assert after["pre"].state == "running" and after["tim"].state == "running"
    assert after["old"].state == "failed" and after["old"].message == "Slurm ended the job: TIMEOUT"
    assert after["dead"].state == "failed"


def _beat(run_dir: Path, age_s: float) -> None:
    """A heartbeat last written `age_s` seconds ago (its file time set, no waiting)."""
    path = run_dir / rundir.HEARTBEAT
    path.write_text("other-node 4242 0\n")
    when = time.time() - age_s
    os.utime(path, (when, when))


def test_a_job_on_another_host_without_a_recent_heartbeat_is_lost(tmp_path: Path) -> None:
    pid = "other-node 4242"
    fresh = _run(tmp_path, "fresh", job_pid=pid)
    _beat(fresh, rundir.LOST_AFTER_S - 60)
    assert read_status(fresh).state == "running"

    stale = _run(tmp_path, "stale", job_pid=pid)
    _beat(stale, rundir.LOST_AFTER_S + 60)
    lost = read_status(stale)
    assert lost.state == "lost"
    assert lost.message == (
        "no heartbeat from other-node for 11:00 (node down?); launch the plan again to restart it"
    )
    assert lost.summary() == lost.message

    here = _run(tmp_path, "here", job_pid=f"{rundir.hostname()} {os.getpid()}")
    _beat(here, rundir.LOST_AFTER_S + 60)
    assert read_status(here).state == "running"  # alive on this host: its process says so

    older = _run(tmp_path, "older", job_pid=pid)  # launched before heartbeats: no judgement
    assert read_status(older).state == "running"

    _beat(stale, 0)  # the node came back (or the filesystem did)
    assert read_status(stale).state == "running"


def test_a_lost_run_is_started_again_by_the_next_launch(tmp_path: Path) -> None:
    from lottery_tui.runs.launch import _reason_to_skip

    stale = _run(tmp_path, "stale", job_pid="other-node 4242")
    _beat(stale, rundir.LOST_AFTER_S + 1)
    assert _reason_to_skip(stale) is None
    rundir.reset_for_retry(stale)
    assert not (stale / rundir.HEARTBEAT).exists() and not (stale / rundir.PID).exists()


def test_the_heartbeat_is_rewritten_while_the_job_runs(tmp_path: Path) -> None:
    from .helpers import wait_for

    dirs = [tmp_path / "a", tmp_path / "b"]
    for d in dirs:
        d.mkdir()
    with rundir.Heartbeat(dirs, every=0.01):
        first = [rundir.heartbeat_age(d) for d in dirs]
        assert all(age is not None and age < rundir.LOST_AFTER_S for age in first)
        for d in dirs:
            os.utime(d / rundir.HEARTBEAT, (0, 0))  # as if the last beat were long ago
        assert wait_for(lambda: all(rundir.heartbeat_age(d) < 60 for d in dirs))
    host, pid, _ = (dirs[0] / rundir.HEARTBEAT).read_text().split()
    assert (host, int(pid)) == (rundir.hostname(), os.getpid())
    for d in dirs:
        os.utime(d / rundir.HEARTBEAT, (0, 0))
    assert rundir.heartbeat_age(dirs[0]) > rundir.LOST_AFTER_S  # stopped: nothing rewrites it


def test_the_runs_view_shows_a_lost_run_with_its_reason(tmp_path: Path) -> None:
    from lottery_tui.tui.views.runs import STATE_STYLE, _row

    stale = _run(tmp_path, "m--d--1234abcd", job_pid="other-node 4242")
    _beat(stale, rundir.LOST_AFTER_S + 60)
    state, detail = _row(read_status(stale))[2:5:2]
    assert (state.plain, state.style) == ("lost", STATE_STYLE["lost"])
    assert detail.plain.startswith("no heartbeat from other-node for 11:00")
