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
from lottery_tui.probe.contract import HEAD_SOLVERS

if TYPE_CHECKING:
    from lottery_tui.probe.contract import JobSpec


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
    parser.add_argument("--batch-size", type=int, default=None, help="default 64 (cpu), 256 (cuda)")
    parser.add_argument(
        "--precision",
        choices=("fp32", "bf16"),
        default=None,
        help="bf16 autocast (recorded with the run); default fp32",
    )
    parser.add_argument(
        "--workers",
        dest="num_workers",
        type=int,
        default=None,
        help="DataLoader workers (default: 0 on cpu, cores - 1 up to 16 on cuda)",
    )
    parser.add_argument(
        "--decoder",
        choices=("pil", "nvjpeg"),
        default="pil",
        help="pil (reference pixels, default) or nvjpeg (batched decode + resize on the device: "
        "faster on a GPU, slightly different pixels; recorded with the run)",
    )
    parser.add_argument("--arch", help="expected architecture (default: read from the checkpoint)")
    parser.add_argument("--image-size", type=int, default=224, help="centre-crop size (224)")
    parser.add_argument(
        "--allow-subset",
        action="store_true",
        help="accept dataset folders with fewer classes or images than the full set",
    )
    parser.add_argument(
        "--chunk-size",
        type=int,
        default=4096,
        help="images per shard and feature-cache chunk (the resume unit)",
    )
    parser.add_argument(
        "--head-solver",
        choices=HEAD_SOLVERS,
        default="lbfgs",
        help="--train-head's fit: lbfgs (L2 logistic regression, l2 chosen on a held-out split; "
        "default) or adamw (the earlier 100-epoch AdamW head)",
    )
    parser.add_argument(
        "--head-epochs", type=int, default=100, help="epochs of --head-solver adamw"
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


def _parse_datasets(values: list[str]) -> list[tuple[str, Path]]:
    pairs = []
    for value in values:
        dataset, sep, path = value.partition("=")
        if not sep or not dataset or not path:
            raise InputError(f"--dataset {value!r}: expected ID=PATH, e.g. imagenet=/data/val")
        pairs.append((dataset.strip(), Path(path).expanduser()))
    return pairs


def run(args: argparse.Namespace) -> int:
    from lottery_tui.store.input_files import require_regular_files

    # A FIFO would hang the reader; missing files are named later, with their context.
    require_regular_files([args.plan, args.checkpoint, args.head], must_exist=False)
    if args.plan:
        from lottery_tui.runs.plan import PlanError
        from lottery_tui.runs.plan_command import run_plan_command
        from lottery_tui.safe_text import safe_text

        try:
            return run_plan_command(args)
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
    datasets = _parse_datasets(args.dataset)
    specs = _specs(args, datasets)
    from lottery_tui.probe.datasets import list_dataset, list_train_folder
    from lottery_tui.probe.engine import resolve_device

    resolve_device(specs[0][1])  # CUDA asked for without a GPU: stop before anything else
    _check_model_name(args, specs[0][1])
    _check_model_files(specs[0][1])
    for _, spec in specs:  # every folder is checked before the first image is decoded
        list_dataset(spec.dataset, spec.dataset_path, allow_subset=spec.allow_subset)
    if spec.head in ("train", "knn"):
        list_train_folder(spec.head_path, allow_subset=spec.allow_subset)
    rows = []
    for run_dir, spec in specs:
        rows.append(_run_one(args, run_dir, spec))
    print(_summary(args, rows))
    return 0


def _check_model_name(args: argparse.Namespace, spec: JobSpec) -> None:
    """The name is free, or the store's runs of it are this configuration (a plan's check)."""
    from lottery_tui.probe.ingest import check_model_identity, check_model_name
    from lottery_tui.store.connection import connect

    with connect(args.db, read_only=True) as con:
        check_model_name(con, args.model)
        check_model_identity(con, args.model, spec.model_identity())


def _check_model_files(spec: JobSpec) -> None:
    """Checkpoint, layout and head checked as a plan's are, before any run folder exists."""
    from lottery_tui.runs.plan import Head, ModelEntry
    from lottery_tui.runs.plan_checks import check_model

    head = Head(spec.head, None if spec.head_path is None else Path(spec.head_path))
    model = ModelEntry(spec.model, spec.framework, Path(spec.checkpoint), head, spec.arch)
    problems = check_model(model)
    if problems:
        raise InputError(
            "; ".join(p.message.removeprefix(f"model {spec.model!r}: ") for p in problems)
        )


def _specs(
    args: argparse.Namespace, datasets: list[tuple[str, Path]]
) -> list[tuple[Path, JobSpec]]:
    import torch

    from lottery_tui.probe.contract import JobSpec
    from lottery_tui.runs.launch import FEATURE_CACHE_DIR, run_id_for
    from lottery_tui.runs.locations import resolve_results_dir

    device = args.device or ("cuda" if torch.cuda.is_available() else "cpu")
    workers = args.num_workers
    if workers is None:
        import os

        # JPEG decoding bounds a GPU run: every core but the main process's decodes.
        workers = max(1, min(16, (os.cpu_count() or 2) - 1)) if device == "cuda" else 0
    head, head_path = "builtin", None
    for kind, value in (("linear", args.head), ("train", args.train_head), ("knn", args.knn)):
        if value:
            head, head_path = kind, str(Path(value).expanduser().resolve())
    results_dir = resolve_results_dir(args.results_dir, args.db)
    specs = []
    for dataset, path in datasets:
        spec = JobSpec(
            run_id="",
            model=args.model,
            framework=args.framework,
            checkpoint=str(Path(args.checkpoint).expanduser().resolve()),
            dataset=dataset,
            dataset_path=str(path.resolve()),
            cache_dir=str(results_dir / FEATURE_CACHE_DIR),
            head=head,
            head_path=head_path,
            arch=args.arch,
            device=device,
            batch_size=args.batch_size or (256 if device == "cuda" else 64),
            num_workers=workers,
            precision=args.precision or "fp32",
            image_size=args.image_size,
            allow_subset=args.allow_subset,
            chunk_size=args.chunk_size,
            head_epochs=args.head_epochs,
            head_solver=args.head_solver,
            decoder=args.decoder,
        )
        spec.run_id = run_id_for(spec)
        specs.append((results_dir / spec.run_id, spec))
    return specs


class _ProgressBar:
    """One status line on stderr: dataset, done/total, throughput, ETA."""

    def __init__(self) -> None:
        self.tty = sys.stderr.isatty()
        self.last_plain = 0.0

    def __call__(self, event: dict[str, Any]) -> None:
        done, total = event["done"], event["total"]
        if event["event"] == "start":
            return
        if event["event"] == "failed":  # the error itself is printed once, by main
            if self.tty:
                print(file=sys.stderr, flush=True)
            return
        rate = event["images_per_s"]
        eta = event["eta_s"]
        frac = done / total if total else 0.0
        bar = "#" * int(20 * frac) + "-" * (20 - int(20 * frac))
        speed = f"{rate:,.0f} img/s" if rate else "-- img/s"
        left = f"ETA {_duration(eta)}" if eta is not None else ""
        note = f"  {event['message']}" if event["message"] else ""
        line = f"[{event['dataset']}] {bar} {done:,}/{total:,} {speed} {left}{note}"
        if self.tty:
            end = "\n" if event["event"] in ("done", "failed") else ""
            print(f"\r\033[K{line}", end=end, file=sys.stderr, flush=True)
        elif event["event"] != "progress" or time.monotonic() - self.last_plain > 10:
            self.last_plain = time.monotonic()
            print(line, file=sys.stderr, flush=True)


def _duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
        if seconds >= 3600
        else (f"{seconds // 60}m{seconds % 60:02d}s")
    )


def _run_one(args: argparse.Namespace, run_dir: Path, spec: JobSpec) -> dict[str, Any]:
    from lottery_tui.probe.engine import LogLines, run_job
    from lottery_tui.probe.ingest import ingest_run, read_run_dir
    from lottery_tui.runs import rundir
    from lottery_tui.runs.launch import register_foreground
    from lottery_tui.store.connection import write_transaction

    started = time.monotonic()
    if not register_foreground(run_dir, spec):  # done before (maybe by a plan): read it back
        result = run_job(spec, run_dir)
    else:
        bar = _ProgressBar()
        try:
            with open(run_dir / rundir.LOG, "a", encoding="utf-8") as log:
                lines = LogLines(log)
                result = run_job(spec, run_dir, on_event=lambda e: (bar(e), lines(e)))
        except BaseException:
            rundir.record_exit(run_dir, 130 if sys.exc_info()[0] is KeyboardInterrupt else 1)
            raise
        rundir.record_exit(run_dir, 0)
    files = read_run_dir(run_dir)  # read before the write lock is taken
    assert files is not None  # run_job returned, so result.json is written
    with write_transaction(args.db) as con:
        outcome = ingest_run(con, files)
    return {
        "dataset": spec.dataset,
        "result": result,
        "outcome": outcome,
        "seconds": time.monotonic() - started,
        "run_dir": run_dir,
    }


def _summary(args: argparse.Namespace, rows: list[dict[str, Any]]) -> str:
    first = rows[0]["result"]["config"]
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
            n = row["result"]["n_images"] if own else ""
            skipped = row["result"]["n_skipped"] if own else ""
            t5 = f"{top5:8.2f}" if top5 is not None else f"{'':>8}"
            label = dataset if own else f"  {dataset} (derived)"
            took = _duration(row["seconds"]) if own else ""
            lines.append(
                f"{label:<30} {n!s:>8} {top1:8.2f} {t5} {skipped!s:>8} {took:>8}  "
                f"{state if own else ''}"
            )
    lines.append("")
    lines.append(f"runs in {rows[0]['run_dir'].parent}")
    return "\n".join(lines)
