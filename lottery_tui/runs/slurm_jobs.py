"""What Slurm says about submitted jobs, without submitit: their state (`sacct`) and `scancel`.

A job that ran on a compute node cannot be checked from the login node by its PID; when Slurm ended
it without a result (node failure, scancel, out of memory) only the scheduler knows.
"""

from __future__ import annotations

import shutil
import subprocess
import time
from collections.abc import Sequence
from pathlib import Path

from lottery_tui.runs import rundir
from lottery_tui.runs.status import RunStatus, read_status

_LIVE = ("queued", "running", "lost")  # lost: no heartbeat; sacct, when there, says why

# Slurm job states after which a job will not run again (a requeued job shows PENDING instead).
ENDED = {
    "BOOT_FAIL",
    "CANCELLED",
    "DEADLINE",
    "FAILED",
    "NODE_FAIL",
    "OUT_OF_MEMORY",
    "PREEMPTED",
    "TIMEOUT",
}
# States after which submitit requeues the task (a preemption always, a time-out up to
# max_requeues): ended only when the run showed no sign of a restart for this long.
REQUEUED_BY_SUBMITIT = {"PREEMPTED", "TIMEOUT"}
REQUEUE_GRACE_S = 30 * 60.0


def slurm_states(job_ids: Sequence[str]) -> dict[str, str]:
    """Slurm's state of each job (array tasks as `123_4`), from one `sacct` call; {} without it."""
    exe = shutil.which("sacct")
    base_ids = sorted({job_id.split("_")[0] for job_id in job_ids if job_id})
    if exe is None or not base_ids:
        return {}
    try:
        out = subprocess.run(
            [exe, "-n", "-X", "-P", "-o", "JobID,State", "-j", ",".join(base_ids)],
            capture_output=True,
            text=True,
            timeout=30,
            check=False,
        ).stdout
    except (OSError, subprocess.TimeoutExpired):
        return {}
    states = {}
    for line in out.splitlines():
        job_id, _, state = line.partition("|")
        if state:
            states[job_id.strip()] = state.split()[0]
    return states


def reconcile(runs: list[RunStatus]) -> list[RunStatus]:
    """Runs Slurm has ended without a result (node failure, scancel, out of memory) become
    failed: their job process lived on another node, so only the scheduler knows. Recorded in
    `job.exit`, so launching the plan again restarts them."""
    waiting = [r for r in runs if r.executor == "slurm" and r.job_id and r.state in _LIVE]
    states = slurm_states([r.job_id for r in waiting]) if waiting else {}
    changed = {}
    for run in waiting:
        state = states.get(run.job_id or "")
        if state in REQUEUED_BY_SUBMITIT and _last_sign_of_life(run.run_dir) > time.time() - (
            REQUEUE_GRACE_S
        ):
            continue  # submitit is requeueing it: still queued, not ended
        if state in ENDED and not (run.run_dir / rundir.RESULT).exists():
            rundir.record_exit(run.run_dir, -1, reason=f"Slurm ended the job: {state}")
            changed[run.run_id] = read_status(run.run_dir)
    return [changed.get(r.run_id, r) for r in runs]


def _last_sign_of_life(run_dir: Path) -> float:
    """When the run last wrote an event, was requeued or launched (file times)."""
    times = []
    for name in (rundir.EVENTS, rundir.REQUEUED, rundir.LAUNCH):
        try:
            times.append((run_dir / name).stat().st_mtime)
        except OSError:
            continue
    return max(times, default=0.0)


def scancel(job_id: str) -> bool:
    """Cancel a Slurm job (array task ids like 123_4 work too); False when scancel is absent."""
    exe = shutil.which("scancel")
    if exe is None or not job_id.replace("_", "").isdigit():
        return False
    result = subprocess.run([exe, job_id], capture_output=True, text=True, timeout=30, check=False)
    return result.returncode == 0
