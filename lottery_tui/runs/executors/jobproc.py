"""Running one probe job process (a sweep of run directories) to its end, the same way under
every executor.

The job runs in its own process group (so cancel reaches its data-loader workers too), with stdin
from /dev/null and its output appended to the first run's `job.log` (the other runs' `job.log` is
a link to it: one process, one log, each line naming its run); its PID is recorded in every run
before it starts working and its exit status after it ends; while it runs, this process (on the
job's node) rewrites each run's heartbeat (`rundir.Heartbeat`).
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
    run_dirs: Sequence[Path],
    job_command: Sequence[str],
    env: Mapping[str, str] | None = None,
    on_start: Callable[[subprocess.Popen], None] | None = None,
) -> int:
    """Run the job for the sweep `run_dirs` and wait for it; returns its exit status.

    The exit status is recorded only when the job ends by itself: a wrapper interrupted while
    waiting (a Slurm preemption) leaves no `job.exit`, so the run is not marked failed.
    """
    first = run_dirs[0]
    if (first / rundir.LOG).is_symlink():  # it followed another run in an earlier sweep:
        (first / rundir.LOG).unlink()  # its own log again, never appended to that run's
    for run_dir in run_dirs:
        for name in (rundir.EXIT, rundir.ERROR):
            (run_dir / name).unlink(missing_ok=True)
        if run_dir != first:
            _link_log(run_dir, first)
    with rundir.Heartbeat(run_dirs):  # until the job ends: readers elsewhere see it alive
        with (
            open(first / rundir.LOG, "ab") as log,
            open(os.devnull, "rb") as devnull,
        ):
            proc = subprocess.Popen(
                [*job_command, *map(str, run_dirs)],
                stdin=devnull,
                stdout=log,
                stderr=subprocess.STDOUT,
                env=None if env is None else {**os.environ, **env},
                process_group=0,
            )
        for run_dir in run_dirs:
            rundir.record_pid(run_dir, proc.pid)
        if all((p / rundir.CANCELLED).exists() for p in run_dirs):  # cancelled before the start
            proc.terminate()
        if on_start is not None:
            on_start(proc)
        code = proc.wait()
    for run_dir in run_dirs:
        rundir.record_exit(run_dir, code)
    return code


def _link_log(run_dir: Path, first: Path) -> None:
    """`run_dir/job.log` -> the sweep's log in `first` (a relative link: any node, any mount)."""
    link = run_dir / rundir.LOG
    target = Path("..") / first.name / rundir.LOG
    if link.is_symlink() and Path(os.readlink(link)) == target:
        return
    link.unlink(missing_ok=True)
    link.symlink_to(target)
