"""`lottery probe --plan FILE [--executor local|slurm]`: validate a whole plan, launch, return.

The probe command's parser delegates here. Nothing starts unless the entire plan is valid; jobs
are detached, so this returns as soon as they are queued. The TUI, which never imports torch, runs
the same thing as `python -m lottery_tui.runs.plan_command PLAN [--models A,B] [--datasets X,Y]`.
"""

from __future__ import annotations

import argparse
import sys
from dataclasses import replace

from lottery_tui.errors import LotteryError
from lottery_tui.runs.executors import make_executor
from lottery_tui.runs.launch import LaunchReport, launch_plan
from lottery_tui.runs.locations import resolve_results_dir
from lottery_tui.runs.memory_plan import KnnDim, launched_lines
from lottery_tui.runs.plan import Plan, PlanError, load_plan
from lottery_tui.runs.plan_checks import ModelFileCheck, check_plan, check_store_names
from lottery_tui.runs.slurm_jobs import reconcile
from lottery_tui.runs.status import scan_runs


def run_plan_command(
    args: argparse.Namespace, file_checks: ModelFileCheck | None, knn_dim: KnnDim
) -> int:
    """Check, launch and register `args.plan`; `file_checks` checks each checkpoint's layout
    and `knn_dim` reads a k-NN model's feature size (torch: passed in by a caller that may
    load it)."""
    plan = _with_overrides(load_plan(args.plan), args)
    models, datasets = getattr(args, "models", None), getattr(args, "datasets", None)
    if models or datasets:
        plan = plan.select(models, datasets)
    executor_name = getattr(args, "executor", None) or plan.defaults.executor
    results_dir = resolve_results_dir(getattr(args, "results_dir", None), getattr(args, "db", None))
    executor = make_executor(executor_name, plan, results_dir)
    gpus = list(getattr(executor, "gpus", []))
    problems = check_plan(plan, executor_name, results_dir, gpus=gpus, file_checks=file_checks)
    problems += check_store_names(plan, getattr(args, "db", None), results_dir)
    if problems:
        raise PlanError(plan.path, problems)
    reconcile(scan_runs(results_dir))  # runs Slurm ended without a result start again
    report = launch_plan(plan, executor, results_dir)
    print(describe_launch(report, executor_name))
    for line in launched_lines(report.sweeps, executor_name, plan, knn_dim):  # the k-NN memory plan
        print(line)
    if not getattr(args, "no_register", False):
        _register(getattr(args, "db", None), report)
    print(f"follow with: lottery runs list --results-dir {results_dir}")
    return 0


def _with_overrides(plan: Plan, args: argparse.Namespace) -> Plan:
    """Command-line `--device`, `--batch-size`, `--precision` win over the plan's defaults."""
    changes = {}
    for name in ("device", "batch_size", "precision", "num_workers"):
        value = getattr(args, name, None)
        if value is not None:
            changes[name] = value
    if getattr(args, "allow_subset", False):
        changes["allow_subset"] = True
    return replace(plan, defaults=replace(plan.defaults, **changes)) if changes else plan


def describe_launch(report: LaunchReport, executor_name: str) -> str:
    lines = [f"launched {len(report.launched)} run(s) with the {executor_name} executor"]
    handles = sorted({h for h in report.handles if h})
    if executor_name == "local" and handles:
        lines[0] += f" ({handles[0]})"
    for run_dir, handle in zip(report.launched, report.handles, strict=True):
        suffix = f"  [{handle}]" if executor_name == "slurm" and handle else ""
        lines.append(f"  {run_dir.name}{suffix}")
    for run_dir, reason in report.skipped:
        lines.append(f"  skipped {run_dir.name}: {reason}")
    return "\n".join(lines)


def _register(db, report: LaunchReport) -> None:
    """Record the new runs in the store's registry; the store may be busy (a TUI reading it):
    the runs are then registered by the next `lottery runs` or the TUI."""
    if not report.launched:
        return
    from lottery_tui.runs.status import read_status
    from lottery_tui.runs.sync import sync_store

    try:
        sync_store(db, [read_status(p) for p in report.launched])
    except LotteryError as exc:
        print(f"note: runs not yet in the store's registry ({exc})")


def _names(text: str) -> list[str]:
    return [part.strip() for part in text.split(",") if part.strip()]


def main(argv: list[str] | None = None) -> int:
    """Entry point for launching a plan from a process that must not import torch itself (the
    explorer): this subprocess checks the checkpoints with torch."""
    parser = argparse.ArgumentParser(prog="python -m lottery_tui.runs.plan_command")
    parser.add_argument("plan")
    parser.add_argument("--models", type=_names, default=None)
    parser.add_argument("--datasets", type=_names, default=None)
    parser.add_argument("--executor", choices=("local", "slurm"), default=None)
    parser.add_argument("--results-dir", default=None)
    parser.add_argument("--db", default=None)
    parser.add_argument(
        "--no-register",
        action="store_true",
        help="leave the store alone (the caller, e.g. the explorer, registers the runs)",
    )
    args = parser.parse_args(argv)
    from lottery_tui.probe.model_checks import (  # this process may load torch
        check_model_files,
        knn_feature_dim,
    )

    try:
        return run_plan_command(args, check_model_files, knn_feature_dim)
    except LotteryError as exc:
        print(f"lottery: error: {exc}", file=sys.stderr)
        return exc.exit_code


if __name__ == "__main__":
    raise SystemExit(main())
