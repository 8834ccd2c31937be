"""`lottery runs [list|cancel ID|logs ID|sync|plan PLAN]`: follow probe runs from any shell.

Runs are read from their directories in the results folder, so this works from a login node
while jobs run on compute nodes; `list` and `sync` also ingest finished runs into the store.
"""

from __future__ import annotations

import argparse
import json
import sys
import time

from lottery_tui.cli.main import add_db_option


def register(subparsers: argparse._SubParsersAction) -> None:
    parser = subparsers.add_parser(
        "runs",
        help="list, cancel and read the logs of probe runs",
        description="Follow probe runs launched with `lottery probe --plan` or from the explorer.",
    )
    add_db_option(parser)
    _add_results_dir(parser)
    parser.set_defaults(func=_list, runs_command="list", json=False, no_ingest=False)
    sub = parser.add_subparsers(dest="runs_command", metavar="ACTION")

    p = sub.add_parser("list", help="runs with their state (default)")
    _common(p)
    p.add_argument("--json", action="store_true", help="one JSON object per run")
    p.add_argument(
        "--no-ingest", action="store_true", help="do not ingest finished runs into the store"
    )
    p.set_defaults(func=_list)

    p = sub.add_parser("cancel", help="cancel a queued or running run")
    _common(p)
    p.add_argument("run_id", metavar="ID", help="run id (a unique prefix is enough)")
    p.set_defaults(func=_cancel)

    p = sub.add_parser("logs", help="the tail of a run's log (and its error)")
    _common(p)
    p.add_argument("run_id", metavar="ID", help="run id (a unique prefix is enough)")
    p.add_argument("-n", "--lines", type=int, default=40, help="lines to show (default 40)")
    p.add_argument("-f", "--follow", action="store_true", help="keep printing until it ends")
    p.set_defaults(func=_logs)

    p = sub.add_parser("sync", help="ingest finished runs into the store and update the registry")
    _common(p)
    p.set_defaults(func=_sync)

    p = sub.add_parser(
        "plan", help="the sweeps a plan file would start and their k-NN memory plan (no launch)"
    )
    _common(p)
    p.add_argument("plan", metavar="PLAN", help="plan file (TOML, docs/cluster.md)")
    p.add_argument("--executor", choices=("local", "slurm"), default=None)
    p.set_defaults(func=_plan)


def _add_results_dir(parser: argparse.ArgumentParser, *, suppress: bool = False) -> None:
    parser.add_argument(
        "--results-dir",
        metavar="DIR",
        default=argparse.SUPPRESS if suppress else None,
        help="folder of run directories (default: $LOTTERY_RESULTS, else <store dir>/runs)",
    )


def _common(parser: argparse.ArgumentParser) -> None:
    add_db_option(parser)
    _add_results_dir(parser, suppress=True)


def _results_dir(args: argparse.Namespace):
    from lottery_tui.runs.locations import resolve_results_dir

    return resolve_results_dir(args.results_dir, args.db)


def _find(args: argparse.Namespace):
    from lottery_tui.errors import LotteryError
    from lottery_tui.runs.status import find_run, match_run

    results = _results_dir(args)
    run = find_run(results, args.run_id)
    if run is None:  # a run `lottery runs list` shows from another results folder
        run = match_run(_registered_elsewhere(args, results), args.run_id)
    if run is None:
        raise LotteryError(f"{results}: no run {args.run_id!r} (or the prefix is ambiguous)")
    return run


def _registered_elsewhere(args: argparse.Namespace, results):
    """Runs the store's registry knows in other results folders (their directory still there)."""
    from lottery_tui.errors import LotteryError
    from lottery_tui.runs import rundir
    from lottery_tui.runs.registry import all_runs
    from lottery_tui.runs.sync import read_registry

    try:
        stored = read_registry(args.db)
    except LotteryError:
        return []
    runs = all_runs(results, stored)
    return [r for r in runs if r.run_dir.parent != results and (r.run_dir / rundir.LAUNCH).exists()]


def _list(args: argparse.Namespace) -> int:
    from lottery_tui.errors import LotteryError
    from lottery_tui.runs.registry import all_runs
    from lottery_tui.runs.slurm_jobs import reconcile
    from lottery_tui.runs.status import scan_runs
    from lottery_tui.runs.sync import read_registry, sync_store

    results = _results_dir(args)
    reconcile(scan_runs(results))  # Slurm jobs that ended without a result become failed
    stored = {}
    note = ""
    try:
        stored = read_registry(args.db)
        if not args.no_ingest:
            report = sync_store(args.db, scan_runs(results), stored)
            if report.ingested:
                note = f"ingested {len(report.ingested)} finished run(s) into the store"
            _print_ingest_errors(report.ingest_errors)
    except LotteryError as exc:
        note = f"store not updated ({exc})"
    runs = all_runs(results, stored)
    if args.json:
        for run in runs:
            print(json.dumps(_as_json(run)))
    else:
        print(_table(runs))
    if note:
        print(note, file=sys.stderr)
    return 0


def _as_json(run) -> dict:
    p = run.progress
    return {
        "run_id": run.run_id,
        "model": run.model,
        "dataset": run.dataset,
        "state": run.state,
        "executor": run.executor,
        "job_id": run.job_id,
        "done": p.done,
        "total": p.total,
        "images_per_s": p.images_per_s,
        "eta_s": p.eta_s,
        "top1": run.top1,
        "message": run.message,
        "run_dir": str(run.run_dir),
    }


def _table(runs) -> str:
    if not runs:
        return "no runs yet: launch some with `lottery probe --plan FILE`"
    rows = [("RUN", "MODEL", "DATASET", "STATE", "DETAIL")]
    rows += [(r.run_id, r.model, r.dataset, r.state, r.summary()) for r in runs]
    widths = [max(len(str(row[i])) for row in rows) for i in range(4)]
    return "\n".join(
        "  ".join(str(c).ljust(w) for c, w in zip(row[:4], widths, strict=True)) + "  " + row[4]
        for row in rows
    ).rstrip()


def _plan(args: argparse.Namespace) -> int:
    """The sweeps as a launch would form them (every run of the plan, done ones included) and
    the k-NN banks each holds: on the GPU within the budget, or streamed from host memory."""
    from lottery_tui.probe.model_checks import knn_feature_dim
    from lottery_tui.runs.executors import make_executor
    from lottery_tui.runs.launch import build_spec, resolve_device, sweeps_for
    from lottery_tui.runs.memory_plan import host_memory, sweep_memory
    from lottery_tui.runs.plan import load_plan

    plan = load_plan(args.plan)
    executor_name = args.executor or plan.defaults.executor
    results = _results_dir(args)
    executor = make_executor(executor_name, plan, results)
    device = resolve_device(plan.defaults.device, executor)
    specs = {}
    for model, dataset in plan.pairs():
        spec = build_spec(plan, model, dataset, results, device)
        specs[results / spec.run_id] = spec
    sweeps = [[specs[p] for p in sweep] for sweep in sweeps_for(specs, executor.slots)]
    print(f"{len(sweeps)} sweep(s) of {len(specs)} run(s), {executor_name} executor, {device}:")
    for sweep in sweeps:
        print(f"  {sweep[0].dataset}: {', '.join(s.model for s in sweep)}")
    memories = sweep_memory(sweeps, host_memory(executor_name, plan), knn_feature_dim)
    for memory in memories:
        print("\n".join(memory.lines()))
    if not memories:
        print("no k-NN model: no bank to hold")
    return 0


def _cancel(args: argparse.Namespace) -> int:
    from lottery_tui.runs.executors.base import cancel_run

    run = _find(args)
    if run.state in ("done", "failed", "cancelled"):
        print(f"{run.run_id} is already {run.state}; nothing to cancel")
        return 0
    print(f"{run.run_id}: {cancel_run(run)}")
    return 0


def _logs(args: argparse.Namespace) -> int:
    from lottery_tui.runs import rundir
    from lottery_tui.runs.status import read_status

    run = _find(args)
    log = run.run_dir / rundir.LOG
    lines = rundir.tail(log, args.lines)
    print("\n".join(lines) if lines else f"(no output yet in {log})")
    if args.follow:
        offset = log.stat().st_size if log.exists() else 0
        while read_status(run.run_dir).state in ("queued", "running"):
            time.sleep(1.0)
            offset = _print_from(log, offset)
        _print_from(log, offset)
    error = rundir.tail(run.run_dir / rundir.ERROR, args.lines)
    if error:
        print(f"--- {run.run_dir / rundir.ERROR}")
        print("\n".join(error))
    return 0


def _print_from(path, offset: int) -> int:
    try:
        with path.open("rb") as f:
            f.seek(offset)
            data = f.read()
    except OSError:
        return offset
    sys.stdout.write(data.decode("utf-8", errors="replace"))
    sys.stdout.flush()
    return offset + len(data)


def _sync(args: argparse.Namespace) -> int:
    from lottery_tui.runs.slurm_jobs import reconcile
    from lottery_tui.runs.status import scan_runs
    from lottery_tui.runs.sync import sync_store

    report = sync_store(args.db, reconcile(scan_runs(_results_dir(args))))
    print(
        f"registered {len(report.registered)} run state(s), ingested {len(report.ingested)} run(s)"
    )
    _print_ingest_errors(report.ingest_errors)
    return 1 if report.ingest_errors else 0


def _print_ingest_errors(errors: list[tuple[str, str]]) -> None:
    for run_id, error in errors:
        print(f"lottery: ingest of {run_id} failed: {error}", file=sys.stderr)
