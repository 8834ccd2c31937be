"""The k-NN memory plan of each sweep, before anything starts (`lottery runs plan`, the launch).

Per sweep: each k-NN model's bank (train images x feature dimension x bytes per value), which
banks stay on the GPU within `knn_memory.KNN_DEVICE_BUDGET` and which are streamed from host
memory, and whether the banks (all built in host memory first) fit the host (Slurm `mem_gb`,
else this machine's memory).
The placement comes from `knn_memory.plan_banks`, the function the probe engine calls, so the
printed plan is the one the job follows. Reading a checkpoint's architecture needs torch, so the
caller passes that in (`KnnDim`: `probe.model_checks.knn_feature_dim`) and `runs/` loads no torch.
"""

from __future__ import annotations

import os
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from pathlib import Path

from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.knn_memory import GIB, BankPlan, plan_banks
from lottery_tui.runs.plan import Plan

KnnDim = Callable[[str, str, "str | None"], int]  # (checkpoint, framework, arch) -> feature dim


@dataclass(frozen=True)
class SweepMemory:
    dataset: str
    runs: int
    banks: BankPlan
    host_memory: int | None  # bytes the sweep's host may use (None: unknown)

    @property
    def bank_bytes(self) -> int:
        return self.banks.host_bytes + self.banks.device_bytes

    @property
    def over_host(self) -> bool:
        """The banks (all built in host memory first) exceed what the host may use."""
        return self.host_memory is not None and self.bank_bytes > self.host_memory

    def lines(self) -> list[str]:
        head = f"sweep {self.dataset} ({self.runs} run(s)): {self.banks.describe()}"
        lines = [head, *(f"  {line}" for line in self.banks.details())]
        if self.over_host and self.host_memory is not None:
            lines.append(
                f"  warning: the banks need {self.bank_bytes / GIB:.1f} GiB of host memory, "
                f"more than the {self.host_memory / GIB:.1f} GiB available; "
                "split the k-NN models over several plans or give the jobs more memory"
            )
        return lines


def sweep_memory(
    sweeps: Sequence[Sequence[JobSpec]], host_memory: int | None, knn_dim: KnnDim
) -> list[SweepMemory]:
    """The memory plan of every sweep holding a k-NN model, in launch order."""
    plans = []
    images: dict[tuple, int] = {}  # each train folder listed once, each checkpoint read once
    dims: dict[tuple, int] = {}
    for sweep in sweeps:
        knn = [spec for spec in sweep if spec.head == "knn"]
        if not knn:
            continue
        banks = []
        for s in knn:
            folder = (s.head_path, s.allow_subset)
            if folder not in images:
                images[folder] = _train_images(*folder)
            model = (s.checkpoint, s.framework, s.arch)
            if model not in dims:
                dims[model] = knn_dim(*model)
            banks.append((s.model, images[folder], dims[model]))
        placed = plan_banks(banks, knn[0].device.split(":")[0])
        plans.append(SweepMemory(knn[0].dataset, len(sweep), placed, host_memory))
    return plans


def host_memory(executor: str, plan: Plan) -> int | None:
    """What a job's host may hold: the Slurm task's `mem_gb`, else this machine's memory."""
    if executor == "slurm":
        return None if plan.slurm.mem_gb is None else plan.slurm.mem_gb * GIB
    try:
        return os.sysconf("SC_PHYS_PAGES") * os.sysconf("SC_PAGE_SIZE")
    except (ValueError, OSError):
        return None


def launched_lines(
    sweeps: Sequence[Sequence[Path]], executor: str, plan: Plan, knn_dim: KnnDim
) -> list[str]:
    """The memory plan of the sweeps a launch started (read back from their `spec.json`)."""
    specs = [[JobSpec.read(run_dir) for run_dir in sweep] for sweep in sweeps]
    memories = sweep_memory(specs, host_memory(executor, plan), knn_dim)
    return [line for memory in memories for line in memory.lines()]


def _train_images(path: str | None, allow_subset: bool) -> int:
    from lottery_tui.probe.datasets import list_train_folder

    return len(list_train_folder(Path(path or ""), allow_subset=allow_subset).items)
