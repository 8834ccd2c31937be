"""Checks of a parsed plan against the world: checkpoints and their layouts, dataset folders,
devices, the chosen executor.

Every problem is collected (with the plan line it comes from) so `lottery probe --plan` reports
them all before a single job starts. Dataset folders are listed with the probe engine's own rules;
checkpoint layouts need torch, so that check is passed in (`ModelFileCheck`,
`lottery_tui.probe.model_checks.check_model_files`) by the callers that may import torch (the
CLI, and the subprocess the TUI launches plans through): nothing here loads torch.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Protocol

from lottery_tui.runs.executors import submitit_cluster
from lottery_tui.runs.plan import DatasetEntry, ModelEntry, Plan, PlanProblem


class ModelFileCheck(Protocol):
    """The torch-side check of an existing checkpoint and its head: (plan key, message) for
    each problem."""

    def __call__(
        self,
        checkpoint: Path,
        framework: str,
        arch: str | None,
        head_kind: str,
        head_path: Path | None,
    ) -> list[tuple[str, str]]: ...


def check_plan(
    plan: Plan,
    executor: str,
    results_dir: Path,
    *,
    gpus: list[str],
    file_checks: ModelFileCheck | None,
) -> list[PlanProblem]:
    """Everything that would make a job of `plan` fail before doing any work; `file_checks`
    (None: files only checked to exist) loads each checkpoint to check its layout."""
    problems: list[PlanProblem] = []
    for model in plan.models:
        problems += check_model(model, file_checks)
    for model in plan.models:
        problems += _check_train_folder(model, plan.defaults.allow_subset)
    for dataset in plan.datasets:
        problems += _check_dataset(dataset, plan.defaults.allow_subset)
    if executor == "local" and plan.defaults.device.startswith("cuda") and not gpus:
        problems.append(
            PlanProblem(
                "device is cuda but this host has no visible GPU (nvidia-smi, "
                "CUDA_VISIBLE_DEVICES); use device = auto or cpu",
                column="device",
            )
        )
    if executor == "slurm" and submitit_cluster() == "slurm":
        from lottery_tui.runs.executors.slurm import missing_slurm_tools

        missing = missing_slurm_tools()
        if missing:
            problems.append(
                PlanProblem(
                    f"executor slurm: {' and '.join(missing)} not on PATH here; launch from a "
                    "Slurm login node, or use --executor local"
                )
            )
    problems += _check_writable(results_dir, "results folder")
    if plan.defaults.feature_cache is not None:
        problems += _check_writable(plan.defaults.feature_cache, "feature_cache")
    return problems


def check_model(model: ModelEntry, file_checks: ModelFileCheck | None) -> list[PlanProblem]:
    """A model's files: checkpoint and head exist; with `file_checks`, the checkpoint matches
    its layout and the head file holds a classifier for its features."""
    problems = _check_files(model)
    if file_checks is not None and model.checkpoint.is_file():
        problems += _check_checkpoint(model, file_checks)
    return problems


def check_store_names(plan: Plan, db: Path | str | None, results_dir: Path) -> list[PlanProblem]:
    """Model names the store already holds from an import, or from a probe run of another
    checkpoint, head or configuration: such a run would finish and never be ingested, or
    replace the other model's predictions. A store another process holds for writing is not
    checked here (ingest still is)."""
    from lottery_tui.errors import InputError, LotteryError
    from lottery_tui.probe.ingest import check_model_identity, check_model_name
    from lottery_tui.runs.launch import build_spec
    from lottery_tui.store.connection import connect
    from lottery_tui.store.paths import resolve_db_path

    if not resolve_db_path(db).exists():  # no store yet: nothing to clash with (and none made)
        return []
    try:
        con = connect(db, read_only=True, retry_seconds=1.0)
    except LotteryError:  # locked by a writer: ingest checks again
        return []
    problems = []
    try:
        for model in plan.models:
            try:
                check_model_name(con, model.name)
                if plan.datasets:  # the identity is the same whichever dataset
                    spec = build_spec(plan, model, plan.datasets[0], results_dir, "cpu")
                    check_model_identity(con, model.name, spec.model_identity())
            except InputError as exc:
                problems.append(PlanProblem(str(exc), model.line_of("name"), "name"))
    finally:
        con.close()
    return problems


def _check_files(model: ModelEntry) -> list[PlanProblem]:
    problems = []
    where = f"model {model.name!r}"
    if not model.checkpoint.is_file():
        problems.append(
            PlanProblem(
                f"{where}: checkpoint {model.checkpoint} does not exist",
                model.line_of("checkpoint"),
                "checkpoint",
            )
        )
    head = model.head
    if head.kind == "linear" and head.path is not None and not head.path.is_file():
        problems.append(
            PlanProblem(
                f"{where}: head file {head.path} does not exist", model.line_of("head"), "head"
            )
        )
    if head.kind in ("train", "knn") and head.path is not None and not head.path.is_dir():
        problems.append(
            PlanProblem(
                f"{where}: {head.kind} head needs an ImageNet train folder; "
                f"{head.path} is not a folder",
                model.line_of("head"),
                "head",
            )
        )
    return problems


def _check_checkpoint(model: ModelEntry, file_checks: ModelFileCheck) -> list[PlanProblem]:
    head = model.head
    found = file_checks(model.checkpoint, model.framework, model.arch, head.kind, head.path)
    return [PlanProblem(f"model {model.name!r}: {m}", model.line_of(k), k) for k, m in found]


def _check_dataset(dataset: DatasetEntry, allow_subset: bool) -> list[PlanProblem]:
    from lottery_tui.errors import InputError
    from lottery_tui.probe.datasets import list_dataset

    try:
        list_dataset(dataset.id, dataset.path, allow_subset=allow_subset)
    except InputError as exc:
        return [PlanProblem(f"dataset {dataset.id!r}: {exc}", dataset.line_of("path"), "path")]
    return []


def _check_train_folder(model: ModelEntry, allow_subset: bool) -> list[PlanProblem]:
    """A `train:`/`knn:` head's folder listed as the job will list it (its layout, classes)."""
    from lottery_tui.errors import InputError
    from lottery_tui.probe.datasets import list_train_folder

    head = model.head
    if head.kind not in ("train", "knn") or head.path is None or not head.path.is_dir():
        return []  # a missing folder is already a problem of its own
    try:
        list_train_folder(head.path, allow_subset=allow_subset)
    except InputError as exc:
        return [PlanProblem(f"model {model.name!r}: {exc}", model.line_of("head"), "head")]
    return []


def _check_writable(folder: Path, what: str) -> list[PlanProblem]:
    probe = folder
    while not probe.exists() and probe.parent != probe:
        probe = probe.parent
    if not os.access(probe, os.W_OK):
        return [PlanProblem(f"{what} {folder} is not writable")]
    return []
