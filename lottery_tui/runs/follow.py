"""What a long-lived follower of runs (the explorer's Runs view) does besides drawing: launch a plan
in a subprocess, and decide when to sync the store. Textual-free, so the policy is tested alone.

Launching goes through `python -m lottery_tui.runs.plan_command` in a subprocess: it validates the
whole plan (loading checkpoints needs torch, which the explorer never imports) and starts detached
jobs. Its output goes to a file, not a pipe: jobs it starts must never hold a follower's pipe open,
and nothing may draw over a full-screen program.
"""

from __future__ import annotations

import os
import subprocess
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path

from lottery_tui.runs.executors.local import LANES_DIR
from lottery_tui.runs.status import RunStatus

SYNC_RETRY_SECONDS = 15.0


@dataclass(frozen=True)
class LaunchOutcome:
    ok: bool
    message: str  # the launcher's first line, or its problems joined on one line


def launch_in_subprocess(
    plan: Path,
    models: list[str],
    datasets: list[str],
    executor: str,
    results_dir: Path,
    db: str | None,
) -> LaunchOutcome:
    """Validate and launch the selection of `plan`; never raises for a bad plan or an unwritable
    results folder (the outcome says what went wrong)."""
    argv = [sys.executable, "-m", "lottery_tui.runs.plan_command", str(plan)]
    argv += ["--models", ",".join(models), "--datasets", ",".join(datasets)]
    argv += ["--executor", executor, "--results-dir", str(results_dir), "--no-register"]
    if db:
        argv += ["--db", db]
    try:
        logs = results_dir / LANES_DIR
        logs.mkdir(parents=True, exist_ok=True)
        out_path = logs / f"launch-{time.strftime('%Y%m%dT%H%M%S')}-{os.getpid()}.log"
        with open(out_path, "wb") as out, open(os.devnull, "rb") as devnull:
            code = subprocess.run(
                argv, stdin=devnull, stdout=out, stderr=subprocess.STDOUT, check=False
            ).returncode
        lines = out_path.read_text(errors="replace").strip().splitlines()
    except OSError as exc:
        where = exc.filename or results_dir
        return LaunchOutcome(False, f"cannot launch: {exc.strerror or exc} ({where})")
    if code == 0:
        return LaunchOutcome(True, lines[0] if lines else "launched")
    problems = [line.strip() for line in lines if line.strip()]
    return LaunchOutcome(False, " | ".join(problems[:4]) if problems else f"launch failed ({code})")


@dataclass
class SyncPolicy:
    """Sync the store when a run's state changed since it was last synced; after a failure (a
    busy store), not again for `retry_s`. Remembers what was ingested, to announce it once."""

    retry_s: float = SYNC_RETRY_SECONDS
    synced: dict[str, str] = field(default_factory=dict)
    ingested: set[str] = field(default_factory=set)
    retry_at: float = 0.0

    def due(self, runs: list[RunStatus], now: float | None = None) -> bool:
        now = time.monotonic() if now is None else now
        stale = any(self.synced.get(r.run_id) != r.state for r in runs)
        return stale and now >= self.retry_at

    def failed(self, now: float | None = None) -> None:
        self.retry_at = (time.monotonic() if now is None else now) + self.retry_s

    def succeeded(self, runs: list[RunStatus], ingested: list[str]) -> list[str]:
        """Record a sync; returns the runs ingested now that were not announced before."""
        for run in runs:
            self.synced[run.run_id] = run.state
        fresh = [r for r in ingested if r not in self.ingested]
        self.ingested.update(ingested)
        return fresh
