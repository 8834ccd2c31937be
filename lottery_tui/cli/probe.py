"""`lottery probe`: run a checkpoint on ImageNet and its variants in the foreground, then ingest.

One run directory per dataset under the results folder (`--results-dir`, `$LOTTERY_RESULTS`, else
`<store dir>/runs/`), named from what determines the predictions, so the same command after a crash
resumes where it stopped. `--plan FILE` instead launches many detached runs (the runs-at-scale
command). torch is imported inside the handler only.
"""

from __future__ import annotations

import argparse
import sys
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any

from lottery_tui.cli.main import add_db_option
from lottery_tui.errors import InputError
from lottery_tui.probe.contract import (
    CPU_BATCH_SIZE,
    DECODERS,
    GPU_BATCH_SIZE,
    HEAD_SOLVERS,
    MAX_GPU_WORKERS,
    JobSpec,
)

if TYPE_CHECKING:
    from lottery_tui.probe.result import RunResult
    from lottery_tui.runs.plan import DatasetEntry, Plan


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "probe",
        help="evaluate an SSL checkpoint on ImageNet variants and store per-image predictions",
        description="Evaluate a checkpoint on ImageNet and its variants (one run per dataset), "
        "store its per-image predictions, and print a summary. With --plan, launch a plan of "
        "many runs instead. See docs/probe.md.",
    )
    parser.add_argument("--model", help="name of the model in the store")
    parser.add_argument("--framework", help="SSL framework or checkpoint layout (e.g. swav, dino)")
    parser.add_argument("--checkpoint", metavar="PATH", help="backbone checkpoint file")
    heads = parser.add_mutually_exclusive_group()
    heads.add_argument("--head", metavar="PATH", help="released or saved linear head file")
    heads.add_argument(
        "--train-head",
        metavar="DIR",
        help="train a linear head on cached features of this ImageNet train folder",
    )
    heads.add_argument(
        "--knn", metavar="DIR", help="k-NN (k=20, cosine, T=0.07) on this ImageNet train folder"
    )
    parser.add_argument(
        "--dataset",
        metavar="ID=PATH",
        action="append",
        default=[],
        help="dataset id and folder, e.g. imagenet=/data/val (repeatable)",
    )
    parser.add_argument(
        "--device",
        choices=("cpu", "cuda"),
        default=None,
        help="default: cuda when a GPU is visible, else cpu",
    )
    parser.add_argument(
        "--batch-size",
        type=int,
        default=None,
        help=f"default {CPU_BATCH_SIZE} (cpu), {GPU_BATCH_SIZE} (cuda)",
    )
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default=None,
        help=f"bf16 autocast (recorded with the run); default {JobSpec.precision}",
    )
    parser.add_argument(
        "--workers",
        dest="num_workers",
        type=int,
        default=None,
        help=f"DataLoader workers (default: 0 on cpu, cores - 1 up to {MAX_GPU_WORKERS} on cuda)",
    )
    parser.add_argument(
        "--decoder",
        choices=DECODERS,
        default=None,
        help="pil (reference pixels) or nvjpeg (batched decode + resize on the device: "
        "faster on a GPU, slightly different pixels; recorded with the run); default "
        f"{JobSpec.decoder}",
    )
    parser.add_argument("--arch", help="expected architecture (default: read from the checkpoint)")
    parser.add_argument(
        "--image-size", type=int, default=None, help=f"centre-crop size ({JobSpec.image_size})"
    )
    parser.add_argument(
        "--allow-subset",
        action="store_true",
        help="accept dataset folders with fewer classes or images than the full set",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=None,
        help=f"images per shard and feature-cache chunk (the resume unit; {JobSpec.chunk_size})",
    )
    parser.add_argument(
        "--head-solver",
        choices=HEAD_SOLVERS,
        default=None,
        help="--train-head's fit: lbfgs (L2 logistic regression, l2 chosen on a held-out split) "
        f"or adamw (the earlier AdamW head); default {JobSpec.head_solver}",
    )
    parser.add_argument(
        "--head-epochs",
        type=int,
        default=None,
        help=f"epochs of --head-solver adamw ({JobSpec.head_epochs})",
    )
    parser.add_argument(
        "--results-dir",
        metavar="DIR",
        default=None,
        help="run directories (default: $LOTTERY_RESULTS, else <store dir>/runs)",
    )
    parser.add_argument("--plan", metavar="FILE", help="launch a TOML plan of many runs instead")
    parser.add_argument(
        "--executor",
        choices=("local", "slurm"),
        default=None,
        help="with --plan: where the runs execute",
    )
    add_db_option(parser)
    parser.set_defaults(func=run)


def _parse_datasets(values: list[str]) -> tuple[DatasetEntry, ...]:
    from lottery_tui.runs.plan import DatasetEntry

    entries: dict[str, DatasetEntry] = {}
    for value in values:
        dataset, sep, path = value.partition("=")
        dataset = dataset.strip()
        if not sep or not dataset or not path:
            raise InputError(f"--dataset {value!r}: expected ID=PATH, e.g. imagenet=/data/val")
        if dataset in entries:
            raise InputError(f"--dataset {dataset}: given twice")
        entries[dataset] = DatasetEntry(dataset, Path(path).expanduser())
    return tuple(entries.values())


# The options that set a probe run's settings; left out, the one defaults table (JobSpec's, and
# the device's batch size and workers) decides, as for a plan.
_SETTINGS = (
    "batch_size",
    "num_workers",
    "precision",
    "image_size",
    "chunk_size",
    "head_epochs",
    "head_solver",
    "decoder",
)


def one_model_plan(args: argparse.Namespace) -> Plan:
    """`lottery probe` without --plan is this plan: one model, its datasets, the options as its
    defaults (launched, checked and identified as any plan is)."""
    from lottery_tui.runs.plan import Defaults, Head, ModelEntry, Plan

    head = Head("builtin")
    for kind, value in (("linear", args.head), ("train", args.train_head), ("knn", args.knn)):
        if value:
            head = Head(kind, Path(value).expanduser())
    model = ModelEntry(
        args.model, args.framework, Path(args.checkpoint).expanduser(), head, args.arch
    )
    settings = {name: getattr(args, name) for name in _SETTINGS if getattr(args, name) is not None}
    defaults = Defaults(device=args.device or "auto", allow_subset=args.allow_subset, **settings)
    return Plan(Path.cwd(), defaults, (model,), _parse_datasets(args.dataset))


def run(args: argparse.Namespace) -> int:
    from lottery_tui.store.input_files import require_regular_files

    # A FIFO would hang the reader; missing files are named later, with their context.
    require_regular_files([args.plan, args.checkpoint, args.head], must_exist=False)
    if args.plan:
        from lottery_tui.probe.model_checks import check_model_files, knn_feature_dim
        from lottery_tui.runs.plan import PlanError
        from lottery_tui.runs.plan_command import run_plan_command
        from lottery_tui.safe_text import safe_text

        try:
            return run_plan_command(args, check_model_files, knn_feature_dim)
        except PlanError as exc:  # one problem on one line; several, each on its own line
            header, *problems = exc.lines()
            if len(problems) == 1:
                print(f"lottery: error: {safe_text(problems[0].strip())}", file=sys.stderr)
                return exc.exit_code
            print(f"lottery: error: {safe_text(header)}", file=sys.stderr)
            for line in problems:
                print(f"  {safe_text(line.strip())}", file=sys.stderr)
            return exc.exit_code
    if args.executor:
        raise InputError(
            f"--executor {args.executor} needs --plan FILE (without a plan, lottery probe runs "
            "in the foreground here)"
        )
    missing = [f"--{n}" for n in ("model", "framework", "checkpoint") if not getattr(args, n)]
    if not args.dataset:
        missing.append("--dataset ID=PATH")
    if missing:
        raise InputError(f"lottery probe needs {', '.join(missing)} (or --plan FILE)")
    from lottery_tui.probe.checkpoints import FRAMEWORKS

    if args.framework not in FRAMEWORKS:
        raise InputError(
            f"--framework {args.framework!r}: unknown (known: {', '.join(sorted(FRAMEWORKS))})"
        )
    rows = run_foreground(one_model_plan(args), args.db, args.results_dir)
    print(_summary(args, rows))
    return 0


def run_foreground(plan: Plan, db: str | None, results_dir: str | None) -> list[dict[str, Any]]:
    """Check, launch and compute a one-model plan here, ingesting each run as it ends; a summary
    row per dataset. The checks, run ids, records and result.json are a plan's."""
    from lottery_tui.cli.foreground import ForegroundExecutor
    from lottery_tui.probe.prepared import resolve_device
    from lottery_tui.probe.result import RunResult
    from lottery_tui.runs import launch
    from lottery_tui.runs.locations import resolve_results_dir

    folder = resolve_results_dir(results_dir, db)
    rows: dict[Path, dict[str, Any]] = {}
    clock = [time.monotonic()]

    def ingest(run_dir: Path, result: RunResult) -> None:
        rows[run_dir] = _ingest(db, run_dir, result, time.monotonic() - clock[0])
        clock[0] = time.monotonic()

    executor = ForegroundExecutor(on_done=ingest)
    device = launch.resolve_device(plan.defaults.device, executor)
    model = plan.models[0]
    run_dirs = [
        folder / launch.build_spec(plan, model, d, folder, device).run_id for d in plan.datasets
    ]
    # CUDA asked for without a GPU: stop before anything else.
    resolve_device(launch.build_spec(plan, model, plan.datasets[0], folder, device))
    _check(plan, db, folder)
    for run_dir in run_dirs:
        launch.refuse_running(run_dir)
    launch.launch_plan(plan, executor, folder)
    for run_dir in run_dirs:  # done before (maybe by a plan): read back and ingest if need be
        if run_dir not in rows:
            clock[0] = time.monotonic()
            ingest(run_dir, RunResult.read(run_dir))
    return [rows[run_dir] for run_dir in run_dirs]


def _check(plan: Plan, db: str | None, results_dir: Path) -> None:
    """A plan's checks (store names and identity, files and layouts, folders), as one error."""
    from lottery_tui.probe.model_checks import check_model_files
    from lottery_tui.runs.launch import FOREGROUND
    from lottery_tui.runs.plan_checks import check_plan, check_store_names

    problems = check_store_names(plan, db, results_dir)
    problems += check_plan(plan, FOREGROUND, results_dir, gpus=[], file_checks=check_model_files)
    if problems:
        prefix = f"model {plan.models[0].name!r}: "
        raise InputError("; ".join(p.message.removeprefix(prefix) for p in problems))


def _ingest(
    db: str | None, run_dir: Path, result: RunResult | None, seconds: float
) -> dict[str, Any]:
    from lottery_tui.probe.ingest import ingest_run, read_run_dir
    from lottery_tui.store.connection import write_transaction

    files = read_run_dir(run_dir)  # read before the write lock is taken
    if files is None or result is None:
        raise InputError(f"run {run_dir.name} has no result.json", run_dir)
    with write_transaction(db) as con:
        outcome = ingest_run(con, files)
    return {
        "dataset": result.dataset,
        "result": result,
        "outcome": outcome,
        "seconds": seconds,
        "run_dir": run_dir,
    }


def _summary(args: argparse.Namespace, rows: list[dict[str, Any]]) -> str:
    from lottery_tui.cli.foreground import duration

    first = rows[0]["result"].config
    head = first["head"]
    prep = first["preprocessing"]
    lines = [
        f"model {args.model}: {first['framework']} {first['arch']} "
        f"(layout {first['layout']}, checkpoint sha256 {first['checkpoint_sha256'][:12]})",
        f"head {head['kind']}{' ' + head['path'] if head.get('path') else ''}; "
        f"preprocessing {prep['method']} {prep['interpolation']} {prep['size']}px; "
        f"{first['device']}, {first['precision']}",
        "",
        f"{'dataset':<30} {'images':>8} {'top-1 %':>8} {'top-5 %':>8} {'skipped':>8} "
        f"{'time':>8}  store",
    ]
    for row in rows:
        outcome = row["outcome"]
        state = "ingested" if outcome.ingested else "already in store"
        for dataset, (top1, top5) in outcome.accuracies.items():
            own = dataset == row["dataset"]
            n = row["result"].n_images if own else ""
            skipped = row["result"].n_skipped if own else ""
            t5 = f"{top5:8.2f}" if top5 is not None else f"{'':>8}"
            label = dataset if own else f"  {dataset} (derived)"
            took = duration(row["seconds"]) if own else ""
            lines.append(
                f"{label:<30} {n!s:>8} {top1:8.2f} {t5} {skipped!s:>8} {took:>8}  "
                f"{state if own else ''}"
            )
    lines.append("")
    lines.append(f"runs in {rows[0]['run_dir'].parent}")
    return "\n".join(lines)
