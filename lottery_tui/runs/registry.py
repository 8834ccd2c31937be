"""Every run a user should see: the results folder's run directories, plus runs the store's
`probe_runs` registry knows of elsewhere (another results folder, or a directory since removed)."""

from __future__ import annotations

from pathlib import Path

from lottery_tui.runs import rundir
from lottery_tui.runs.status import Progress, RunStatus, read_status, scan_runs
from lottery_tui.runs.sync import StoredRun


def all_runs(results_dir: Path, stored: dict[str, StoredRun]) -> list[RunStatus]:
    """Runs of `results_dir`, then registered runs found elsewhere (read from their directory),
    then registered runs whose directory is gone (their last known state)."""
    runs = scan_runs(results_dir)
    seen = {r.run_id for r in runs}
    elsewhere, missing = [], []
    for entry in stored.values():
        if entry.run_id in seen:
            continue
        run_dir = Path(entry.run_dir) if entry.run_dir else None
        if run_dir is not None and (run_dir / rundir.LAUNCH).exists():
            elsewhere.append(read_status(run_dir))
        else:
            missing.append(_from_store(entry))
    return runs + elsewhere + missing


def _from_store(entry: StoredRun) -> RunStatus:
    return RunStatus(
        run_id=entry.run_id,
        run_dir=Path(entry.run_dir or ""),
        model=entry.model,
        dataset=entry.dataset or "?",
        framework=None,
        head=None,
        executor=entry.executor,
        job_id=None,
        state=entry.state,
        progress=Progress(),
        message=f"run directory missing: {entry.run_dir}",
    )
