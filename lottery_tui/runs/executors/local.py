"""Local executor: one detached lane process per visible GPU, each running queued sweeps in turn.

N GPUs run N sweeps at once (the datasets split across them); with no GPU a single CPU lane runs
them one by one (torch already uses every core). Lanes are started in their own session with
stdin from /dev/null, so they outlive the TUI, the CLI and an SSH drop. Lanes claim runs through
an O_EXCL file, so each run starts once whichever lane frees up first.
"""

from __future__ import annotations

import json
import os
import shutil
import subprocess
import sys
import threading
import time
from collections.abc import Sequence
from pathlib import Path

from lottery_tui.runs.executors.base import PROBE_JOB_COMMAND, Executor

LANES_DIR = ".lanes"


def visible_gpus() -> list[str]:
    """GPU ids this process may use, without importing torch: `$CUDA_VISIBLE_DEVICES` when set
    (empty or -1 means none), else the GPUs `nvidia-smi -L` lists."""
    env = os.environ.get("CUDA_VISIBLE_DEVICES")
    if env is not None:
        ids = [part.strip() for part in env.split(",") if part.strip()]
        return [] if not ids or ids[0] == "-1" else ids
    smi = shutil.which("nvidia-smi")
    if smi is None:
        return []
    try:
        out = subprocess.run([smi, "-L"], capture_output=True, text=True, timeout=10, check=False)
    except (OSError, subprocess.TimeoutExpired):
        return []
    lines = [line for line in out.stdout.splitlines() if line.startswith("GPU ")]
    return [str(i) for i in range(len(lines))]


class LocalExecutor(Executor):
    name = "local"

    def __init__(
        self,
        results_dir: Path,
        job_command: Sequence[str] = PROBE_JOB_COMMAND,
        gpus: Sequence[str] | None = None,
        cpu_lanes: int = 1,
    ) -> None:
        super().__init__(job_command)
        self.results_dir = Path(results_dir)
        self.gpus = list(visible_gpus() if gpus is None else gpus)
        self.cpu_lanes = max(1, cpu_lanes)

    @property
    def device(self) -> str:
        return "cuda" if self.gpus else "cpu"

    @property
    def slots(self) -> int:
        return len(self.gpus) or self.cpu_lanes

    def launch(self, sweeps: Sequence[list[Path]]) -> list[str | None]:
        if not sweeps:
            return []
        slots: list[str | None] = list(self.gpus) if self.gpus else [None] * self.cpu_lanes
        slots = slots[: len(sweeps)]
        lanes_dir = self.results_dir / LANES_DIR
        lanes_dir.mkdir(parents=True, exist_ok=True)
        stamp = time.strftime("%Y%m%dT%H%M%S")
        queue = lanes_dir / f"queue-{stamp}-{os.getpid()}.json"
        queue.write_text(json.dumps([[str(p) for p in sweep] for sweep in sweeps]))
        lanes = []
        for index, gpu in enumerate(slots):
            log_path = lanes_dir / f"lane-{stamp}-{os.getpid()}-{index}.log"
            argv = [sys.executable, "-m", "lottery_tui.runs.executors.lane", str(queue)]
            argv += ["--job-command", json.dumps(list(self.job_command))]
            env = dict(os.environ)
            if gpu is not None:
                env["CUDA_VISIBLE_DEVICES"] = gpu
            with open(log_path, "ab") as log, open(os.devnull, "rb") as devnull:
                proc = subprocess.Popen(
                    argv,
                    stdin=devnull,
                    stdout=log,
                    stderr=subprocess.STDOUT,
                    env=env,
                    start_new_session=True,
                    close_fds=True,
                )
            # Reap the lane when it ends so a long-lived TUI leaves no zombies; this neither
            # keeps the lane alive nor ties it to us.
            threading.Thread(target=proc.wait, daemon=True).start()
            lanes.append(str(proc.pid) if gpu is None else f"{proc.pid}@gpu{gpu}")
        handle = "lanes " + ",".join(lanes)
        return [handle] * len(sweeps)
