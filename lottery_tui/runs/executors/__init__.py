"""Executors: how run directories become running probe jobs (local processes or Slurm jobs)."""

from __future__ import annotations

import os
from collections.abc import Sequence
from pathlib import Path

from lottery_tui.runs.executors.base import PROBE_JOB_COMMAND, Executor
from lottery_tui.runs.plan import Plan

# `local` sends the slurm executor's job array through submitit's LocalExecutor: the same path
# as on a cluster, runnable on a workstation (and in tests).
SUBMITIT_CLUSTER_ENV = "LOTTERY_SUBMITIT_CLUSTER"


def submitit_cluster() -> str:
    return os.environ.get(SUBMITIT_CLUSTER_ENV) or "slurm"


def make_executor(
    name: str,
    plan: Plan,
    results_dir: Path,
    job_command: Sequence[str] = PROBE_JOB_COMMAND,
    gpus: Sequence[str] | None = None,
) -> Executor:
    """The executor called `name` ("local" or "slurm") configured from the plan."""
    if name == "slurm":
        from lottery_tui.runs.executors.slurm import SlurmExecutor

        return SlurmExecutor(results_dir, plan.slurm, job_command, cluster=submitit_cluster())
    from lottery_tui.runs.executors.local import LocalExecutor

    return LocalExecutor(results_dir, job_command, gpus=gpus)
