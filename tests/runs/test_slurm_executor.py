"""The slurm executor's submitit path, run through submitit's LocalExecutor (real processes):
a job array over the plan, and a preempted task that requeues and resumes."""

from __future__ import annotations

import json
import os
import shutil
import signal
from pathlib import Path

import pytest

from lottery_tui.runs import rundir
from lottery_tui.runs.executors.slurm import SlurmExecutor
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
    # One dataset: one sweep, so one array task runs both models in one job process.
    assert report.handles[0] == report.handles[1] and len(report.sweeps) == 1
    assert wait_for(lambda: all(read_status(p).state == "done" for p in report.launched), 60)
    assert not any("%j" in p.name for p in (results_dir / ".submitit").rglob("*"))
    assert _starts(report.launched[0])[0]["pid"] == _starts(report.launched[1])[0]["pid"]
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
    assert (run_dir / rundir.REQUEUED).exists()
    assert wait_for(lambda: rundir.read_exit(run_dir) == 0, 10)


@pytest.mark.torch  # the CLI checks the tiny plan's real checkpoints
def test_cli_submits_one_sbatch_array_with_the_plan_options(
    tmp_path: Path, store: Path, monkeypatch, capsys
) -> None:
    """The real Slurm path up to `sbatch`, with stand-in sbatch/scancel (and srun, which submitit
    looks for) that record their input."""
    from lottery_tui.cli.main import main
    from lottery_tui.runs.status import scan_runs

    from .tiny_probe import write_tiny_probe_plan

    bin_dir, record = tmp_path / "bin", tmp_path / "record"
    bin_dir.mkdir()
    record.mkdir()
    (bin_dir / "sbatch").write_text(
        f'#!/bin/sh\ncp "$1" {record}/script.sh\necho "Submitted batch job 4242"\n'
    )
    (bin_dir / "scancel").write_text(f'#!/bin/sh\necho "$@" >> {record}/scancel.log\n')
    (bin_dir / "srun").write_text("#!/bin/sh\nexit 1\n")  # submitit looks for it; never run
    for tool in ("sbatch", "scancel", "srun"):
        (bin_dir / tool).chmod(0o755)
    monkeypatch.setenv("PATH", f"{bin_dir}{os.pathsep}{os.environ['PATH']}")
    monkeypatch.delenv("LOTTERY_SUBMITIT_CLUSTER", raising=False)
    plan = write_tiny_probe_plan(tmp_path / "plan", n_images=2, models=("tiny-a",))
    shutil.copytree(tmp_path / "plan" / "val", tmp_path / "plan" / "v2" / "0")  # a second dataset
    plan.write_text(
        plan.read_text().replace('device = "cpu"', 'device = "auto"')
        + '\n[[datasets]]\nid = "imagenetv2-matched-frequency"\npath = "v2"\n'
        + '\n[slurm]\npartition = "gpu"\naccount = "lab"\ntime_limit = "01:30:00"\n'
        "gpus_per_job = 1\ncpus_per_job = 6\nmem_gb = 32\nmax_parallel = 2\n"
    )
    results = tmp_path / "results"
    where = ["--results-dir", str(results), "--db", str(store)]
    assert main(["probe", "--plan", str(plan), "--executor", "slurm", *where]) == 0
    assert "[4242_0]" in capsys.readouterr().out

    script = (record / "script.sh").read_text()
    for line in (
        "#SBATCH --array=0-1%2",  # one sweep (task) per dataset; max_parallel only throttles
        "#SBATCH --partition=gpu",
        "#SBATCH --account=lab",
        "#SBATCH --time=90",
        "#SBATCH --gpus-per-node=1",
        "#SBATCH --cpus-per-task=6",
        "#SBATCH --mem=32GB",
        "#SBATCH --job-name=lottery-probe",
    ):
        assert line in script.splitlines(), (line, script)
    runs = scan_runs(results)
    assert sorted(r.job_id for r in runs) == ["4242_0", "4242_1"]
    assert {r.state for r in runs} == {"queued"}
    # device auto with gpus_per_job = 1: the jobs are told to use cuda.
    assert {json.loads((r.run_dir / rundir.SPEC).read_text())["device"] for r in runs} == {"cuda"}

    first = next(r for r in runs if r.job_id == "4242_0")
    assert main(["runs", "cancel", first.run_id, *where]) == 0
    assert "scancel 4242_0" in capsys.readouterr().out
    assert (record / "scancel.log").read_text().split() == ["4242_0"]
    assert read_status(first.run_dir).state == "cancelled"

    # The other task's node dies: Slurm says so, the login node learns it from sacct...
    second = next(r for r in runs if r.job_id == "4242_1")
    (bin_dir / "sacct").write_text(
        "#!/bin/sh\necho '4242_0|CANCELLED by 0'\necho '4242_1|NODE_FAIL'\n"
    )
    (bin_dir / "sacct").chmod(0o755)
    assert main(["runs", "list", "--json", *where]) == 0
    rows = {row["job_id"]: row for row in map(json.loads, capsys.readouterr().out.splitlines())}
    assert rows["4242_1"]["state"] == "failed"
    assert rows["4242_1"]["message"] == "Slurm ended the job: NODE_FAIL"
    assert rows["4242_0"]["state"] == "cancelled"
    # ... and launching the plan again submits the failed run (and the cancelled one) again.
    assert main(["probe", "--plan", str(plan), "--executor", "slurm", *where]) == 0
    assert "launched 2 run(s)" in capsys.readouterr().out
    assert {read_status(r.run_dir).state for r in runs} == {"queued"}
    assert read_status(second.run_dir).job_id == "4242_1"


def test_max_parallel_only_throttles_the_task_count_follows_the_sweeps(tmp_path: Path) -> None:
    """One dataset, 3 models, max_parallel = 3: one task decoding the dataset once for all three
    (not three one-model tasks each decoding it)."""
    from lottery_tui.runs.executors import make_executor
    from lottery_tui.runs.launch import build_spec, sweeps_for
    from lottery_tui.runs.plan import load_plan

    plan = write_fake_plan(tmp_path / "plan", ["a", "b", "c"], ["imagenet-r"])
    plan.write_text(plan.read_text() + "\n[slurm]\nmax_parallel = 3\n")
    loaded = load_plan(plan)
    executor = make_executor("slurm", loaded, tmp_path / "results")
    specs = {
        tmp_path / m.name: build_spec(loaded, m, d, tmp_path / "results", "cpu")
        for m, d in loaded.pairs()
    }
    assert len(sweeps_for(specs, executor.slots)) == 1
