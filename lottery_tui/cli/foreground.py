"""The foreground executor of `lottery probe` without `--plan`: the one-model plan's runs are
launched like a plan's (`runs.launch.launch_plan`: spec, launch record, sweeps) and computed here,
in this process, with a progress line on stderr and each run's log in its `job.log`.

It imports the probe engine (torch) in `launch` only, so it lives with the CLI, not in `runs/`.
"""

from __future__ import annotations

import os
import sys
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lottery_tui.probe.contract import JobSpec
from lottery_tui.probe.result import RunResult
from lottery_tui.runs import rundir
from lottery_tui.runs.executors.base import Executor
from lottery_tui.runs.launch import FOREGROUND
from lottery_tui.safe_text import safe_text


class ForegroundExecutor(Executor):
    """Runs each run of its sweeps in turn, here and now (a foreground plan has one model, so a
    sweep is one run), calling `on_done` after each. A failure or an interrupt is recorded as
    the run's exit and raised: `launch_plan` then drops the launch records of the runs not
    started, and the failed one stays listed as failed."""

    name = FOREGROUND

    def __init__(self, on_done: Callable[[Path, RunResult], None]) -> None:
        super().__init__(())
        self.on_done = on_done

    @property
    def device(self) -> str:
        import torch

        return "cuda" if torch.cuda.is_available() else "cpu"

    def launch(self, sweeps: Sequence[list[Path]]) -> list[str | None]:
        bar = ProgressBar()
        for run_dir in (run_dir for sweep in sweeps for run_dir in sweep):
            rundir.record_pid(run_dir, os.getpid())
            try:
                result = self._run(run_dir, bar)
            except BaseException as exc:
                rundir.record_exit(run_dir, 130 if isinstance(exc, KeyboardInterrupt) else 1)
                raise
            rundir.record_exit(run_dir, 0)
            self.on_done(run_dir, result)
        return [None] * len(sweeps)

    @staticmethod
    def _run(run_dir: Path, bar: ProgressBar) -> RunResult:
        from lottery_tui.probe.engine import LogLines, run_job

        spec = JobSpec.read(run_dir)  # as the job process reads it
        # The heartbeat, as a detached job's: a status read from another host sees it alive.
        with rundir.Heartbeat([run_dir]), open(run_dir / rundir.LOG, "a", encoding="utf-8") as log:
            lines = LogLines(log)
            return run_job(spec, run_dir, on_event=lambda e: (bar(e), lines(e)))


class ProgressBar:
    """One status line on stderr: dataset, done/total, throughput, ETA (escaped: the message
    may quote a file name)."""

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
        left = f"ETA {duration(eta)}" if eta is not None else ""
        note = f"  {event['message']}" if event["message"] else ""
        line = safe_text(f"[{event['dataset']}] {bar} {done:,}/{total:,} {speed} {left}{note}")
        if self.tty:
            end = "\n" if event["event"] in ("done", "failed") else ""
            print(f"\r\033[K{line}", end=end, file=sys.stderr, flush=True)
        elif event["event"] != "progress" or time.monotonic() - self.last_plain > 10:
            self.last_plain = time.monotonic()
            print(line, file=sys.stderr, flush=True)


def duration(seconds: float) -> str:
    seconds = int(seconds)
    return (
        f"{seconds // 3600}h{seconds % 3600 // 60:02d}m"
        if seconds >= 3600
        else (f"{seconds // 60}m{seconds % 60:02d}s")
    )
