"""From a validated plan to launched jobs: a run directory per (model, dataset), then the executor.

The runs to start go to the executor as sweeps: one per dataset (and device), holding every model
of the plan on it, ordered by preprocessing group, so the job process decodes each image once per
group for all of them (`lottery_tui.probe.engine.run_sweep`). Where the executor has more slots
(GPUs, array tasks) than datasets, the largest sweeps are split into shares.

A run's id is derived from what determines its predictions (model, checkpoint, head, dataset,
preprocessing options), so launching the same plan again finds the same directories: finished runs
are skipped, running or queued ones left alone, and failed, cancelled or killed ones started again
in place, where the probe engine resumes from their shards and feature cache.
"""

from __future__ import annotations

import hashlib
import json
import re
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

from lottery_tui.probe.contract import (
    JobSpec,
    default_batch_size,
    default_num_workers,
    write_spec,
)
from lottery_tui.probe.pipelines import preprocessing_for
from lottery_tui.runs import rundir
from lottery_tui.runs.executors.base import Executor
from lottery_tui.runs.plan import DatasetEntry, ModelEntry, Plan
from lottery_tui.runs.status import read_status

FEATURE_CACHE_DIR = "feature-cache"
FOREGROUND = "foreground"  # the executor of `lottery probe` without a plan (a one-model plan)
# Spec fields that do not change predictions, so changing them keeps the same run directory.
_NOT_IDENTITY = ("run_id", "device", "batch_size", "num_workers")


@dataclass
class LaunchReport:
    launched: list[Path] = field(default_factory=list)
    skipped: list[tuple[Path, str]] = field(default_factory=list)
    handles: list[str | None] = field(default_factory=list)
    sweeps: list[list[Path]] = field(default_factory=list)


def build_spec(
    plan: Plan,
    model: ModelEntry,
    dataset: DatasetEntry,
    results_dir: Path,
    device: str,
    cpus: int | None = None,
) -> JobSpec:
    """The probe engine's spec for one job (its run id derived from the rest): the one place a
    spec is built, for a plan and for the foreground `lottery probe` (a one-model plan). Batch
    size and workers the plan leaves open follow `device` (and the job's `cpus`)."""
    d = plan.defaults
    cache = d.feature_cache or results_dir / FEATURE_CACHE_DIR
    # Resolved paths: `plans/../data/train` and `data/train` are one experiment, one run id.
    spec = JobSpec(
        run_id="",
        model=model.name,
        framework=model.framework,
        checkpoint=str(model.checkpoint.resolve()),
        dataset=dataset.id,
        dataset_path=str(dataset.path.resolve()),
        cache_dir=str(Path(cache).resolve()),
        head=model.head.kind,
        head_path=None if model.head.path is None else str(model.head.path.resolve()),
        arch=model.arch,
        device=device,
        batch_size=model.batch_size or d.batch_size or default_batch_size(device),
        num_workers=default_num_workers(device, cpus) if d.num_workers is None else d.num_workers,
        precision=model.precision or d.precision,
        image_size=d.image_size,
        allow_subset=d.allow_subset,
        chunk_size=d.chunk_size,
        head_epochs=d.head_epochs,
        decoder=d.decoder,
        head_solver=d.head_solver,
    )
    spec.run_id = run_id_for(spec)
    return spec


def run_id_for(spec: JobSpec) -> str:
    identity = {k: v for k, v in asdict(spec).items() if k not in _NOT_IDENTITY}
    if identity["decoder"] == "pil":  # the default: run ids from before the choice stay valid
        del identity["decoder"]
    if spec.head != "train":  # only a trained head has a solver: other run ids stay valid
        del identity["head_solver"]
    digest = hashlib.sha256(json.dumps(identity, sort_keys=True).encode()).hexdigest()[:8]
    slug = re.sub(r"[^A-Za-z0-9._-]+", "_", f"{spec.model}--{spec.dataset}")
    return f"{slug}--{digest}"


def resolve_device(plan_device: str, executor: Executor) -> str:
    return executor.device if plan_device == "auto" else plan_device


def launch_plan(plan: Plan, executor: Executor, results_dir: Path) -> LaunchReport:
    """Prepare every run directory of `plan`, then hand the ones to start to `executor`."""
    results_dir.mkdir(parents=True, exist_ok=True)
    device = resolve_device(plan.defaults.device, executor)
    report = LaunchReport()
    specs: dict[Path, JobSpec] = {}
    cpus = plan.slurm.cpus_per_job if executor.name == "slurm" else None  # else this host's
    for model, dataset in plan.pairs():
        spec = build_spec(plan, model, dataset, results_dir, device, cpus)
        run_dir = results_dir / spec.run_id
        reason = _reason_to_skip(run_dir)
        if reason is not None:
            report.skipped.append((run_dir, reason))
            continue
        specs[run_dir] = spec
    report.sweeps = sweeps_for(specs, executor.slots)
    for sweep in report.sweeps:
        ids = [p.name for p in sweep]
        for run_dir in sweep:
            rundir.reset_for_retry(run_dir)
            write_spec(run_dir, specs[run_dir])
            record = _launch_record(plan, specs[run_dir], executor.name)
            rundir.write_json(run_dir / rundir.LAUNCH, {**record, "sweep": ids})
            report.launched.append(run_dir)
    try:
        handles = executor.launch(report.sweeps)
    except BaseException:
        # Leave no run that looks queued forever: those not started (no job recorded; the
        # foreground executor raises after starting some) lose their launch record.
        for run_dir in report.launched:
            if not (run_dir / rundir.PID).exists():
                (run_dir / rundir.LAUNCH).unlink(missing_ok=True)
        raise
    for sweep, handle in zip(report.sweeps, handles, strict=True):
        for run_dir in sweep:
            record = rundir.read_json(run_dir / rundir.LAUNCH) or {}
            rundir.write_json(run_dir / rundir.LAUNCH, {**record, "job_id": handle})
            report.handles.append(handle)
    return report


def sweeps_for(specs: dict[Path, JobSpec], slots: int | None) -> list[list[Path]]:
    """The run directories grouped into sweeps: one per (dataset, device, input settings), each
    ordered by preprocessing group; while there are fewer sweeps than `slots`, the largest one
    is split in two (between preprocessing groups where it can be)."""
    groups: dict[tuple, list[Path]] = {}
    for run_dir, spec in specs.items():
        key = (
            spec.dataset,
            spec.dataset_path,
            spec.device,
            spec.num_workers,
            spec.allow_subset,
            spec.chunk_size,
        )
        groups.setdefault(key, []).append(run_dir)
    sweeps = [sorted(runs, key=lambda p: _geometry(specs[p])) for runs in groups.values()]
    while slots is not None and sweeps and len(sweeps) < slots:
        largest = max(sweeps, key=len)
        if len(largest) < 2:
            break
        sweeps.remove(largest)
        sweeps += _halves(largest, [_geometry(specs[p]) for p in largest])
    return sweeps


def _geometry(spec: JobSpec) -> tuple:
    return preprocessing_for(spec.framework, spec.image_size, spec.decoder).geometry


def _halves(runs: list[Path], groups: list[tuple]) -> list[list[Path]]:
    """Two shares of a sweep, cut at the preprocessing-group boundary nearest the middle."""
    cuts = [i for i in range(1, len(runs)) if groups[i] != groups[i - 1]] or [len(runs) // 2]
    cut = min(cuts, key=lambda i: abs(i - len(runs) / 2))
    return [runs[:cut], runs[cut:]]


def _reason_to_skip(run_dir: Path) -> str | None:
    if not (run_dir / rundir.LAUNCH).exists():
        return None
    state = read_status(run_dir).state
    if state == "done":
        return "already done"
    if state in ("queued", "running"):
        return f"already {state}"
    return None


def _launch_record(plan: Plan, spec: JobSpec, executor: str) -> dict:
    return {
        "run_id": spec.run_id,
        "model": spec.model,
        "framework": spec.framework,
        "dataset": spec.dataset,
        "head": spec.head if spec.head_path is None else f"{spec.head}:{spec.head_path}",
        "executor": executor,
        "plan": None if executor == FOREGROUND else str(plan.path),
        "host": rundir.hostname(),
        "launched_at": time.time(),
        "job_id": None,
    }


def refuse_running(run_dir: Path) -> None:
    """A foreground `lottery probe` does not compute a run another job is computing (a plan's
    lane, a Slurm task)."""
    from lottery_tui.errors import InputError

    if not (run_dir / rundir.LAUNCH).exists():
        return
    status = read_status(run_dir)
    if status.state in ("queued", "running"):
        raise InputError(
            f"run {run_dir.name} is already {status.state} with the {status.executor} "
            f"executor; follow it with `lottery runs logs {run_dir.name}` or cancel it first"
        )
