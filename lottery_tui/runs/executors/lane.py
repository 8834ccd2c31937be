"""A local lane: `python -m lottery_tui.runs.executors.lane QUEUE.json --job-command JSON`.

Runs the queued run directories one after another, claiming each first so parallel lanes (one per
GPU) never run the same job twice; skips runs that are done or cancelled.
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
    for text in json.loads(args.queue.read_text()):
        run_dir = Path(text)
        if should_start(run_dir) and rundir.claim(run_dir):
            print(f"lane: starting {run_dir.name}", flush=True)
            code = run_one(run_dir, job_command)
            print(f"lane: {run_dir.name} exited with {code}", flush=True)
    return 0


if __name__ == "__main__":
    sys.exit(main())
