"""Slurm executor through submitit: one job array over the plan's sweeps, one task per (dataset,
GPU share) running all of its models in one probe job process.

On preemption or time-out Slurm sends USR2; submitit calls `ProbeTask.checkpoint`, which stops the
job and requeues the same task. The requeued task runs the probe again on the same run
directories, and the probe engine resumes each run from its finished shards and feature cache.
`cluster="local"` runs the same tasks as local processes (submitit's LocalExecutor), which is how
the tests exercise this path.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import signal
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

import submitit

from lottery_tui.errors import LotteryError
from lottery_tui.runs import rundir
from lottery_tui.runs.executors.base import PROBE_JOB_COMMAND, Executor
from lottery_tui.runs.executors.jobproc import run_one, should_start
from lottery_tui.runs.plan import SlurmOptions
from lottery_tui.runs.status import describe_exit

SUBMITIT_DIR = ".submitit"


class ProbeTask(submitit.helpers.Checkpointable):
    """The callable submitit pickles: run the probe job of one sweep's run directories."""

    def __init__(self, job_command: Sequence[str]) -> None:
        self.job_command = tuple(job_command)
        self._proc: subprocess.Popen | None = None

    def __call__(self, run_dirs: list[str]) -> str:
        paths = [p for p in map(Path, run_dirs) if should_start(p)]
        if not paths:
            return "skipped"
        code = run_one(paths, self.job_command, on_start=self._started)
        self._proc = None
        if code != 0:
            log = paths[0] / rundir.LOG
            raise RuntimeError(f"probe job on {len(paths)} run(s) {describe_exit(code)}; see {log}")
        return "done"

    def _started(self, proc: subprocess.Popen) -> None:
        self._proc = proc

    def checkpoint(self, run_dirs: list[str]) -> submitit.helpers.DelayedSubmission:
        """Stop the running job (its shards and cache stay) and requeue this task."""
        if self._proc is not None:
            _stop_group(self._proc.pid)
        self._proc = None
        for path in map(Path, run_dirs):
            (path / rundir.PID).unlink(missing_ok=True)
            count = len(rundir.tail(path / rundir.REQUEUED, 1000)) + 1
            rundir.write_atomic(path / rundir.REQUEUED, "".join(f"{i}\n" for i in range(count)))
        return submitit.helpers.DelayedSubmission(ProbeTask(self.job_command), run_dirs)

    def __getstate__(self) -> dict:
        return {"job_command": self.job_command, "_proc": None}


class SlurmExecutor(Executor):
    name = "slurm"

    def __init__(
        self,
        results_dir: Path,
        options: SlurmOptions,
        job_command: Sequence[str] = PROBE_JOB_COMMAND,
        cluster: str = "slurm",
    ) -> None:
        super().__init__(job_command)
        self.results_dir = Path(results_dir)
        self.options = options
        self.cluster = cluster

    @property
    def device(self) -> str:
        return "cuda" if self.options.gpus_per_job > 0 else "cpu"

    def executor(self) -> submitit.AutoExecutor:
        missing = missing_slurm_tools() if self.cluster == "slurm" else []
        if missing:
            raise LotteryError(
                f"slurm executor: {' and '.join(missing)} not on PATH on this host; "
                "launch from a Slurm login node"
            )
        o = self.options
        # One folder, files named by job id: a `%j` folder pattern also left a literal `%j/`.
        folder = self.results_dir / SUBMITIT_DIR
        ex = submitit.AutoExecutor(
            folder=folder,
            cluster=self.cluster,
            slurm_max_num_timeout=o.max_requeues,
            local_max_num_timeout=o.max_requeues,
        )
        params: dict = {
            "name": "lottery-probe",
            "timeout_min": o.time_limit_min,
            "nodes": 1,
            "tasks_per_node": 1,
            "cpus_per_task": o.cpus_per_job,
            "gpus_per_node": o.gpus_per_job,
        }
        if o.mem_gb:
            params["mem_gb"] = o.mem_gb
        slurm_params = {
            "slurm_partition": o.partition,
            "slurm_account": o.account,
            "slurm_qos": o.qos,
            "slurm_constraint": o.constraint,
            "slurm_array_parallelism": o.max_parallel,
        }
        params.update({k: v for k, v in slurm_params.items() if v is not None})
        ex.update_parameters(**params)
        return ex

    def launch(self, sweeps: Sequence[list[Path]]) -> list[str | None]:
        if not sweeps:
            return []
        tasks = [[str(p) for p in sweep] for sweep in sweeps]
        jobs = self.executor().map_array(ProbeTask(self.job_command), tasks)
        return [job.job_id for job in jobs]


def missing_slurm_tools() -> list[str]:
    """The Slurm commands submitit needs that this host lacks."""
    return [tool for tool in ("sbatch", "srun") if shutil.which(tool) is None]


def _stop_group(pid: int, grace_s: float = 30.0) -> None:
    """SIGTERM the job's process group and reap it, SIGKILL after `grace_s`.

    Runs inside submitit's signal handler, which interrupted `Popen.wait` in the same thread:
    `Popen.wait` would deadlock on its own lock here, so this reaps with `os.waitpid`.
    """
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        try:
            if os.waitpid(pid, os.WNOHANG) != (0, 0):
                return
        except ChildProcessError:
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(ChildProcessError):
        os.waitpid(pid, 0)
