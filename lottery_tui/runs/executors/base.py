"""The interface every executor offers, and what they share: the job command and cancelling.

An executor takes sweeps of prepared run directories (spec.json and launch.json written; one
job process per sweep runs all of them) and starts detached jobs for them, then returns;
following a run needs only its directory.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import time
from abc import ABC, abstractmethod
from collections.abc import Sequence
from pathlib import Path

from lottery_tui.processes import pid_alive
from lottery_tui.runs import rundir
from lottery_tui.runs.status import RunStatus, read_status

# The probe job, as the run-directory contract defines it; tests substitute a stand-in script.
PROBE_JOB_COMMAND: tuple[str, ...] = (sys.executable, "-m", "lottery_tui.probe.job")

CANCEL_GRACE_S = 5.0


class Executor(ABC):
    """Starts detached jobs for sweeps; `launch` returns a handle per sweep (or None)."""

    name: str

    def __init__(self, job_command: Sequence[str] = PROBE_JOB_COMMAND) -> None:
        self.job_command = tuple(job_command)

    @abstractmethod
    def launch(self, sweeps: Sequence[list[Path]]) -> list[str | None]:
        """Start a job per sweep (a list of run dirs) without waiting; one handle per sweep."""

    @property
    def slots(self) -> int | None:
        """How many sweeps can run at once (None: as many as there are); sweeps are split into
        shares until there are this many."""
        return None

    @property
    def device(self) -> str:
        """The device jobs of this executor run on when the plan says `auto`."""
        return "cpu"


def cancel_run(status: RunStatus, grace_s: float = CANCEL_GRACE_S) -> str:
    """Cancel a run: queued runs never start; a running job on this host gets SIGTERM, then
    SIGKILL after `grace_s`; a Slurm job is scancel'ed. Returns what was done, in words.

    A run of a sweep whose other runs are still going is only marked: the sweep drops it at its
    next chunk (the probe engine reads the marker) and goes on with the others."""
    run_dir = status.run_dir
    rundir.write_atomic(run_dir / rundir.CANCELLED, f"{time.time()}\n")
    done = ["marked cancelled"]
    others = _sweep_siblings_going(status)
    if others:
        done.append(f"its sweep drops it at the next chunk and goes on with {len(others)} run(s)")
        return ", ".join(done)
    pid = rundir.read_pid(run_dir)
    if pid is not None and pid[0] == rundir.hostname() and pid_alive(pid[1]):
        _terminate_group(pid[1], grace_s)
        done.append(f"stopped process group {pid[1]}")
    if status.executor == "slurm" and status.job_id:
        from lottery_tui.runs.slurm_jobs import scancel

        if scancel(status.job_id):
            done.append(f"scancel {status.job_id}")
    return ", ".join(done)


def _sweep_siblings_going(status: RunStatus) -> list[str]:
    """Other runs of the same sweep (same launch, same job) still queued or running: its process
    or Slurm task must go on for them."""
    launch = rundir.read_json(status.run_dir / rundir.LAUNCH) or {}
    going = []
    for name in launch.get("sweep") or []:
        if name == status.run_id:
            continue
        other = read_status(status.run_dir.parent / name)
        if other.job_id == status.job_id and other.state in ("queued", "running"):
            going.append(name)
    return going


def _terminate_group(pgid: int, grace_s: float) -> None:
    """SIGTERM the job's process group (the job and its data-loader workers), then SIGKILL."""
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGTERM)
    deadline = time.monotonic() + grace_s
    while time.monotonic() < deadline:
        if not pid_alive(pgid):
            return
        time.sleep(0.05)
    with contextlib.suppress(ProcessLookupError):
        os.killpg(pgid, signal.SIGKILL)
