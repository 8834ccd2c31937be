"""A local lane: `python -m lottery_tui.runs.executors.lane QUEUE.json --job-command JSON`.

Runs the queued sweeps (lists of run directories) one after another, claiming each run first so
parallel lanes (one per GPU) never run the same job twice; skips runs that are done or cancelled.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from lottery_tui.runs import rundir
from lottery_tui.runs.executors.jobproc import run_one, should_start


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="lottery-lane")
    parser.add_argument("queue", type=Path)
    parser.add_argument("--job-command", required=True)
    args = parser.parse_args(argv)
    job_command = json.loads(args.job_command)
    for sweep in json.loads(args.queue.read_text()):
        run_dirs = [p for p in map(Path, sweep) if should_start(p) and rundir.claim(p)]
        if run_dirs:
            names = ", ".join(p.name for p in run_dirs)
            print(f"lane: starting {names}", flush=True)
            code = run_one(run_dirs, job_command)
            print(f"lane: {names} exited with {code}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
