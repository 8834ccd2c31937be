"""Running one probe job to its end, the same way under every executor.

The job runs in its own process group (so cancel reaches its data-loader workers too), with stdin
from /dev/null and its output appended to `job.log`; its PID is recorded before it starts working
and its exit status after it ends.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Callable, Mapping, Sequence
from pathlib import Path

from lottery_tui.runs import rundir


def should_start(run_dir: Path) -> bool:
    """False when the run is done or was cancelled while it waited."""
    return not (run_dir / rundir.RESULT).exists() and not (run_dir / rundir.CANCELLED).exists()


def run_one(
    run_dir: Path,
    job_command: Sequence[str],
    env: Mapping[str, str] | None = None,
    on_start: Callable[[subprocess.Popen], None] | None = None,
) -> int:
    """Run the job for `run_dir` and wait for it; returns its exit status.

    The exit status is recorded only when the job ends by itself: a wrapper interrupted while
    waiting (a Slurm preemption) leaves no `job.exit`, so the run is not marked failed.
    """
    for name in (rundir.EXIT, rundir.ERROR):
        (run_dir / name).unlink(missing_ok=True)
    with (
        open(run_dir / rundir.LOG, "ab") as log,
        open(os.devnull, "rb") as devnull,
    ):
        proc = subprocess.Popen(
            [*job_command, str(run_dir)],
            stdin=devnull,
            stdout=log,
            stderr=subprocess.STDOUT,
            env=None if env is None else {**os.environ, **env},
            process_group=0,
        )
    rundir.record_pid(run_dir, proc.pid)
    if (run_dir / rundir.CANCELLED).exists():  # cancelled between the check and the start
        proc.terminate()
    if on_start is not None:
        on_start(proc)
    code = proc.wait()
    rundir.record_exit(run_dir, code)
    return code
